import { STEPS } from '../../protocol/index.ts';
import { ARROW_KINDS, SERVER_LIFELINE, type Row, type SessionModel } from '../session-model.ts';
import { cellWidth, displayText, truncateCells } from '../../terminal/index.ts';
import { arrowStyle, relativeTime } from '../render/diagram-layout.ts';
import { sessionTitle } from './text.ts';

/** Options of {@link exportSvg}. */
export interface SvgExportOptions {
  /** Longest summary beside an arrow, in characters (default 80, as in the Mermaid export). */
  maxSummary?: number;
}

const CHAR_W = 7.2; // advance of the 12px monospace font, for layout estimates
const ROW_H = 30;
const MARGIN = 20;
const TIME_W = 72;
const BADGE_W = 34;
const HEADER_H = 44;
const TITLE_H = 34;

/** Escapes text for SVG/XML content and attribute values. */
export function escapeXml(text: string): string {
  // Controls other than tab/newline are not allowed in XML at all.
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function textWidth(text: string): number {
  return cellWidth(text) * CHAR_W;
}

/** A distinct colour per step, so the badges read as a sequence. */
function stepColor(step: number): string {
  return `hsl(${Math.round(((step - 1) * 330) / 10)}, 65%, 42%)`;
}

// The CSS class of each arrow style of the text views.
const ARROW_CLASSES: Record<ReturnType<typeof arrowStyle>, string> = { error: 'err', read: 'read', event: 'evt', c2s: 'c2s', s2c: 's2c' };

function rowClass(row: Row): string {
  return ARROW_CLASSES[arrowStyle(row)];
}

/**
 * The session as a self-contained SVG sequence diagram, drawn by our own code: lifelines with
 * name boxes, one arrow per row (solid frames, dashed connection events, dotted reads, red
 * errors) with its type above and summary beside, time and step badge at the left, and the
 * 10-step checklist at the bottom. No scripts, fonts or links: it opens anywhere.
 */
export function exportSvg(model: SessionModel, options: SvgExportOptions = {}): string {
  const maxSummary = options.maxSummary ?? 80;
  const lifelines = model.lifelines;
  const widest = Math.max(...lifelines.map((l) => Math.max(textWidth(displayText(l.name)), textWidth(l.address) * 0.85)));
  const colW = Math.max(130, Math.ceil(widest + 30));
  const gridX = MARGIN + TIME_W + BADGE_W;
  const xOf = new Map(lifelines.map((l, i) => [l.id, gridX + colW * i + colW / 2]));
  // An arrow's label is cut to fit between its tail and its head; a label that does not fit
  // (`TLS application data ×2 (146 B)`) is then repeated in full before the summary, as the
  // text views do.
  const labels = model.rows.map((row) => {
    const x1 = xOf.get(row.from);
    const x2 = xOf.get(row.to);
    const full = displayText(row.label);
    return x1 === undefined || x2 === undefined ? { full, shown: full } : { full, shown: truncateCells(full, Math.max(6, Math.floor(Math.abs(x2 - x1) / CHAR_W) - 4)) };
  });
  const summaries = model.rows.map((row, index) => {
    const label = labels[index] as { full: string; shown: string };
    const summary = displayText(row.summary);
    const arrow = ARROW_KINDS.has(row.kind) && row.from !== row.to;
    return truncateCells(arrow && label.shown !== label.full ? `${label.full}${summary ? ` ${summary}` : ''}` : summary, maxSummary);
  });
  const summaryW = Math.min(600, Math.max(160, ...summaries.map((s) => textWidth(s) + 20)));
  const width = Math.ceil(Math.max(gridX + colW * lifelines.length + summaryW + MARGIN, 2 * MARGIN + 5 * 170));
  const rowsTop = MARGIN + TITLE_H + HEADER_H + 16;
  const checklistTop = rowsTop + model.rows.length * ROW_H + 24;
  const height = Math.ceil(checklistTop + 76 + MARGIN);
  const yOf = (index: number): number => rowsTop + index * ROW_H + ROW_H / 2;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="chatlab sequence diagram">`);
  out.push(`<title>${escapeXml(sessionTitle(model))}</title>`);
  out.push(`<defs><style>
text{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12px;fill:#24292f}
.title{font-size:14px;font-weight:bold}.small{font-size:10px;fill:#57606a}.label{font-weight:bold}
.life{stroke:#8c959f;stroke-dasharray:4 4}.box{fill:#f6f8fa;stroke:#57606a;rx:6}
.c2s{stroke:#0969da;fill:#0969da}.s2c{stroke:#1a7f37;fill:#1a7f37}.evt{stroke:#8250df;fill:#8250df}
.err{stroke:#cf222e;fill:#cf222e}.read{stroke:#8c959f;fill:#8c959f}.note{fill:#ddf4ff;stroke:#54aeff}
line.c2s,line.s2c,line.evt,line.err,line.read{stroke-width:1.6;fill:none}
line.evt{stroke-dasharray:6 4}line.read{stroke-dasharray:2 3}
.t-c2s{fill:#0969da}.t-s2c{fill:#1a7f37}.t-evt{fill:#8250df}.t-err{fill:#cf222e}.t-read{fill:#57606a}
</style>
${['c2s', 's2c', 'evt', 'err', 'read'].map((c) => `<marker id="head-${c}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="${c}"/></marker>`).join('\n')}
</defs>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${MARGIN}" y="${MARGIN + 14}" class="title">${escapeXml(sessionTitle(model))}</text>`);

  // Lifelines: a name box on top, a dashed line down to where the connection closed.
  const headerY = MARGIN + TITLE_H;
  for (const lifeline of lifelines) {
    const x = xOf.get(lifeline.id) as number;
    let lastIndex = model.rows.length;
    if (lifeline.closedAt !== undefined) {
      lastIndex = 0;
      model.rows.forEach((r, i) => {
        if (r.t <= (lifeline.closedAt as number)) lastIndex = i + 1;
      });
    }
    const firstIndex =
      lifeline.id === SERVER_LIFELINE
        ? 0
        : Math.max(
            0,
            model.rows.findIndex((r) => r.t >= lifeline.openedAt),
          );
    out.push(`<line x1="${x}" y1="${headerY + HEADER_H}" x2="${x}" y2="${lastIndex === model.rows.length ? checklistTop - 12 : yOf(Math.max(firstIndex, lastIndex - 1)) + 8}" class="life"/>`);
    out.push(`<rect x="${x - colW / 2 + 8}" y="${headerY}" width="${colW - 16}" height="${HEADER_H - 6}" class="box"/>`);
    out.push(`<text x="${x}" y="${headerY + 16}" text-anchor="middle" class="label">${escapeXml(displayText(lifeline.name))}</text>`);
    if (lifeline.address && lifeline.address !== lifeline.name) out.push(`<text x="${x}" y="${headerY + 31}" text-anchor="middle" class="small">${escapeXml(lifeline.address)}</text>`);
  }
  out.push(`<text x="${MARGIN + TIME_W - 6}" y="${headerY + 24}" text-anchor="end" class="small">time</text>`);
  out.push(`<text x="${MARGIN + TIME_W + BADGE_W / 2}" y="${headerY + 24}" text-anchor="middle" class="small">step</text>`);

  model.rows.forEach((row, index) => {
    const y = yOf(index);
    out.push(`<g class="row" data-kind="${row.kind}"${row.step !== null ? ` data-step="${row.step}"` : ''}>`);
    out.push(`<text x="${MARGIN + TIME_W - 6}" y="${y + 4}" text-anchor="end" class="small">${relativeTime(row.t, model.startT)}</text>`);
    if (row.step !== null) {
      const cx = MARGIN + TIME_W + BADGE_W / 2;
      out.push(
        `<circle cx="${cx}" cy="${y}" r="10" fill="${stepColor(row.step)}"/><text x="${cx}" y="${y + 4}" text-anchor="middle" style="fill:#fff;font-size:11px;font-weight:bold">${row.step}</text>`,
      );
    }
    const x1 = xOf.get(row.from);
    const x2 = xOf.get(row.to);
    const cls = rowClass(row);
    const summary = escapeXml(summaries[index] as string);
    const summaryX = gridX + colW * lifelines.length + 8;
    if (x1 !== undefined && x2 !== undefined && x1 !== x2 && ARROW_KINDS.has(row.kind)) {
      const dir = x2 > x1 ? 1 : -1;
      const end = row.kind === 'reset' || row.kind === 'refused' || row.kind === 'lost' ? x2 - dir * 6 : x2 - dir * 2;
      out.push(
        `<line x1="${x1}" y1="${y + 6}" x2="${end}" y2="${y + 6}" class="${cls}"${row.kind === 'reset' || row.kind === 'refused' || row.kind === 'lost' ? '' : ` marker-end="url(#head-${cls})"`}/>`,
      );
      if (row.kind === 'reset' || row.kind === 'refused' || row.kind === 'lost')
        out.push(`<path d="M${end - 5},${y + 1} l10,10 M${end - 5},${y + 11} l10,-10" class="${cls}" style="stroke-width:2"/>`);
      out.push(`<text x="${(x1 + x2) / 2}" y="${y + 1}" text-anchor="middle" class="label t-${cls}">${escapeXml((labels[index] as { shown: string }).shown)}</text>`);
      out.push(`<text x="${summaryX}" y="${y + 4}" class="t-${cls}">${summary}</text>`);
    } else if (x1 !== undefined) {
      out.push(`<rect x="${x1 - 7}" y="${y - 7}" width="14" height="14" rx="3" class="${row.kind === 'drop' || row.kind === 'gap' || row.kind === 'silent' ? 'err' : 'note'}"/>`);
      out.push(`<text x="${summaryX}" y="${y + 4}" class="small">${summary}</text>`);
    }
    out.push('</g>');
  });

  // The checklist: ten badges, filled when the step was seen.
  const seen = model.steps.filter((s) => s.seen).length;
  out.push(`<text x="${MARGIN}" y="${checklistTop}" class="label">10-step checklist: ${seen}/10 seen${seen === 10 ? ' — all green' : ''}</text>`);
  // Two rows of five, each cell wide enough for the longest step name.
  const cellW = Math.max(150, Math.max(...STEPS.map((step) => textWidth(`✔ ${step.name}`) * 0.85)) + 40);
  model.steps.forEach((s, i) => {
    const cx = MARGIN + 10 + (i % 5) * cellW;
    const cy = checklistTop + 24 + Math.floor(i / 5) * 26;
    const name = STEPS[i]?.name ?? s.name;
    out.push(
      `<g class="step${s.seen ? ' seen' : ''}"><circle cx="${cx}" cy="${cy}" r="10" fill="${s.seen ? '#1a7f37' : '#d0d7de'}"/><text x="${cx}" y="${cy + 4}" text-anchor="middle" style="fill:#fff;font-size:11px;font-weight:bold">${s.step}</text><text x="${cx + 15}" y="${cy + 4}" class="small">${s.seen ? '✔ ' : ''}${escapeXml(name)}</text></g>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
