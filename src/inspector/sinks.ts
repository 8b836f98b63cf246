import type { WireEvent } from './events.ts';
import type { Row } from './session-model.ts';
import type { TraceWriter } from './trace.ts';
import type { PlainView } from './views/plain.ts';
import type { TuiView } from './views/tui.ts';

/**
 * An output of the inspector: what follows the model as it applies events (the trace recorder,
 * the plain view, the TUI, the waiters of `waitFor`, a test). The pipeline calls every sink, in
 * order, after each event; a sink that takes its time delays the credit the proxy gets back, so
 * the proxy skips (with a `gap`) instead of the inspector's memory growing.
 */
export interface EventSink {
  /** The model applied `event` and added `rows` (often none). */
  applied(event: WireEvent, rows: Row[]): void;
  /** A line for the user about the session itself (e.g. events dropped at stop). */
  notice?(text: string): void;
  /**
   * The session is over: write what is left. An output that may never drain (a pipe nobody
   * reads) waits at most `graceMs` for it.
   */
  finish?(graceMs: number): Promise<void>;
}

/** The `--record` trace as a sink: one JSONL line per event, with the rows decoded from it. */
export class TraceSink implements EventSink {
  constructor(private readonly writer: TraceWriter) {}

  applied(event: WireEvent, rows: Row[]): void {
    this.writer.write(event, rows);
  }

  /** Closes the file (a file always drains: no grace); rejects if it could not be written. */
  finish(): Promise<void> {
    return this.writer.close();
  }
}

/** The plain text view as a sink: prints new rows, notices, and the checklist at the end. */
export class PlainViewSink implements EventSink {
  constructor(private readonly view: PlainView) {}

  applied(_event: WireEvent, rows: Row[]): void {
    if (rows.length > 0) this.view.addRows(rows);
  }

  notice(text: string): void {
    this.view.print(text);
  }

  async finish(graceMs: number): Promise<void> {
    this.view.printSummary();
    await settlesWithin(this.view.flushed(), graceMs);
  }
}

/** The terminal UI as a sink: new rows, notices in its title bar, a last redraw at the end. */
export class TuiSink implements EventSink {
  constructor(private readonly view: TuiView) {}

  applied(_event: WireEvent, rows: Row[]): void {
    if (rows.length > 0) this.view.addRows(rows);
  }

  notice(text: string): void {
    this.view.setStatus(text);
  }

  /** Redraws; the TUI stays up until its owner destroys it. */
  finish(): Promise<void> {
    this.view.addRows([]);
    return Promise.resolve();
  }
}

/** Whether `promise` settles within `ms` (its outcome is not awaited further after that). */
export function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms, false);
    const settled = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    void promise.then(settled, settled);
  });
}
