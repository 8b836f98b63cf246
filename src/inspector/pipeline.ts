import type { WireEvent } from './events.ts';
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
  private queuedBytes = 0;
  private scheduled = false;
  private readonly gaps = new Map<string, { conn: number; dir: 'c2s' | 's2c'; bytes: number }>();
  private idleResolvers: Array<() => void> = [];
  private readonly maxQueuedBytes: number;
  private readonly budgetMs: number;

  constructor(
    private readonly model: SessionModel,
    private readonly options: PipelineOptions,
  ) {
    this.maxQueuedBytes = options.maxQueuedBytes ?? 32 * 1024 * 1024;
    this.budgetMs = options.budgetMs ?? 8;
  }

  /** Events waiting to be applied. */
  get backlog(): number {
    return this.queue.length - this.head;
  }

  /** Queues one event (called synchronously by the proxy). */
  push(event: WireEvent): void {
    if (event.kind === 'data') {
      const key = `${event.conn}:${event.dir}`;
      if (this.queuedBytes + event.bytes.length > this.maxQueuedBytes) {
        const gap = this.gaps.get(key) ?? { conn: event.conn, dir: event.dir, bytes: 0 };
        gap.bytes += event.bytes.length;
        this.gaps.set(key, gap);
        return;
      }
      this.flushGap(key, event.t);
      this.queuedBytes += event.bytes.length;
    } else if ('conn' in event) {
      this.flushGap(`${event.conn}:c2s`, event.t);
      this.flushGap(`${event.conn}:s2c`, event.t);
    }
    this.queue.push(event);
    this.schedule();
  }

  /** Resolves once every queued event has been applied. */
  idle(): Promise<void> {
    if (this.backlog === 0 && this.gaps.size === 0) return Promise.resolve();
    for (const key of [...this.gaps.keys()]) this.flushGap(key, this.model.lastT ?? 0);
    return new Promise((resolve) => this.idleResolvers.push(resolve));
  }

  private flushGap(key: string, t: number): void {
    const gap = this.gaps.get(key);
    if (!gap) return;
    this.gaps.delete(key);
    this.queue.push({ kind: 'gap', t, conn: gap.conn, dir: gap.dir, bytes: gap.bytes });
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    const deadline = performance.now() + this.budgetMs;
    while (this.head < this.queue.length) {
      const event = this.queue[this.head++] as WireEvent;
      if (event.kind === 'data') this.queuedBytes -= event.bytes.length;
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
