import type { WireEvent } from './events.ts';
import { GapTracker } from './gap-tracker.ts';
import type { Row, SessionModel } from './session-model.ts';

/** Options of {@link EventPipeline}. */
export interface PipelineOptions {
  /** Called after the model applied each event, with the rows it added. */
  onApplied: (event: WireEvent, rows: Row[]) => void;
  /** Bytes of undecoded data allowed to wait before new data is skipped (default 32 MiB). */
  maxQueuedBytes?: number;
  /** Longest stretch of model work per macrotask, in ms (default 8). */
  budgetMs?: number;
}

/**
 * Decouples the proxy from the diagram. The proxy forwards first and only then hands the event
 * over; the pipeline applies events to the model in small time-boxed batches on later ticks, so
 * socket callbacks always get their turn. If decoding falls more than `maxQueuedBytes` behind,
 * new bytes are counted instead of queued and reported as one `gap` event per direction:
 * the view batches and skips, the chat is never slowed.
 */
export class EventPipeline {
  private queue: WireEvent[] = [];
  private head = 0;
  private scheduled = false;
  private abandoned = false;
  private idleResolvers: Array<() => void> = [];
  private readonly gaps: GapTracker;
  private readonly budgetMs: number;
  private readonly enqueue = (event: WireEvent): void => {
    this.queue.push(event);
    this.schedule();
  };

  constructor(
    private readonly model: SessionModel,
    private readonly options: PipelineOptions,
  ) {
    this.gaps = new GapTracker(options.maxQueuedBytes ?? 32 * 1024 * 1024);
    this.budgetMs = options.budgetMs ?? 8;
  }

  /** Events waiting to be applied. */
  get backlog(): number {
    return this.queue.length - this.head;
  }

  /** Queues one event (called synchronously by the proxy). */
  push(event: WireEvent): void {
    if (this.abandoned) return;
    this.gaps.admit(event, this.enqueue);
  }

  /**
   * Drops every event not applied yet (the inspector is stopping and the view is too far behind
   * to catch up in time), settles `idle()`, and ignores anything pushed later. Returns how many
   * events and data bytes were left undrawn.
   */
  abandon(): { events: number; bytes: number } {
    let bytes = 0;
    for (let i = this.head; i < this.queue.length; i++) {
      const event = this.queue[i] as WireEvent;
      if (event.kind === 'data') bytes += event.bytes.length;
      else if (event.kind === 'gap') bytes += event.bytes;
    }
    const events = this.backlog;
    this.abandoned = true;
    this.queue = [];
    this.head = 0;
    const resolvers = this.idleResolvers;
    this.idleResolvers = [];
    for (const resolve of resolvers) resolve();
    return { events, bytes };
  }

  /** Resolves once every queued event has been applied. */
  idle(): Promise<void> {
    if (this.abandoned || (this.backlog === 0 && !this.gaps.pending)) return Promise.resolve();
    this.gaps.takeAll(this.model.lastT ?? 0, this.enqueue);
    return new Promise((resolve) => this.idleResolvers.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    if (this.abandoned) return;
    const deadline = performance.now() + this.budgetMs;
    while (this.head < this.queue.length) {
      const event = this.queue[this.head++] as WireEvent;
      if (event.kind === 'data') this.gaps.release(event.bytes.length);
      const rows = this.model.apply(event);
      this.options.onApplied(event, rows);
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
    const resolvers = this.idleResolvers;
    this.idleResolvers = [];
    for (const resolve of resolvers) resolve();
  }
}
