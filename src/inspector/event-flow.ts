import type { WireEvent } from './events.ts';
import type { InspectorProxy } from './proxy.ts';

/** Takes a source's events, in the order the source observed them. */
export interface EventConsumer {
  /** One event; called synchronously by the source, so the consumer must not do its work here. */
  push(event: WireEvent): void;
}

/**
 * A live source of {@link WireEvent}s that owns its flow control: it hands `data` events to its
 * consumer only while the bytes handed over and not yet {@link consumed} stay within its bound,
 * and reports what it could not hand over as `gap` events. So a consumer that falls behind, or
 * stops, costs a bounded amount of memory and never slows the traffic the source observes.
 */
export interface EventSource extends InspectorProxy {
  /**
   * Starts handing events to `consumer`: first those observed since the source started, then
   * each as it comes. Call once.
   */
  deliverTo(consumer: EventConsumer): void;
  /** The consumer is done with `bytes` bytes of `data` events: the source may hand that much more over. */
  consumed(bytes: number): void;
  /**
   * A barrier: resolves once every event the source has observed so far, including what had
   * reached its sockets by the time of the call, went to the consumer (or at once once the
   * source has ended).
   */
  sync(): Promise<void>;
}
