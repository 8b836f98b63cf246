import { serializeEvent, traceHeader, type EventSink, type Row, type WireEvent } from '../inspector/index.ts';

/** Bytes of JSON text a {@link SessionTrace} keeps; events after that are counted, not kept. */
export const MAX_SESSION_TRACE_BYTES = 32 * 1024 * 1024;

/**
 * The session so far as a `--record` trace (JSONL) kept in memory, for the web page's JSONL
 * export: the same header and the same line per event (serializeEvent) as `chatlab inspect
 * --record` writes, so `chatlab inspect replay` and `inspect export` read the download.
 * Bounded: past {@link MAX_SESSION_TRACE_BYTES} it keeps the start (a trace must start at the
 * beginning to decode) and the header says how many events were left out.
 */
export class SessionTrace implements EventSink {
  private readonly lines: string[] = [];
  private bytes = 0;
  private left = 0;

  constructor(private readonly maxBytes = MAX_SESSION_TRACE_BYTES) {}

  applied(event: WireEvent, rows: Row[]): void {
    if (this.left > 0) {
      this.left++;
      return;
    }
    const line = serializeEvent(event, rows);
    if (this.bytes + line.length + 1 > this.maxBytes) {
      this.left = 1;
      return;
    }
    this.lines.push(line);
    this.bytes += line.length + 1;
  }

  /** Events kept so far. */
  get eventCount(): number {
    return this.lines.length;
  }

  /** The trace file's text: the header line (with `cut`, when events were left out), then one line per event. */
  text(): string {
    const header = { ...traceHeader(), ...(this.left > 0 && { cut: `only the first ${this.lines.length} events are here: ${this.left} later ones went past the web view's ${this.maxBytes} bytes` }) };
    return [JSON.stringify(header), ...this.lines].join('\n') + '\n';
  }
}
