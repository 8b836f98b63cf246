import { Worker } from 'node:worker_threads';
import type { EventConsumer, EventSource } from './event-flow.ts';
import type { Endpoint, FaultOptions, WireEvent } from './events.ts';
import type { ProxyOptions } from './proxy.ts';

/** What the proxy thread is started with. */
export interface ProxyThreadOptions {
  listen: { host?: string; port: number };
  target: Endpoint;
  faults?: FaultOptions;
  /** See {@link ProxyOptions.helloTimeoutMs}. */
  helloTimeoutMs?: number;
  /** Bytes of data events handed over and not yet consumed before new data becomes `gap` events. */
  maxInFlightBytes: number;
  /**
   * Most ms `close()` waits for the thread to tear its connections down and say so; then the
   * thread is terminated. Default {@link PROXY_CLOSE_GRACE_MS}.
   */
  closeGraceMs?: number;
}

/** Default of {@link ProxyThreadOptions.closeGraceMs}. */
export const PROXY_CLOSE_GRACE_MS = 2_000;

/** Messages from the main thread to the proxy thread. */
export type ProxyThreadMessage =
  /** The consumer is done with `bytes` bytes of data events (frees room in flight). */
  | { type: 'ack'; bytes: number }
  /** Asks for a `synced` answer once every event observed so far has been posted. */
  | { type: 'sync'; id: number }
  | { type: 'close' };

/** Messages from the proxy thread to the main thread. */
export type ProxyThreadReply =
  | { type: 'ready'; address: Endpoint }
  | { type: 'failed'; code?: string; message: string }
  | { type: 'events'; events: WireEvent[]; open: number }
  /** Answers `sync` `id`: every event observed before it was posted ahead of this answer. */
  | { type: 'synced'; id: number }
  | { type: 'closed' };

/**
 * The inspector's event source: the proxy (proxy.ts) running in a worker thread, so forwarding
 * never waits for decoding or drawing. On a machine with two cores the chat keeps its speed
 * while the diagram catches up or, past `maxInFlightBytes` behind, skips with a `gap`.
 *
 * Flow control lives here, in both halves: the worker bounds the data bytes in flight (a
 * `GapTracker` in proxy-worker.ts), and this half batches the consumer's
 * {@link consumed} credits into one `ack` message per turn. Events reach the consumer in order,
 * with `bytes` as Buffers again; those that arrive before {@link deliverTo} wait (bounded too,
 * since nothing is credited back meanwhile). Start it with {@link startProxyThread}.
 */
export class ProxyThread implements EventSource {
  private readonly worker: Worker;
  private consumer: EventConsumer | undefined;
  private held: WireEvent[] = [];
  private boundAddress: Endpoint | undefined;
  private open = 0;
  private unacked = 0;
  private ended = false;
  private closing: Promise<void> | undefined;
  private nextSync = 1;
  private readonly syncs = new Map<number, () => void>();
  private readonly endWaiters: Array<() => void> = [];
  private readonly startWaiter: { resolve(): void; reject(error: Error): void };
  /** Settles once the thread listens (or failed to). */
  readonly started: Promise<void>;

  constructor(private readonly options: ProxyThreadOptions) {
    let waiter: { resolve(): void; reject(error: Error): void } | undefined;
    this.started = new Promise((resolve, reject) => (waiter = { resolve, reject }));
    this.startWaiter = waiter as { resolve(): void; reject(error: Error): void };
    this.worker = new Worker(new URL('./proxy-worker.mjs', import.meta.url), { workerData: options });
    this.worker.on('message', this.onReply);
    this.worker.on('error', this.onWorkerError);
    this.worker.on('exit', this.onWorkerExit);
  }

  /** Where clients connect (known once {@link started} resolved). */
  get address(): Endpoint {
    if (!this.boundAddress) throw new Error('the proxy thread is not listening yet');
    return this.boundAddress;
  }

  get openConnections(): number {
    return this.open;
  }

  deliverTo(consumer: EventConsumer): void {
    if (this.consumer) throw new Error('the proxy thread already delivers to a consumer');
    this.consumer = consumer;
    const held = this.held;
    this.held = [];
    for (const event of held) consumer.push(event);
  }

  consumed(bytes: number): void {
    if (this.unacked === 0) setImmediate(this.sendAck);
    this.unacked += bytes;
  }

  /** {@inheritDoc EventSource.sync} Credits given before the call reach the thread before it answers. */
  sync(): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.sendAck();
    const id = this.nextSync++;
    return new Promise<void>((done) => {
      this.syncs.set(id, done);
      this.post({ type: 'sync', id });
    });
  }

  close(): Promise<void> {
    this.closing ??= this.closeThread();
    return this.closing;
  }

  private async closeThread(): Promise<void> {
    if (this.ended) return;
    const ended = new Promise<void>((resolve) => this.endWaiters.push(resolve));
    this.post({ type: 'close' });
    // Whatever the thread is busy with, closing is bounded: terminating it closes its sockets.
    const terminate = setTimeout(this.terminate, this.options.closeGraceMs ?? PROXY_CLOSE_GRACE_MS);
    await ended;
    clearTimeout(terminate);
  }

  private readonly terminate = (): void => {
    void this.worker.terminate();
  };

  /** Sends the credits gathered this turn as one message (one per event would flood the thread). */
  private readonly sendAck = (): void => {
    const bytes = this.unacked;
    this.unacked = 0;
    if (bytes > 0) this.post({ type: 'ack', bytes });
  };

  private post(message: ProxyThreadMessage): void {
    if (!this.ended) this.worker.postMessage(message);
  }

  private readonly onReply = (reply: ProxyThreadReply): void => {
    switch (reply.type) {
      case 'ready':
        this.boundAddress = reply.address;
        this.startWaiter.resolve();
        break;
      case 'failed':
        this.startWaiter.reject(Object.assign(new Error(reply.message), reply.code ? { code: reply.code } : {}));
        break;
      case 'events':
        this.open = reply.open;
        for (const event of reply.events) this.hand(event);
        break;
      case 'synced':
        this.syncs.get(reply.id)?.();
        this.syncs.delete(reply.id);
        break;
      case 'closed':
        this.open = 0;
        this.end();
        break;
    }
  };

  private hand(event: WireEvent): void {
    // Structured cloning turned the Buffers into plain Uint8Arrays.
    if (event.kind === 'data') event.bytes = Buffer.from(event.bytes.buffer, event.bytes.byteOffset, event.bytes.byteLength);
    if (this.consumer) this.consumer.push(event);
    else this.held.push(event);
  }

  private readonly onWorkerError = (error: Error): void => {
    this.startWaiter.reject(error);
    this.end();
  };

  private readonly onWorkerExit = (): void => {
    this.end();
  };

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const resolve of this.syncs.values()) resolve();
    this.syncs.clear();
    for (const resolve of this.endWaiters) resolve();
  }
}

/** Starts the proxy thread; resolves once it listens (rejects with the listen error, e.g. EADDRINUSE). */
export async function startProxyThread(options: ProxyThreadOptions): Promise<ProxyThread> {
  const thread = new ProxyThread(options);
  await thread.started;
  return thread;
}
