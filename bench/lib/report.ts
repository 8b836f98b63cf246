/**
 * Turns ladder results into text: the per-step table, capacities and ratios, the targets with
 * pass/fail marks, and a small ASCII plot of delivered vs offered rate.
 */
import { colorEnabled, paint as paintText, type Style } from '../../src/terminal/index.ts';
import { DRAIN_LIMIT_MS, isNoisy, type LadderResult, type StepResult } from './fanout.ts';

/** A target from the issue, evaluated. `pass` null = could not be evaluated (a server skipped). */
export interface TargetCheck {
  label: string;
  measured: string;
  pass: boolean | null;
  /** A reference figure, not a target: printed as [info]. */
  info?: boolean;
}

const colour = colorEnabled(process.stdout);

function paint(style: Style, text: string): string {
  return paintText(style, text, colour);
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function fmtRate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  return fmtInt(n);
}

function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  return ms.toFixed(2);
}

function table(headers: string[], rows: string[][], rightAlign: boolean[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (rightAlign[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function stepVerdict(s: StepResult): string {
  const notes: string[] = [];
  if (s.clientsLost > 0) notes.push(`${s.clientsLost} clients dropped`);
  if (s.refusals > 0) notes.push(`${s.refusals} refusals`);
  if (s.drainMs === null) notes.push(s.undrained === 'backlog' ? 'backlog at settle limit' : 'deliveries stopped');
  else if (s.drainMs > DRAIN_LIMIT_MS) notes.push(`drain > ${DRAIN_LIMIT_MS} ms`);
  if (s.generatorCpuPct > 90) notes.push('generator saturated');
  if (isNoisy(s)) notes.push('noisy');
  if (s.firstTry) notes.push(`rerun; 1st try ${s.firstTry.ok ? 'ok' : 'failed'} while busy`);
  const mark = s.ok ? paint('green', 'ok') : paint('red', 'FAIL');
  return notes.length ? `${mark} (${notes.join(', ')})` : mark;
}

/** The per-step table of a set of ladders (one block per server). */
export function formatStepTable(ladders: LadderResult[]): string {
  const headers = [
    'server',
    'offered/s',
    'sent/s',
    'deliveries/s',
    'bcast/s',
    'missing',
    'reorder',
    'p50 ms',
    'p99 ms',
    'p99.9 ms',
    'drained ms',
    'srv cpu',
    'srv ns/dlv',
    'srv MiB',
    'gen cpu',
    'other',
    'gen lag ms',
    'result',
  ];
  const right = [false, ...Array<boolean>(16).fill(true), false];
  const pctOrQ = (p: number | null): string => (p === null ? '?' : `${Math.round(p)}`);
  const rows: string[][] = [];
  for (const ladder of ladders) {
    for (const s of ladder.steps) {
      rows.push([
        ladder.server,
        fmtInt(s.offeredRate),
        fmtInt(s.sentRate),
        fmtRate(s.deliveriesPerSec),
        fmtInt(s.deliveredBroadcastsPerSec),
        fmtInt(s.missing),
        fmtInt(s.outOfOrder),
        fmtMs(s.p50Ms),
        fmtMs(s.p99Ms),
        fmtMs(s.p999Ms),
        s.drainMs === null ? '—' : fmtMs(s.drainMs),
        s.serverCpuPct === null ? '?' : `${Math.round(s.serverCpuPct)}%`,
        s.serverNsPerDelivery === null ? '?' : fmtInt(s.serverNsPerDelivery),
        s.serverPeakMiB === null ? '?' : fmtInt(s.serverPeakMiB),
        `${Math.round(s.generatorCpuPct)}%`,
        s.otherLoadServerCpuPct === null && s.otherLoadGeneratorCpuPct === null ? '—' : `${pctOrQ(s.otherLoadServerCpuPct)}/${pctOrQ(s.otherLoadGeneratorCpuPct)}%`,
        fmtMs(s.maxSendLagMs),
        stepVerdict(s),
      ]);
    }
    for (const k of ladder.skipped) {
      rows.push([ladder.server, fmtInt(k.offeredRate), ...Array<string>(15).fill(''), `skipped (${k.reason})`]);
    }
    if (ladder.error) rows.push([ladder.server, ...Array<string>(16).fill(''), `error: ${ladder.error}`]);
  }
  return table(headers, rows, right);
}

/** Capacity of one ladder, as text ("≥" when the top of the ladder passed). */
export function formatCapacity(ladder: LadderResult, topRate: number): string {
  if (ladder.error && ladder.steps.length === 0) return 'n/a (error)';
  if (ladder.capacity === 0) return `< ${fmtInt(ladder.steps[0]?.offeredRate ?? 0)}/s (no step passed)`;
  const best = ladder.steps.find((s) => s.offeredRate === ladder.capacity)!;
  const atTop = ladder.capacity >= topRate ? '≥ ' : '';
  const noisy = ladder.steps.filter(isNoisy).map((s) => fmtInt(s.offeredRate));
  const caveat = noisy.length ? `; noisy steps: ${noisy.join(', ')}/s` : '';
  return `${atTop}${fmtInt(ladder.capacity)} broadcasts/s (${fmtRate(best.deliveriesPerSec)} deliveries/s${caveat})`;
}

/** Capacity ratio a/b as text, with "≥"/"≤" when a capacity is bounded by the ladder. */
export function formatRatio(a: LadderResult | undefined, b: LadderResult | undefined, topRate: number): string {
  if (!a || !b || a.capacity === 0 || b.capacity === 0) return 'n/a';
  const ratio = a.capacity / b.capacity;
  const aTop = a.capacity >= topRate;
  const bTop = b.capacity >= topRate;
  const qualifier = aTop && !bTop ? '≥ ' : bTop && !aTop ? '≤ ' : aTop && bTop ? '~ ' : '';
  return `${qualifier}${ratio.toFixed(2)}×`;
}

/** One target line: [PASS]/[FAIL]/[n/a]. */
export function formatTarget(t: TargetCheck): string {
  const mark = t.info ? paint('cyan', '[info]') : t.pass === null ? paint('yellow', '[n/a ]') : t.pass ? paint('green', '[PASS]') : paint('red', '[FAIL]');
  const verdict = t.info && t.pass !== null ? (t.pass ? ' (would pass)' : ' (would fail)') : '';
  return `  ${mark} ${t.label} — measured: ${t.measured}${verdict}`;
}

const PLOT_SYMBOL: Record<string, string> = { raw: 'R', ngircd: 'N', chatlab: 'C' };

/**
 * A small ASCII plot: offered broadcasts/s (x, one column group per ladder rate) against
 * delivered broadcasts/s (y, linear). `·` marks the ideal (delivered = offered).
 */
export function formatPlot(ladders: LadderResult[], rates: number[], height = 12): string {
  const maxY = Math.max(...rates, ...ladders.flatMap((l) => l.steps.map((s) => s.deliveredBroadcastsPerSec)));
  if (!Number.isFinite(maxY) || maxY <= 0 || rates.length === 0) return '';
  const colWidth = 8;
  const grid: string[][] = Array.from({ length: height }, () => Array.from({ length: rates.length * colWidth }, () => ' '));
  const rowOf = (y: number): number => Math.min(height - 1, Math.max(0, height - 1 - Math.round((y / maxY) * (height - 1))));
  rates.forEach((rate, i) => {
    grid[rowOf(rate)]![i * colWidth + 4] = '·';
  });
  ladders.forEach((ladder, li) => {
    const symbol = PLOT_SYMBOL[ladder.server] ?? String(li);
    for (const s of ladder.steps) {
      const i = rates.indexOf(s.offeredRate);
      if (i === -1) continue;
      grid[rowOf(s.deliveredBroadcastsPerSec)]![i * colWidth + 1 + li] = symbol;
    }
  });
  const label = (row: number): string => {
    const y = ((height - 1 - row) / (height - 1)) * maxY;
    return row % 3 === 0 || row === height - 1 ? fmtRate(y).padStart(6) : ''.padStart(6);
  };
  const lines = grid.map((cells, row) => `${label(row)} |${cells.join('').trimEnd()}`);
  lines.push(`${''.padStart(6)} +${'-'.repeat(rates.length * colWidth)}`);
  lines.push(`${''.padStart(8)}${rates.map((r) => fmtRate(r).padEnd(colWidth)).join('')}`);
  const legend = ladders.map((l) => `${PLOT_SYMBOL[l.server] ?? '?'} = ${l.server}`).join(', ');
  return ['delivered broadcasts/s (y) vs offered broadcasts/s (x); · = ideal', ...lines, `${''.padStart(8)}${legend}`].join('\n');
}

/**
 * Server CPU time per delivery at each offered rate (lower is better), and a rough projection of
 * what one full CPU would carry. Compare servers at equal rates on quiet rows: the cost falls as
 * writes carry more messages, and a server starved by other processes batches more.
 */
export function formatEfficiency(ladders: LadderResult[], rates: number[], clients: number): string {
  const ran = ladders.filter((l) => l.steps.length > 0);
  if (ran.length === 0) return '';
  const headers = ['server', ...rates.map((r) => `${fmtRate(r)}/s`), '≈ bcast/s at 100% CPU'];
  const rows = ran.map((ladder) => {
    const cells = rates.map((rate) => {
      const step = ladder.steps.find((s) => s.offeredRate === rate);
      return step?.serverNsPerDelivery ? fmtInt(step.serverNsPerDelivery) : '';
    });
    const last = ladder.steps.at(-1);
    const projection = last?.serverNsPerDelivery ? fmtInt(1e9 / last.serverNsPerDelivery / (clients - 1)) : '?';
    return [ladder.server, ...cells, projection];
  });
  return [
    'Server CPU ns per delivery (lower is better). It falls as the rate rises (more messages per write), and a server starved',
    'by other processes batches more and looks cheaper: compare servers at the same rate, on rows not marked noisy.',
    "The projection uses each server's highest rate:",
    table(
      headers,
      rows,
      headers.map((_, i) => i > 0),
    ),
  ].join('\n');
}

/**
 * The most broadcasts/s a server delivered to everyone on a row the machine was quiet for (no
 * client lost): what one core of it carried at best, even when noise spoilt the pass/fail ladder.
 * `lowerBound` when the server kept up on every quiet row (its limit is higher); null without
 * quiet rows.
 */
export function peakThroughput(ladder: LadderResult | undefined): { bcastPerSec: number; lowerBound: boolean } | null {
  const quiet = (ladder?.steps ?? []).filter((s) => !isNoisy(s) && s.clientsLost === 0 && s.delivered > 0);
  if (!quiet.length) return null;
  return {
    bcastPerSec: Math.max(...quiet.map((s) => s.deliveredBroadcastsPerSec)),
    lowerBound: quiet.every((s) => s.ok),
  };
}
