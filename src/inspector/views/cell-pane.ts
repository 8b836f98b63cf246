import blessed from 'blessed';
import { patchBlessedWidths, toCells } from '../../terminal/index.ts';
import type { SpanStyle, StyledLine } from '../render/diagram-layout.ts';

type CellLine = Array<[number, string]> & { dirty?: boolean };

interface PaintableBox {
  screen: { lines: CellLine[] };
  ileft: number;
  iright: number;
  itop: number;
  ibottom: number;
  sattr(style: Record<string, unknown>): number;
}

/** Colours of each span style in the TUI (blessed style objects). */
const TUI_STYLES: Record<SpanStyle, Record<string, unknown>> = {
  plain: {},
  time: { fg: 'gray' },
  step: { fg: 'yellow', bold: true },
  lifeline: { fg: 'gray' },
  header: { fg: 'white', bold: true },
  c2s: { fg: 'cyan' },
  s2c: { fg: 'green' },
  event: { fg: 'magenta' },
  error: { fg: 'red', bold: true },
  note: { fg: 'blue', bold: true },
  read: { fg: 'gray' },
  summary: { fg: 'white' },
  dim: { fg: 'gray' },
};

/** Supplies the lines of a pane at paint time. `width`/`height` are the inner size. */
export type LineSource = (width: number, height: number) => { lines: StyledLine[]; highlight?: number };

/**
 * A bordered blessed box whose inside we paint cell by cell from styled lines, instead of
 * letting blessed parse and wrap text: wide characters take exactly two cells, combining marks
 * stay on their base, nothing wraps, and an over-long line is cut at the border.
 */
export function cellPane(options: blessed.Widgets.BoxOptions, source: LineSource): blessed.Widgets.BoxElement {
  patchBlessedWidths();
  const box = blessed.box({ ...options, content: '', tags: false });
  const paintable = box as unknown as PaintableBox;
  const attrs = new Map<string, number>();
  const attrOf = (style: SpanStyle, inverse: boolean): number => {
    const key = `${style}:${inverse}`;
    let attr = attrs.get(key);
    if (attr === undefined) {
      attr = paintable.sattr({ ...TUI_STYLES[style], ...(inverse ? { inverse: true } : {}) });
      attrs.set(key, attr);
    }
    return attr;
  };
  const baseRender = box.render.bind(box);
  box.render = function render(this: blessed.Widgets.BoxElement) {
    const coords = baseRender();
    if (!coords) return coords;
    const xi = coords.xi + paintable.ileft;
    const xl = coords.xl - paintable.iright;
    const yi = coords.yi + paintable.itop;
    const yl = coords.yl - paintable.ibottom;
    const { lines, highlight } = source(Math.max(0, xl - xi), Math.max(0, yl - yi));
    const screenLines = paintable.screen.lines;
    for (let y = yi; y < yl; y++) {
      const cells = screenLines[y];
      if (!cells) break;
      const styled = lines[y - yi] ?? [];
      const inverse = highlight === y - yi;
      let x = xi;
      for (const span of styled) {
        const attr = attrOf(span.style, inverse);
        for (const cell of toCells(span.text)) {
          if (x + cell.width > xl) break;
          cells[x] = [attr, cell.char];
          if (cell.width === 2) cells[x + 1] = [attr, ' '];
          x += cell.width;
        }
      }
      const fill = attrOf('plain', inverse);
      for (; x < xl; x++) cells[x] = [fill, ' '];
      cells.dirty = true;
    }
    return coords;
  };
  return box;
}
