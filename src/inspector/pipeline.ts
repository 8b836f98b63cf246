import type { EventConsumer, EventSource } from './event-flow.ts';
import type { WireEvent } from './events.ts';
import type { SessionModel } from './session-model.ts';
import type { EventSink } from './sinks.ts';

/** Options of {@link EventPipeline}. */
export interface PipelineOptions {
  /** Longest stretch of model work per macrotask, in ms (default 8). */
  budgetMs?: number;
}

/**
 * The consumer between the event source and the outputs. The source hands events over
 * synchronously; the pipeline applies them to the model in small time-boxed batches on later
 * ticks, so socket callbacks and keys always get their turn, hands each event and its rows to
 * every sink, and only then credits the event's data bytes back to the source. The source bounds
 * what it hands over by those credits, so the pipeline's queue is bounded by the source's bound,
 * however slow a sink is.
 */
export class EventPipeline implements EventConsumer {
  private queue: WireEvent[] = [];
  private head = 0;
  private queuedBytes = 0;
  private scheduled = false;
  private abandoned = false;
  private idleResolvers: Array<() => void> = [];
  private readonly budgetMs: number;

  /**
   * @param source where events come from; credited with each data event's bytes once applied.
   * @param sinks the outputs, called in this order after each event.
   */
  constructor(
    private readonly model: SessionModel,
    private readonly source: Pick<EventSource, 'consumed'>,
    private readonly sinks: readonly EventSink[],
    options: PipelineOptions = {},
  ) {
    this.budgetMs = options.budgetMs ?? 8;
  }

  /** Events waiting to be applied, and the bytes of their data. */
  get backlog(): { events: number; bytes: number } {
    return { events: this.queue.length - this.head, bytes: this.queuedBytes };
  }

  /** Queues one event (called synchronously by the source). */
  push(event: WireEvent): void {
    if (this.abandoned) return;
    this.queue.push(event);
    if (event.kind === 'data' || event.kind === 'datagram') this.queuedBytes += event.bytes.length;
    this.schedule();
  }

  /**
   * Drops every event not applied yet (the inspector is stopping and the view is too far behind
   * to catch up in time), settles `idle()`, and ignores anything pushed later. Returns how many
   * events and data bytes (skipped ones included) were left undrawn.
   */
  abandon(): { events: number; bytes: number } {
    let bytes = 0;
    for (let i = this.head; i < this.queue.length; i++) {
      const event = this.queue[i] as WireEvent;
      if (event.kind === 'data' || event.kind === 'datagram') bytes += event.bytes.length;
      else if (event.kind === 'gap') bytes += event.bytes;
    }
    const events = this.queue.length - this.head;
    this.abandoned = true;
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    this.settle();
    return { events, bytes };
  }

  /** Resolves once every queued event has been applied. */
  idle(): Promise<void> {
    if (this.abandoned || this.head === this.queue.length) return Promise.resolve();
    return new Promise((resolve) => this.idleResolvers.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.drain);
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    if (this.abandoned) return;
    const deadline = performance.now() + this.budgetMs;
    while (this.head < this.queue.length) {
      this.apply(this.queue[this.head++] as WireEvent);
      if (performance.now() > deadline) break;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.head < this.queue.length) {
      this.schedule();
      return;
    }
    this.queue = [];
    this.head = 0;
    this.settle();
  };

  private apply(event: WireEvent): void {
    const rows = this.model.apply(event);
    for (const sink of this.sinks) sink.applied(event, rows);
    if (event.kind === 'data' || event.kind === 'datagram') {
      this.queuedBytes -= event.bytes.length;
      this.source.consumed(event.bytes.length);
    }
  }

  private settle(): void {
    const resolvers = this.idleResolvers;
    this.idleResolvers = [];
    for (const resolve of resolvers) resolve();
  }
}
