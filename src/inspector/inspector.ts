import type { Writable } from 'node:stream';
import { now, type Endpoint, type FaultOptions, type FramingMode, type WireEvent } from './events.ts';
import { EventPipeline } from './pipeline.ts';
import { afterPendingInput, startProxy, type InspectorProxy } from './proxy.ts';
import { startProxyThread, type ProxyThread } from './proxy-thread.ts';
import { SessionModel, type Row } from './session-model.ts';
import { TraceWriter } from './trace.ts';
import { PlainView } from './views/plain.ts';
import type { TypeFilter } from './views/row-filter.ts';
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
  /** Draw keep-alive `ping`/`pong` rows in the views (default: hidden and counted). The model and the trace keep them. */
  showKeepAlive?: boolean;
  /** The views show only the rows this filter passes (the TUI can change it). The model and the trace keep every row. */
  typeFilter?: TypeFilter;
  /** Every event after the model applied it, with the rows it added. */
  onApplied?: (event: WireEvent, rows: Row[]) => void;
  /** Undecoded bytes allowed to wait before the view skips some with a `gap` (default 32 MiB). */
  maxQueuedBytes?: number;
  /**
   * Most ms {@link Inspector.stop} takes: closing the proxy, then letting the diagram catch up.
   * What is still undrawn then is dropped with a notice. Default {@link STOP_GRACE_MS}.
   */
  stopGraceMs?: number;
  /**
   * Run the proxy in its own worker thread (default true), so forwarding never waits for the
   * diagram. `false` keeps everything on the main thread (the pipeline then yields to I/O).
   */
  proxyThread?: boolean;
}

/** Default of {@link InspectorOptions.stopGraceMs}, in ms. */
export const STOP_GRACE_MS = 3_000;

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
  /**
   * Resolves when `predicate(model)` holds (checked after each event); rejects after `timeoutMs`,
   * or with the signal's reason as soon as `signal` aborts.
   */
  waitFor(predicate: (model: SessionModel) => boolean, timeoutMs: number, what: string, signal?: AbortSignal): Promise<void>;
  /**
   * Stops accepting, closes every connection, applies what is left, closes the trace and (plain
   * view) prints the checklist and counters. Bounded by `stopGraceMs`: after heavy traffic the
   * events the diagram had not caught up with are dropped (and counted in {@link undrawn}). The
   * TUI stays up: close it with `tui.destroy()`.
   */
  stop(): Promise<void>;
  /** After a stop that ran out of time: the events (and their data bytes) left undrawn and unrecorded. */
  readonly undrawn: { events: number; bytes: number } | undefined;
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
  const plain = options.view === 'plain' ? new PlainView(model, options.output ?? process.stdout, { color: options.color, showKeepAlive: options.showKeepAlive, typeFilter: options.typeFilter }) : undefined;
  let tui: TuiView | undefined;
  const waiters = new Set<() => void>();
  const threaded = options.proxyThread ?? true;
  const maxQueuedBytes = options.maxQueuedBytes ?? 32 * 1024 * 1024;
  const stopGraceMs = options.stopGraceMs ?? STOP_GRACE_MS;
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
      proxyThread = await startProxyThread(
        { listen, target: options.target, faults: options.faults, helloTimeoutMs: options.helloTimeoutMs, maxInFlightBytes: maxQueuedBytes, closeGraceMs: stopGraceMs },
        onEvent,
      );
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
    tui = createTuiView(model, {
      title: options.title ?? `chatlab inspect ${proxy.address.host}:${proxy.address.port} → ${options.target.host}:${options.target.port}`,
      showKeepAlive: options.showKeepAlive,
      typeFilter: options.typeFilter,
    });
  }

  let stopped: Promise<void> | undefined;
  let undrawn: { events: number; bytes: number } | undefined;
  return {
    get undrawn() {
      return undrawn;
    },
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
    waitFor(predicate, timeoutMs, what, signal) {
      return new Promise((resolve, reject) => {
        const done = (): void => {
          waiters.delete(check);
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        };
        const check = (): void => {
          if (!predicate(model)) return;
          done();
          resolve();
        };
        const onAbort = (): void => {
          done();
          reject(signal?.reason as Error);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        waiters.add(check);
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        check();
      });
    },
    stop() {
      stopped ??= (async () => {
        const deadline = performance.now() + stopGraceMs;
        const left = (): number => Math.max(0, deadline - performance.now());
        await proxy.close();
        if (!(await settlesWithin(pipeline.idle(), left()))) {
          undrawn = pipeline.abandon();
          const notice = `stopped before the diagram caught up: ${undrawn.events} events (${undrawn.bytes} bytes) not drawn${recorder ? ' nor recorded' : ''}`;
          plain?.print(notice);
          tui?.setStatus(notice);
        }
        await recorder?.close();
        if (plain) {
          plain.printSummary();
          // An output nobody reads must not hold the stop up either.
          await settlesWithin(plain.flushed(), Math.max(left(), 500));
        }
        tui?.addRows([]);
      })();
      return stopped;
    },
  };
}

/** Whether `promise` settles within `ms` (its outcome is not awaited further after that). */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void promise.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}
