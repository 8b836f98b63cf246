import { paint, type Style } from '../../terminal/index.ts';
import type { SessionModel } from '../session-model.ts';
import type { Span, SpanStyle, StyledLine } from './diagram-layout.ts';

const ANSI_STYLES: Record<SpanStyle, Style | null> = {
  plain: null,
  time: 'gray',
  step: ['bold', 'yellow'],
  lifeline: 'gray',
  header: ['bold', 'underline'],
  c2s: 'cyan',
  s2c: 'green',
  event: 'magenta',
  error: ['bold', 'red'],
  note: 'blue',
  read: 'gray',
  summary: null,
  dim: 'dim',
};

/** Turns styled runs into a string, with ANSI colours when `color` is true. */
export function toAnsi(line: StyledLine, color: boolean): string {
  const text = line
    .map((span: Span) => {
      const format = ANSI_STYLES[span.style];
      return format && span.text.trim() ? paint(format, span.text, color) : span.text;
    })
    .join('');
  return text.replace(/\s+$/u, '');
}

/** The 10-step checklist as text lines: `✔  1 listen (1×)` / `·  8 quit — not seen yet`. */
export function checklistLines(model: SessionModel): string[] {
  const seen = model.steps.filter((s) => s.seen).length;
  const lines = [`10-step checklist: ${seen}/10 seen${seen === 10 ? ' — all green' : ''}`];
  for (const s of model.steps) {
    const mark = s.seen ? '✔' : '·';
    lines.push(`  ${mark} ${String(s.step).padStart(2)} ${s.name.padEnd(18)} ${s.seen ? `${s.count}×` : 'not seen yet'}`);
  }
  return lines;
}

/** Counters as one text line. */
export function countersLine(model: SessionModel): string {
  const c = model.counters;
  const parts = [
    `connections ${c.connections} (${c.open} open)`,
    `frames c2s ${c.frames.c2s} / s2c ${c.frames.s2c}`,
    `bytes c2s ${c.bytes.c2s} / s2c ${c.bytes.s2c}`,
    `reads c2s ${c.reads.c2s} / s2c ${c.reads.s2c}`,
    `bad ${c.bad}`,
  ];
  if (c.lost) parts.push(`lost ${c.lost}`);
  if (c.duplicates) parts.push(`duplicated ${c.duplicates}`);
  if (c.skippedBytes) parts.push(`not decoded ${c.skippedBytes} B`);
  if (c.droppedRows) parts.push(`rows dropped ${c.droppedRows}`);
  return parts.join(' · ');
}

/** Colours a checklist line's mark when `color` is on. */
export function colorChecklistLine(line: string, color: boolean): string {
  if (!color) return line;
  if (line.includes('✔')) return line.replace('✔', paint(['bold', 'green'], '✔'));
  if (line.startsWith('10-step')) return paint('bold', line);
  return paint('gray', line);
}
