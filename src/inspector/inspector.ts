import type { Writable } from 'node:stream';
import { now, type Endpoint, type FaultOptions, type FramingMode, type WireEvent } from './events.ts';
import { EventPipeline } from './pipeline.ts';
import { afterPendingInput, startProxy, type InspectorProxy } from './proxy.ts';
import { startProxyThread, type ProxyThread } from './proxy-thread.ts';
import { SessionModel, type Row } from './session-model.ts';
import { TraceWriter } from './trace.ts';
import { PlainView } from './views/plain.ts';
import type { TuiView } from './views/tui.ts';

/** Which view draws the session. `none` keeps only the model (tests, benchmarks, recording). */
export type ViewKind = 'tui' | 'plain' | 'none';

/** Options of {@link startInspector}. */
export interface InspectorOptions {
  /** Where clients connect (default 127.0.0.1, port 0 = any free port). */
  listen?: { host?: string; port: number };
  /** The server to forward to. */
  target: Endpoint;
  framing?: FramingMode;
  /** Add a row per TCP read to the diagram. */
  showReads?: boolean;
  faults?: FaultOptions;
  /**
   * Note on the diagram when the server sends nothing (no hello) within this many ms of accepting
   * a connection. Default: off (lesson servers before the hello step are silent on purpose).
   */
  helloTimeoutMs?: number;
  /** Write every event to this JSONL trace file. */
  record?: string;
  /** Default `none`. */
  view?: ViewKind;
  /** Where the plain view writes (default stdout). */
  output?: Writable;
  /** Colours in the plain view (default: when the output is a TTY). */
  color?: boolean;
  /** Title of the TUI window. */
  title?: string;
  /** Every event after the model applied it, with the rows it added. */
  onApplied?: (event: WireEvent, rows: Row[]) => void;
  /** Undecoded bytes allowed to wait before the view skips some with a `gap` (default 32 MiB). */
  maxQueuedBytes?: number;
  /**
   * Run the proxy in its own worker thread (default true), so forwarding never waits for the
   * diagram. `false` keeps everything on the main thread (the pipeline then yields to I/O).
   */
  proxyThread?: boolean;
}

/** A running inspector: proxy + model + views (+ recorder). */
export interface Inspector {
  /** Where clients should connect. */
  readonly address: Endpoint;
  readonly target: Endpoint;
  readonly model: SessionModel;
  readonly proxy: InspectorProxy;
  readonly plain?: PlainView;
  readonly tui?: TuiView;
  /**
   * A barrier: resolves once every event the proxy has seen so far has reached the model, the
   * views and the recorder. "Seen" includes what had already arrived at the proxy's sockets when
   * idle() was called, still unread or on its way from the proxy thread: after a client got an
   * answer through the inspector, `await idle()` finds that answer (and the request) drawn.
   */
  idle(): Promise<void>;
  /** Resolves when `predicate(model)` holds (checked after each event), or rejects after `timeoutMs`. */
  waitFor(predicate: (model: SessionModel) => boolean, timeoutMs: number, what: string): Promise<void>;
  /**
   * Stops accepting, closes every connection, applies what is left, closes the trace and (plain
   * view) prints the checklist and counters. The TUI stays up: close it with `tui.destroy()`.
   */
  stop(): Promise<void>;
}

/**
 * Starts the inspector: a transparent proxy on `listen` in front of `target`, whose events feed
 * the I/O-free {@link SessionModel}, the chosen view and the optional trace recorder.
 */
export async function startInspector(options: InspectorOptions): Promise<Inspector> {
  const framing = options.framing ?? 'auto';
  const model = new SessionModel({ framing, showReads: options.showReads });
  const recorder = options.record ? new TraceWriter(options.record) : undefined;
  if (recorder) await recorder.opened;
  const plain = options.view === 'plain' ? new PlainView(model, options.output ?? process.stdout, { color: options.color }) : undefined;
  let tui: TuiView | undefined;
  const waiters = new Set<() => void>();
  const threaded = options.proxyThread ?? true;
  const maxQueuedBytes = options.maxQueuedBytes ?? 32 * 1024 * 1024;
  let proxyThread: ProxyThread | undefined;
  let unacked = 0;
  const pipeline = new EventPipeline(model, {
    // With a proxy thread, the thread itself bounds what is in flight and turns the excess into gaps.
    maxQueuedBytes: threaded ? Number.POSITIVE_INFINITY : maxQueuedBytes,
    onApplied: (event, rows) => {
      if (event.kind === 'data' && proxyThread) {
        // Acknowledge decoded bytes once per batch, so the proxy thread may send more.
        if (unacked === 0) {
          setImmediate(() => {
            proxyThread?.ack(unacked);
            unacked = 0;
          });
        }
        unacked += event.bytes.length;
      }
      recorder?.write(event, rows);
      if (rows.length > 0) {
        plain?.addRows(rows);
        tui?.addRows(rows);
      }
      options.onApplied?.(event, rows);
      // A check that holds deletes itself; a Set allows that during iteration.
      for (const check of waiters) check();
    },
  });
  // Events that arrive before the `listening` event is queued wait here, so it stays first.
  let early: WireEvent[] | undefined = [];
  const onEvent = (event: WireEvent): void => {
    if (early) early.push(event);
    else pipeline.push(event);
  };
  let proxy: InspectorProxy;
  try {
    const listen = options.listen ?? { port: 0 };
    if (threaded) {
      proxyThread = await startProxyThread({ listen, target: options.target, faults: options.faults, helloTimeoutMs: options.helloTimeoutMs, maxInFlightBytes: maxQueuedBytes }, onEvent);
      proxy = proxyThread;
    } else {
      proxy = await startProxy({ listen, target: options.target, faults: options.faults, helloTimeoutMs: options.helloTimeoutMs, onEvent });
    }
  } catch (error) {
    await recorder?.close().catch(() => undefined);
    throw error;
  }
  pipeline.push({ kind: 'listening', t: now(), listen: proxy.address, target: options.target, framing, ...(options.faults && Object.keys(options.faults).length > 0 ? { faults: options.faults } : {}) });
  for (const event of early) pipeline.push(event);
  early = undefined;
  if (options.view === 'tui') {
    const { createTuiView } = await import('./views/tui.ts');
    // The view starts from the rows the model already has, then follows new ones.
    tui = createTuiView(model, { title: options.title ?? `chatlab inspect ${proxy.address.host}:${proxy.address.port} → ${options.target.host}:${options.target.port}` });
  }

  let stopped: Promise<void> | undefined;
  return {
    address: proxy.address,
    target: options.target,
    model,
    proxy,
    plain,
    tui,
    async idle() {
      // First the events still in the proxy (a round trip to its thread, answered after them),
      // then the ones queued here.
      if (proxyThread) await proxyThread.sync();
      else await afterPendingInput();
      await pipeline.idle();
    },
    waitFor(predicate, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!predicate(model)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    stop() {
      stopped ??= (async () => {
        await proxy.close();
        await pipeline.idle();
        await recorder?.close();
        if (plain) {
          plain.printSummary();
          await plain.flushed();
        }
        tui?.addRows([]);
      })();
      return stopped;
    },
  };
}
