import { Worker } from 'node:worker_threads';
import type { Endpoint, FaultOptions, WireEvent } from './events.ts';
import type { InspectorProxy, ProxyOptions } from './proxy.ts';

/** What the proxy thread is started with. */
export interface ProxyThreadOptions {
  listen: { host?: string; port: number };
  target: Endpoint;
  faults?: FaultOptions;
  /** See {@link ProxyOptions.helloTimeoutMs}. */
  helloTimeoutMs?: number;
  /** Undecoded bytes allowed in flight to the main thread before data becomes `gap` events. */
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

/** A proxy running in its own thread; see {@link startProxyThread}. */
export interface ProxyThread extends InspectorProxy {
  /** Tells the thread that `bytes` of data events were decoded (frees room in flight). */
  ack(bytes: number): void;
  /**
   * A barrier: resolves once every event the thread has observed so far, including what had
   * reached its sockets by the time of the call, went through `onEvent` (or at once when the
   * thread has ended).
   */
  sync(): Promise<void>;
}

/**
 * Starts the proxy in a worker thread, so forwarding never waits for decoding or drawing: on a
 * machine with two cores the chat keeps its speed while the diagram catches up (or, past
 * `maxInFlightBytes` behind, skips with a `gap`). Events arrive in order through `onEvent`,
 * with `bytes` as Buffers again.
 */
export function startProxyThread(options: ProxyThreadOptions, onEvent: (event: WireEvent) => void): Promise<ProxyThread> {
  const worker = new Worker(new URL('./proxy-worker.mjs', import.meta.url), { workerData: options });
  let open = 0;
  let closing: Promise<void> | undefined;
  let resolveClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let ended = false;
  let nextSync = 1;
  const syncs = new Map<number, () => void>();
  const end = (): void => {
    ended = true;
    for (const resolve of syncs.values()) resolve();
    syncs.clear();
    resolveClosed();
  };
  return new Promise((resolve, reject) => {
    worker.on('error', (error) => {
      reject(error);
      end();
    });
    worker.on('exit', () => end());
    worker.on('message', (reply: ProxyThreadReply) => {
      switch (reply.type) {
        case 'ready':
          resolve({
            address: reply.address,
            get openConnections() {
              return open;
            },
            ack: (bytes) => worker.postMessage({ type: 'ack', bytes } satisfies ProxyThreadMessage),
            sync() {
              if (ended) return Promise.resolve();
              const id = nextSync++;
              return new Promise<void>((done) => {
                syncs.set(id, done);
                worker.postMessage({ type: 'sync', id } satisfies ProxyThreadMessage);
              });
            },
            close() {
              closing ??= (async () => {
                worker.postMessage({ type: 'close' } satisfies ProxyThreadMessage);
                // Whatever the thread is busy with, closing is bounded: terminating it closes its sockets.
                const terminate = setTimeout(() => void worker.terminate(), options.closeGraceMs ?? PROXY_CLOSE_GRACE_MS);
                await closed;
                clearTimeout(terminate);
              })();
              return closing;
            },
          });
          break;
        case 'failed': {
          const error = Object.assign(new Error(reply.message), reply.code ? { code: reply.code } : {});
          reject(error);
          break;
        }
        case 'events':
          open = reply.open;
          for (const event of reply.events) {
            // Structured cloning turned the Buffers into plain Uint8Arrays.
            if (event.kind === 'data') event.bytes = Buffer.from(event.bytes.buffer, event.bytes.byteOffset, event.bytes.byteLength);
            onEvent(event);
          }
          break;
        case 'synced':
          syncs.get(reply.id)?.();
          syncs.delete(reply.id);
          break;
        case 'closed':
          open = 0;
          end();
          break;
      }
    });
  });
}
