import type { Writable } from 'node:stream';
import { colorEnabled } from '../../terminal/index.ts';
import { SERVER_LIFELINE, type Row, type SessionModel } from '../session-model.ts';
import { renderHeader, renderRow, type ColumnLayout } from '../render/diagram-layout.ts';
import { isKeepAlive, keepAliveWanted, passesTypeFilter, type TypeFilter } from './row-filter.ts';
import { checklistLines, colorChecklistLine, countersLine, toAnsi } from '../render/styles.ts';

/** Options of {@link PlainView}. */
export interface PlainViewOptions {
  /** ANSI colours (default: as {@link colorEnabled} decides for the output: a TTY, NO_COLOR, FORCE_COLOR). */
  color?: boolean;
  /** Cells per lifeline column (default 18: an IPv4 address and port fit). */
  columnWidth?: number;
  /** Longest summary printed, in cells (default 120). */
  summaryWidth?: number;
  /** Lines held while the output is slow before older ones are skipped (default 5,000). */
  maxPendingLines?: number;
  /** Print keep-alive `ping`/`pong` rows (default: left out, and counted in the summary). */
  showKeepAlive?: boolean;
  /** Print only the rows this filter passes (default: every row). */
  typeFilter?: TypeFilter;
}

/**
 * The diagram as text lines on a stream: what `--plain`, non-TTY runs and tests use. Rows are
 * printed as they arrive, under a header of lifeline names that is printed again whenever a
 * lifeline appears, is renamed (the user logged in) or ends. Output respects backpressure: lines
 * are batched into one write per tick, and if the stream stays behind, older lines are skipped
 * with a notice — the chat itself is never slowed.
 */
export class PlainView {
  private readonly color: boolean;
  private readonly columnWidth: number;
  private readonly summaryWidth: number;
  private readonly maxPending: number;
  private pending: string[] = [];
  private skipped = 0;
  private waitingDrain = false;
  private flushScheduled = false;
  private headerSignature = '';
  private idleResolvers: Array<() => void> = [];
  private broken = false;
  private readonly showKeepAlive: boolean;
  private readonly typeFilter: TypeFilter | undefined;
  /** Keep-alive rows left out so far. */
  private keepAliveHidden = 0;

  constructor(
    private readonly model: SessionModel,
    private readonly out: Writable,
    options: PlainViewOptions = {},
  ) {
    this.color = options.color ?? colorEnabled(out as { isTTY?: boolean });
    this.columnWidth = options.columnWidth ?? 18;
    this.summaryWidth = options.summaryWidth ?? 120;
    this.maxPending = options.maxPendingLines ?? 5_000;
    this.typeFilter = options.typeFilter;
    this.showKeepAlive = keepAliveWanted(options.showKeepAlive === true, this.typeFilter);
    // A closed output (`chatlab inspect | head`) ends the drawing, never the proxying.
    out.on('error', () => {
      this.broken = true;
      this.pending = [];
      this.waitingDrain = false;
      this.settle();
    });
  }

  /** Prints a free text line (titles, notices). */
  print(line: string): void {
    this.enqueue(line);
  }

  /** Prints rows the model just added. */
  addRows(rows: Row[]): void {
    for (const row of rows) {
      if (!this.showKeepAlive && isKeepAlive(row)) {
        this.keepAliveHidden++;
        continue;
      }
      if (!passesTypeFilter(row, this.typeFilter)) continue;
      const layout = this.layoutFor(row);
      const signature = layout.ids.map((id) => `${id}:${this.model.lifeline(id)?.name}`).join('|');
      if (signature !== this.headerSignature) {
        this.headerSignature = signature;
        this.enqueue(
          toAnsi(
            renderHeader(layout, (id) => this.model.lifeline(id)),
            this.color,
          ),
        );
      }
      this.enqueue(
        toAnsi(
          renderRow(row, layout, (id) => this.model.lifeline(id), { startT: this.model.startT, summaryWidth: this.summaryWidth }),
          this.color,
        ),
      );
    }
  }

  /** Prints the 10-step checklist and the counters. */
  printSummary(): void {
    this.enqueue('');
    for (const line of checklistLines(this.model)) this.enqueue(colorChecklistLine(line, this.color));
    this.enqueue(countersLine(this.model));
    if (this.keepAliveHidden > 0) this.enqueue(`${this.keepAliveHidden} keep-alive hidden (ping/pong rows; --show-keepalive shows them)`);
  }

  /** Resolves once every queued line has been handed to the stream. */
  flushed(): Promise<void> {
    if (this.pending.length === 0 && !this.waitingDrain) return Promise.resolve();
    return new Promise((resolve) => this.idleResolvers.push(resolve));
  }

  // Lifelines drawn for a row: the server, and every client not yet closed before that row.
  private layoutFor(row: Row): ColumnLayout {
    const ids = this.model.lifelines.filter((l) => l.id === SERVER_LIFELINE || l.closedAt === undefined || l.closedAt >= row.t).map((l) => l.id);
    return { ids, columnWidth: this.columnWidth };
  }

  private enqueue(line: string): void {
    if (this.broken) return;
    this.pending.push(line);
    if (this.pending.length > this.maxPending) {
      const drop = this.pending.length - this.maxPending;
      this.pending.splice(0, drop);
      this.skipped += drop;
    }
    if (!this.flushScheduled && !this.waitingDrain) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.waitingDrain || this.broken) return this.settle();
    if (this.pending.length === 0) return this.settle();
    let text = '';
    if (this.skipped > 0) {
      text += `… ${this.skipped} lines skipped: the output fell behind (the chat was not slowed) …\n`;
      this.skipped = 0;
    }
    text += this.pending.join('\n') + '\n';
    this.pending = [];
    const ok = this.out.write(text);
    if (!ok) {
      this.waitingDrain = true;
      this.out.once('drain', () => {
        this.waitingDrain = false;
        if (this.pending.length > 0) this.flush();
        else this.settle();
      });
      return;
    }
    this.settle();
  }

  private settle(): void {
    if ((this.pending.length > 0 || this.waitingDrain) && !this.broken) return;
    const resolvers = this.idleResolvers;
    this.idleResolvers = [];
    for (const resolve of resolvers) resolve();
  }
}
