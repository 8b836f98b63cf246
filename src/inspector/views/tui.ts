import { isAbsolute, relative } from 'node:path';
import blessed from 'blessed';
import Sparkline from 'blessed-contrib/lib/widget/sparkline.js';
import { writeSessionExports } from '../export/session-files.ts';
import { SERVER_LIFELINE, type Row, type SessionModel } from '../session-model.ts';
import { patchBlessedWidths } from '../../terminal/index.ts';
import { cellPane } from './cell-pane.ts';
import { detailLines } from './detail.ts';
import { describeTypeFilter, isKeepAlive, keepAliveWanted, passesTypeFilter, rowType, type TypeFilter } from './row-filter.ts';
import { gridWidth, PREFIX_WIDTH, renderHeader, renderRow, type ColumnLayout, type StyledLine } from '../render/diagram-layout.ts';
import { keyBarText, SIDE_WIDTH, titleBarText, tuiLayout, type KeyBarEntry, type Rect } from './tui-layout.ts';

/** Options of {@link createTuiView}. */
export interface TuiOptions {
  /** Shown in the title bar. */
  title: string;
  /**
   * Time axis of the throughput sparkline: `wall` (live: it slides on when idle) or `model`
   * (replay: the recorded times). Default `wall`.
   */
  clock?: 'wall' | 'model';
  /** Where `e` writes its exports (default `chatlab-exports` in the current directory, see export/session-files.ts). */
  exportDir?: string;
  /** Draw keep-alive `ping`/`pong` rows from the start (default: hidden and counted; `a` toggles). */
  showKeepAlive?: boolean;
  /** The type filter to start with (default: every type); `t`, `T` and `x` change it. */
  typeFilter?: TypeFilter;
  /** Screen input/output (default: the process's stdin/stdout). */
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

/** The live terminal UI. */
export interface TuiView {
  /** New rows from the model (an empty call just asks for a redraw). */
  addRows(rows: Row[]): void;
  /** A message in the title bar, e.g. "demo finished — press q to quit". */
  setStatus(text: string): void;
  /** Replaces the title (e.g. once the real port is known). */
  setTitle(text: string): void;
  /** Resolves when the user quits (q, Ctrl-C). */
  readonly quit: Promise<void>;
  /** Every file `e` wrote, absolute paths in order (to print once the terminal is restored). */
  readonly exported: readonly string[];
  /** Restores the terminal. Afterwards the other methods do nothing. */
  destroy(): void;
}

const KEY_HELP = [
  ['↑/↓  k/j', 'select the previous / next arrow'],
  ['PgUp/PgDn', 'move a page'],
  ['Home  g', 'first arrow'],
  ['End  G', 'last arrow, and follow new ones'],
  ['p  space', 'pause / resume the view (traffic keeps flowing)'],
  ['c', 'filter by connection (cycles; server rows stay)'],
  ['t', 'show only one type (cycles through the types seen)'],
  ['T', 'hide one type (cycles through the types seen)'],
  ['x', 'clear filters'],
  ['a', 'show / hide keep-alive ping/pong (--show-keepalive)'],
  ['r', 'show / hide TCP read rows (--show-reads)'],
  ['[  ]', 'scroll the detail pane'],
  ['e', 'export .mmd .svg .txt to chatlab-exports/ or --export-dir'],
  ['?  h', 'this help'],
  ['q  Ctrl-C', 'quit'],
];

/** The key bar, left to right; on a narrow screen the lowest priorities are left out first. */
const KEY_BAR: KeyBarEntry[] = [
  { keys: '↑↓', what: 'select', priority: 8 },
  { keys: 'End', what: 'follow', priority: 3 },
  { keys: 'p', what: 'pause', priority: 7 },
  { keys: 'c', what: 'conn', priority: 5 },
  { keys: 't', what: 'type', priority: 6 },
  { keys: 'a', what: 'keep-alive', priority: 6 },
  { keys: 'x', what: 'clear', priority: 1 },
  { keys: 'r', what: 'reads', priority: 2 },
  { keys: '[ ]', what: 'detail', priority: 2 },
  { keys: 'e', what: 'export', priority: 4 },
  { keys: '?', what: 'help', priority: 10 },
  { keys: 'q', what: 'quit', priority: 10 },
];

/** Puts a blessed element at `rect`, or hides it when the layout left it out. */
function place(element: blessed.Widgets.BlessedElement, rect: Rect | undefined): void {
  if (!rect) {
    element.hide();
    return;
  }
  element.top = rect.top;
  element.left = rect.left;
  element.width = rect.width;
  element.height = rect.height;
  element.show();
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n}`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)}k`;
  return `${(n / 1024 / 1024).toFixed(1)}M`;
}

/** A path as short as it can be shown in the title bar: relative to the current directory when inside it. */
function shortPath(path: string): string {
  const inside = relative(process.cwd(), path);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path;
}

/**
 * Starts the live terminal UI (blessed + blessed-contrib) on the model: the sequence diagram as
 * the main pane, the selected frame's detail below it, the 10-step checklist, a throughput
 * sparkline and counters at the side. It only reads the model; redraws are throttled, so a
 * flood of frames costs one paint per 80 ms, never the chat's speed.
 */
export function createTuiView(model: SessionModel, options: TuiOptions): TuiView {
  patchBlessedWidths();
  const screen = blessed.screen({
    smartCSR: true,
    fullUnicode: true,
    title: 'chatlab inspect',
    warnings: false,
    ...((options.input ? { input: options.input } : {}) as object),
    ...((options.output ? { output: options.output } : {}) as object),
  });

  // ---- state
  let filtered: Row[] = [];
  let selected = -1;
  let top = 0;
  let follow = true;
  let paused = false;
  let frozenId = Number.POSITIVE_INFINITY;
  let connFilter: number | undefined;
  let typeFilter: TypeFilter | undefined = options.typeFilter;
  let showKeepAlive = options.showKeepAlive ?? false;
  let keepAliveRows = model.rows.filter(isKeepAlive).length;
  let hideReads = false;
  let detailScroll = 0;
  let status = '';
  let dirty = true;
  let pageSize = 10;
  let title = options.title;

  const keepAliveShown = (): boolean => keepAliveWanted(showKeepAlive, typeFilter);
  const matches = (row: Row): boolean =>
    row.id <= frozenId &&
    (connFilter === undefined || row.conn === connFilter || row.conn === undefined) &&
    passesTypeFilter(row, typeFilter) &&
    (keepAliveShown() || !isKeepAlive(row)) &&
    !(hideReads && row.kind === 'read');
  const rebuild = (): void => {
    const keepId = filtered[selected]?.id;
    filtered = model.rows.filter(matches);
    if (follow || keepId === undefined) selected = filtered.length - 1;
    else {
      const index = filtered.findIndex((r) => r.id >= keepId);
      selected = index === -1 ? filtered.length - 1 : index;
    }
    detailScroll = 0;
    dirty = true;
  };

  // ---- widgets (placed by relayout(), from tuiLayout)
  let layout = tuiLayout(screen.width as number, screen.height as number);
  const titleBar = blessed.box({ parent: screen, top: 0, left: 0, width: 1, height: 1, style: { fg: 'black', bg: 'cyan' } });

  const diagram = cellPane({ parent: screen, top: 1, left: 0, width: 1, height: 1, border: { type: 'line' }, label: ' sequence diagram ', style: { border: { fg: 'cyan' } } }, (width, height) => {
    const visible = Math.max(1, height - 1);
    pageSize = visible;
    if (follow) selected = filtered.length - 1;
    if (selected >= 0) {
      if (selected < top) top = selected;
      if (selected >= top + visible) top = selected - visible + 1;
    }
    if (follow) top = Math.max(0, filtered.length - visible);
    top = Math.max(0, Math.min(top, Math.max(0, filtered.length - visible)));
    const windowRows = filtered.slice(top, top + visible);
    const layout = columnsFor(windowRows, width);
    const lookup = (id: number) => model.lifeline(id);
    const lines: StyledLine[] = [renderHeader(layout, lookup)];
    for (const row of windowRows) lines.push(renderRow(row, layout, lookup, { startT: model.startT, summaryWidth: width - PREFIX_WIDTH - gridWidth(layout) - 1 }));
    if (filtered.length === 0) lines.push([{ text: paused ? '  (paused)' : '  waiting for the first connection…', style: 'dim' }]);
    return { lines, highlight: selected >= 0 ? selected - top + 1 : undefined };
  });

  const columnsFor = (windowRows: Row[], width: number): ColumnLayout => {
    let ids: number[];
    if (connFilter !== undefined) ids = [SERVER_LIFELINE, connFilter];
    else {
      const inWindow = new Set<number>();
      for (const row of windowRows) {
        inWindow.add(row.from);
        inWindow.add(row.to);
      }
      ids = model.lifelines.filter((l) => l.id === SERVER_LIFELINE || inWindow.has(l.id) || l.closedAt === undefined).map((l) => l.id);
      const room = width - PREFIX_WIDTH - 20;
      if (ids.length * 8 > room) ids = ids.filter((id) => id === SERVER_LIFELINE || inWindow.has(id));
    }
    // Leave the summary at least 30 cells; the grid takes the rest, in columns of 8 to 20 cells.
    const room = width - PREFIX_WIDTH - 30;
    const columnWidth = Math.max(8, Math.min(20, Math.floor(room / Math.max(1, ids.length - 0.5))));
    return { ids, columnWidth };
  };

  const detail = cellPane({ parent: screen, top: 1, left: 0, width: 1, height: 1, border: { type: 'line' }, label: ' frame detail ', style: { border: { fg: 'cyan' } } }, (_width, height) => {
    const lines = detailLines(model, filtered[selected]);
    detailScroll = Math.max(0, Math.min(detailScroll, Math.max(0, lines.length - height)));
    return { lines: lines.slice(detailScroll, detailScroll + height) };
  });

  const checklist = blessed.box({ parent: screen, top: 1, left: 0, width: SIDE_WIDTH, height: 12, border: { type: 'line' }, label: ' 10 steps ', tags: true, style: { border: { fg: 'cyan' } } });
  const spark = new Sparkline({
    parent: screen,
    top: 1,
    left: 0,
    width: SIDE_WIDTH,
    height: 5,
    label: ' throughput ',
    tags: true,
    border: { type: 'line' },
    style: { fg: 'blue', titleFg: 'white', border: { fg: 'cyan' } },
  });
  const counters = blessed.box({ parent: screen, top: 1, left: 0, width: SIDE_WIDTH, height: 4, border: { type: 'line' }, label: ' counters ', tags: true, style: { border: { fg: 'cyan' } } });
  const keyBar = blessed.box({ parent: screen, top: 1, left: 0, width: 1, height: 1, style: { fg: 'black', bg: 'white' } });
  const help = blessed.box({
    parent: screen,
    top: 'center',
    left: 'center',
    width: 66,
    height: KEY_HELP.length + 4,
    scrollable: true,
    border: { type: 'line' },
    label: ' keys ',
    hidden: true,
    tags: true,
    style: { border: { fg: 'yellow' }, bg: 'black' },
    content: KEY_HELP.map(([keys, what]) => ` {bold}${(keys as string).padEnd(11)}{/bold} ${what}`).join('\n') + '\n {gray-fg}press ? or Esc to close{/gray-fg}',
  });

  /** Places every box for the screen's current size (at start and on each resize). */
  const relayout = (): void => {
    const cols = screen.width as number;
    const rows = screen.height as number;
    layout = tuiLayout(cols, rows);
    place(titleBar, layout.titleBar);
    place(keyBar, layout.keyBar);
    place(diagram, layout.diagram);
    place(detail, layout.detail);
    place(checklist, layout.checklist);
    place(spark, layout.throughput);
    place(counters, layout.counters);
    keyBar.setContent(keyBarText(KEY_BAR, cols));
    help.width = Math.min(66, cols);
    help.height = Math.min(KEY_HELP.length + 4, rows);
    dirty = true;
  };
  relayout();

  const paintSide = (): void => {
    const seenCount = model.steps.filter((s) => s.seen).length;
    checklist.setLabel(seenCount === 10 ? ' 10 steps: all green ' : ` 10 steps: ${seenCount}/10 `);
    checklist.setContent(
      model.steps.map((s) => (s.seen ? `{green-fg}{bold}✔{/bold} ${String(s.step).padStart(2)} ${s.name}{/green-fg}` : `{gray-fg}·  ${String(s.step).padStart(2)} ${s.name}{/gray-fg}`)).join('\n'),
    );
    const endT = paused || options.clock === 'model' ? model.lastT : Math.max(model.lastT ?? 0, Date.now());
    const values = model.throughput(SIDE_WIDTH - 2, endT);
    const current = values[values.length - 1] ?? 0;
    spark.setData([`${formatBytes(current)}B/s (peak ${formatBytes(Math.max(0, ...values))})`], [values]);
    const c = model.counters;
    counters.setContent(
      [
        `connections ${c.connections} (${c.open} open)`,
        `frames  → ${c.frames.c2s}  ← ${c.frames.s2c}`,
        `bytes   → ${formatBytes(c.bytes.c2s)}  ← ${formatBytes(c.bytes.s2c)}`,
        `reads   → ${c.reads.c2s}  ← ${c.reads.s2c}`,
        `bad frames ${c.bad}`,
        `keep-alive ${keepAliveRows}${keepAliveRows > 0 && !keepAliveShown() ? ' (hidden: a)' : ''}`,
        `rows ${model.rows.length}${c.droppedRows ? ` (+${c.droppedRows} dropped)` : ''}`,
        ...(c.skippedBytes ? [`{red-fg}not decoded ${formatBytes(c.skippedBytes)}B{/red-fg}`] : []),
      ].join('\n'),
    );
    const flags = [
      paused ? 'PAUSED' : follow ? 'live' : 'scrolled back (End: follow)',
      connFilter !== undefined ? `conn #${connFilter}` : '',
      typeFilter !== undefined ? describeTypeFilter(typeFilter) : '',
      keepAliveRows > 0 && !keepAliveShown() ? `${keepAliveRows} keep-alive hidden` : '',
      hideReads ? 'reads hidden' : '',
      // Without the checklist on screen, the title bar keeps its count.
      layout.checklist ? '' : `${seenCount}/10 steps`,
    ].filter(Boolean);
    titleBar.setContent(titleBarText(title, flags.join(' · '), status, layout.titleBar.width));
  };

  const render = (): void => {
    paintSide();
    screen.render();
    dirty = false;
  };

  // ---- keys
  const move = (delta: number): void => {
    if (filtered.length === 0) return;
    selected = Math.max(0, Math.min(filtered.length - 1, (selected < 0 ? filtered.length - 1 : selected) + delta));
    follow = selected === filtered.length - 1 && delta > 0 && !paused;
    detailScroll = 0;
    dirty = true;
  };
  screen.key(['up', 'k'], () => move(-1));
  screen.key(['down', 'j'], () => move(1));
  screen.key(['pageup'], () => move(-pageSize));
  screen.key(['pagedown'], () => move(pageSize));
  screen.key(['home', 'g'], () => {
    follow = false;
    selected = filtered.length > 0 ? 0 : -1;
    dirty = true;
  });
  screen.key(['end', 'S-g'], () => {
    follow = true;
    dirty = true;
  });
  screen.key(['p', 'space'], () => {
    paused = !paused;
    frozenId = paused ? (model.rows[model.rows.length - 1]?.id ?? 0) : Number.POSITIVE_INFINITY;
    status = paused ? 'paused: traffic still flows, p to resume' : '';
    rebuild();
  });
  screen.key(['c'], () => {
    const conns = model.lifelines.filter((l) => l.id !== SERVER_LIFELINE).map((l) => l.id);
    const index = connFilter === undefined ? -1 : conns.indexOf(connFilter);
    connFilter = index + 1 < conns.length ? conns[index + 1] : undefined;
    status = connFilter === undefined ? 'all connections' : `only connection #${connFilter} (${model.lifeline(connFilter)?.name})`;
    rebuild();
  });
  /** The next type after the one `current` filters on (`undefined` after the last: no filter). */
  const nextType = (current: ReadonlySet<string> | undefined): string | undefined => {
    const types = [...new Set(model.rows.filter((row) => keepAliveShown() || !isKeepAlive(row)).map(rowType))];
    const index = current === undefined || current.size !== 1 ? -1 : types.indexOf([...current][0] as string);
    return types[index + 1];
  };
  screen.key(['t'], () => {
    const type = nextType(typeFilter && 'include' in typeFilter ? typeFilter.include : undefined);
    typeFilter = type === undefined ? undefined : { include: new Set([type]) };
    status = typeFilter === undefined ? 'all types' : describeTypeFilter(typeFilter);
    rebuild();
  });
  screen.key(['S-t'], () => {
    const type = nextType(typeFilter && 'exclude' in typeFilter ? typeFilter.exclude : undefined);
    typeFilter = type === undefined ? undefined : { exclude: new Set([type]) };
    status = typeFilter === undefined ? 'all types' : describeTypeFilter(typeFilter);
    rebuild();
  });
  screen.key(['a'], () => {
    showKeepAlive = !showKeepAlive;
    status = showKeepAlive ? 'keep-alive ping/pong shown' : `keep-alive ping/pong hidden (${keepAliveRows} so far)`;
    rebuild();
  });
  screen.key(['x'], () => {
    connFilter = undefined;
    typeFilter = undefined;
    status = 'filters cleared';
    rebuild();
  });
  screen.key(['r'], () => {
    hideReads = !hideReads;
    status = model.rows.some((r) => r.kind === 'read') ? (hideReads ? 'read rows hidden' : 'read rows shown') : 'no read rows: start with --show-reads';
    rebuild();
  });
  screen.key(['['], () => {
    detailScroll = Math.max(0, detailScroll - 3);
    dirty = true;
  });
  screen.key([']'], () => {
    detailScroll += 3;
    dirty = true;
  });
  const exported: string[] = [];
  screen.key(['e'], () => {
    try {
      const files = writeSessionExports(model, options.exportDir);
      exported.push(...files);
      status = `exported ${shortPath(files[0] ?? '').replace(/\.mmd$/, '')}.{mmd,svg,txt}`;
    } catch (error) {
      status = `export failed: ${(error as Error).message}`;
    }
    dirty = true;
  });
  screen.key(['?', 'h'], () => {
    help.toggle();
    dirty = true;
  });
  screen.key(['escape'], () => {
    if (!help.hidden) help.hide();
    dirty = true;
  });
  let resolveQuit!: () => void;
  const quit = new Promise<void>((resolve) => (resolveQuit = resolve));
  screen.key(['q', 'C-c'], () => resolveQuit());
  screen.on('resize', relayout);

  const timer = setInterval(() => {
    if (dirty) render();
  }, 80);
  // The sparkline slides with wall-clock time even when nothing happens.
  const tick = setInterval(() => {
    dirty = true;
  }, 1000);
  rebuild();
  render();

  let destroyed = false;
  return {
    exported,
    addRows(rows) {
      if (destroyed) return;
      for (const row of rows) {
        if (isKeepAlive(row)) keepAliveRows++;
        if (matches(row)) filtered.push(row);
      }
      if (rows.length > 0 && filtered.length > model.rows.length + 1000) rebuild();
      dirty = true;
    },
    setStatus(text) {
      // After destroy() the terminal belongs to the shell again: never paint on it.
      if (destroyed) return;
      status = text;
      dirty = true;
      render();
    },
    setTitle(text) {
      title = text;
      dirty = true;
    },
    quit,
    destroy() {
      if (destroyed) return;
      destroyed = true;
      clearInterval(timer);
      clearInterval(tick);
      screen.destroy();
    },
  };
}
