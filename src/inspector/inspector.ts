import type { Writable } from 'node:stream';
import type { EventSource } from './event-flow.ts';
import { now, type Endpoint, type FaultOptions, type FramingMode, type Transport } from './events.ts';
import { ModelWaiters } from './model-waiters.ts';
import { EventPipeline } from './pipeline.ts';
import type { InspectorProxy } from './proxy.ts';
import { startProxyThread } from './proxy-thread.ts';
import { SessionModel } from './session-model.ts';
import { PlainViewSink, settlesWithin, TraceSink, TuiSink, type EventSink } from './sinks.ts';
import { TraceWriter } from './trace.ts';
import { startUdpTap } from './udp/udp-tap.ts';
import { PlainView, type PlainViewOptions } from './views/plain.ts';
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
  /** `udp` taps datagrams (one frame each) with the UDP tap instead of proxying TCP (default `tcp`). */
  transport?: Transport;
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
  /**
   * Cells per lifeline column and most cells of a row's summary in the plain view (defaults: see
   * {@link PlainViewOptions}); the cluster demo narrows both so its two diagrams fit 80 columns.
   */
  plainWidths?: Pick<PlainViewOptions, 'columnWidth' | 'summaryWidth'>;
  /** Title of the TUI window. */
  title?: string;
  /** Draw keep-alive `ping`/`pong` rows in the views (default: hidden and counted). The model and the trace keep them. */
  showKeepAlive?: boolean;
  /** The views show only the rows this filter passes (the TUI can change it). The model and the trace keep every row. */
  typeFilter?: TypeFilter;
  /** Where the TUI's `e` key writes its exports (default `chatlab-exports` in the current directory). */
  exportDir?: string;
  /** More outputs, called after the built-in ones with every event the model applied and the rows it added. */
  sinks?: EventSink[];
  /** Undecoded bytes allowed in flight from the proxy thread to the model before the proxy skips some with a `gap` (default 32 MiB). */
  maxQueuedBytes?: number;
  /**
   * Most ms {@link Inspector.stop} takes: closing the proxy, then letting the diagram catch up.
   * What is still undrawn then is dropped with a notice. Default {@link STOP_GRACE_MS}.
   */
  stopGraceMs?: number;
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
  /** Events handed over by the proxy thread and not applied yet, and their data bytes (at most `maxQueuedBytes`). */
  readonly backlog: { events: number; bytes: number };
}

/**
 * Starts the inspector: a transparent proxy on `listen` in front of `target`, in its own thread
 * (the event source, which bounds what it hands over), whose events the pipeline applies to the
 * I/O-free {@link SessionModel} and hands to the outputs (trace recorder, view, waiters).
 */
export async function startInspector(options: InspectorOptions): Promise<Inspector> {
  const framing = options.framing ?? 'auto';
  const model = new SessionModel({ framing, showReads: options.showReads });
  const recorder = options.record ? new TraceWriter(options.record) : undefined;
  if (recorder) await recorder.opened;
  const plain =
    options.view === 'plain'
      ? new PlainView(model, options.output ?? process.stdout, { ...options.plainWidths, color: options.color, showKeepAlive: options.showKeepAlive, typeFilter: options.typeFilter })
      : undefined;
  // Loaded before the proxy starts, created after: a busy port must not have taken the terminal.
  const createTuiView = options.view === 'tui' ? (await import('./views/tui.ts')).createTuiView : undefined;
  const stopGraceMs = options.stopGraceMs ?? STOP_GRACE_MS;
  const transport = options.transport ?? 'tcp';
  const maxInFlightBytes = options.maxQueuedBytes ?? 32 * 1024 * 1024;
  let source: EventSource;
  try {
    source =
      transport === 'udp'
        ? await startUdpTap({ listen: options.listen ?? { port: 0 }, target: options.target, faults: options.faults, maxInFlightBytes })
        : await startProxyThread({
            listen: options.listen ?? { port: 0 },
            target: options.target,
            faults: options.faults,
            helloTimeoutMs: options.helloTimeoutMs,
            maxInFlightBytes,
            closeGraceMs: stopGraceMs,
          });
  } catch (error) {
    await recorder?.close().catch(ignoreError);
    throw error;
  }
  const tui = createTuiView?.(model, {
    title: options.title ?? `chatlab inspect ${source.address.host}:${source.address.port} → ${options.target.host}:${options.target.port}`,
    showKeepAlive: options.showKeepAlive,
    typeFilter: options.typeFilter,
    ...(options.exportDir !== undefined && { exportDir: options.exportDir }),
  });
  const waiters = new ModelWaiters(model);
  const sinks: EventSink[] = [...(recorder ? [new TraceSink(recorder)] : []), ...(plain ? [new PlainViewSink(plain)] : []), ...(tui ? [new TuiSink(tui)] : []), ...(options.sinks ?? []), waiters];
  const pipeline = new EventPipeline(model, source, sinks);
  // The `listening` event comes first; what the proxy observed meanwhile was held for this.
  pipeline.push({
    kind: 'listening',
    t: now(),
    listen: source.address,
    target: options.target,
    framing,
    ...(options.faults && Object.keys(options.faults).length > 0 ? { faults: options.faults } : {}),
    ...(transport === 'udp' ? { transport } : {}),
  });
  source.deliverTo(pipeline);
  return new RunningInspector({ target: options.target, model, source, pipeline, sinks, waiters, plain, tui, recording: recorder !== undefined, stopGraceMs });
}

/** What {@link RunningInspector} is made of. */
interface InspectorParts {
  target: Endpoint;
  model: SessionModel;
  source: EventSource;
  pipeline: EventPipeline;
  sinks: readonly EventSink[];
  waiters: ModelWaiters;
  plain: PlainView | undefined;
  tui: TuiView | undefined;
  recording: boolean;
  stopGraceMs: number;
}

/** The running inspector: source → pipeline → sinks, and the way to stop them in that order. */
class RunningInspector implements Inspector {
  readonly address: Endpoint;
  readonly target: Endpoint;
  readonly model: SessionModel;
  readonly proxy: InspectorProxy;
  readonly plain: PlainView | undefined;
  readonly tui: TuiView | undefined;
  private stopped: Promise<void> | undefined;
  private dropped: { events: number; bytes: number } | undefined;

  constructor(private readonly parts: InspectorParts) {
    this.address = parts.source.address;
    this.target = parts.target;
    this.model = parts.model;
    this.proxy = parts.source;
    this.plain = parts.plain;
    this.tui = parts.tui;
  }

  get undrawn(): { events: number; bytes: number } | undefined {
    return this.dropped;
  }

  get backlog(): { events: number; bytes: number } {
    return this.parts.pipeline.backlog;
  }

  async idle(): Promise<void> {
    // First the events still in the proxy thread (a round trip, answered after them), then the
    // ones queued here.
    await this.parts.source.sync();
    await this.parts.pipeline.idle();
  }

  waitFor(predicate: (model: SessionModel) => boolean, timeoutMs: number, what: string, signal?: AbortSignal): Promise<void> {
    return this.parts.waiters.waitFor(predicate, timeoutMs, what, signal);
  }

  stop(): Promise<void> {
    this.stopped ??= this.stopInOrder();
    return this.stopped;
  }

  private async stopInOrder(): Promise<void> {
    const { source, pipeline, sinks, recording, stopGraceMs } = this.parts;
    const deadline = performance.now() + stopGraceMs;
    const left = (): number => Math.max(0, deadline - performance.now());
    await source.close();
    if (!(await settlesWithin(pipeline.idle(), left()))) {
      this.dropped = pipeline.abandon();
      const notice = `stopped before the diagram caught up: ${this.dropped.events} events (${this.dropped.bytes} bytes) not drawn${recording ? ' nor recorded' : ''}`;
      for (const sink of sinks) sink.notice?.(notice);
    }
    // An output nobody reads must not hold the stop up either: each gets what is left, at least 500 ms.
    const graceMs = Math.max(left(), 500);
    await Promise.all(sinks.map((sink) => sink.finish?.(graceMs)));
  }
}

function ignoreError(): void {}
