import { describe, expect, it } from 'vitest';
import { keyBarText, MIN_SIZE, overlaps, SIDE_WIDTH, titleBarText, tuiLayout, visibleBoxes, type Rect, type TuiLayout } from './tui-layout.ts';

/** Every shown box inside the screen, no two sharing a cell. */
function expectSound(layout: TuiLayout, cols: number, rows: number): void {
  const boxes = visibleBoxes(layout);
  for (const [name, box] of boxes) {
    expect(box.top, name).toBeGreaterThanOrEqual(0);
    expect(box.left, name).toBeGreaterThanOrEqual(0);
    expect(box.width, name).toBeGreaterThanOrEqual(1);
    expect(box.height, name).toBeGreaterThanOrEqual(1);
    expect(box.left + box.width, name).toBeLessThanOrEqual(cols);
    expect(box.top + box.height, name).toBeLessThanOrEqual(rows);
  }
  for (const [i, [a, boxA]] of boxes.entries()) {
    for (const [b, boxB] of boxes.slice(i + 1)) expect(overlaps(boxA, boxB), `${a} over ${b} at ${cols}×${rows}`).toBe(false);
  }
}

function expectAtLeastMinimum(name: string, box: Rect | undefined): void {
  const min = MIN_SIZE[name as keyof typeof MIN_SIZE];
  expect(box, name).toBeDefined();
  expect(box!.width, name).toBeGreaterThanOrEqual(min.width);
  expect(box!.height, name).toBeGreaterThanOrEqual(min.height);
}

describe('tuiLayout', () => {
  for (const [cols, rows] of [
    [80, 24],
    [100, 30],
    [120, 36],
    [200, 60],
  ] as const) {
    it(`${cols}×${rows}: no two boxes overlap, each shown box is at least its minimum, title and key bars kept`, () => {
      const layout = tuiLayout(cols, rows);
      expectSound(layout, cols, rows);
      expect(layout.titleBar).toEqual({ top: 0, left: 0, width: cols, height: 1 });
      expect(layout.keyBar).toEqual({ top: rows - 1, left: 0, width: cols, height: 1 });
      for (const [name, box] of visibleBoxes(layout)) if (name in MIN_SIZE) expectAtLeastMinimum(name, box);
      expectAtLeastMinimum('diagram', layout.diagram);
      expectAtLeastMinimum('detail', layout.detail);
    });
  }

  it('80×24: the side panes are hidden and the diagram takes the whole width above the detail pane', () => {
    const layout = tuiLayout(80, 24);
    expect(layout.checklist).toBeUndefined();
    expect(layout.throughput).toBeUndefined();
    expect(layout.counters).toBeUndefined();
    expect(layout.diagram.width).toBe(80);
    expect(layout.diagram.height + layout.detail!.height).toBe(22);
  });

  it('from 100 columns the side column shows the whole checklist beside the diagram; taller screens add throughput and counters', () => {
    const medium = tuiLayout(100, 30);
    expect(medium.checklist).toEqual({ top: 1, left: 100 - SIDE_WIDTH, width: SIDE_WIDTH, height: 12 });
    expect(medium.diagram.width).toBe(100 - SIDE_WIDTH);
    expect(medium.throughput).toBeDefined();
    const large = tuiLayout(200, 60);
    expect(large.throughput?.height).toBe(5);
    expect(large.counters?.height).toBeGreaterThanOrEqual(8);
    // The side column ends where the detail pane begins.
    expect(large.counters!.top + large.counters!.height).toBe(large.detail!.top);
  });

  it('never overlaps and stays on screen at any size, down to tiny terminals', () => {
    for (let cols = 10; cols <= 220; cols += 7) {
      for (let rows = 3; rows <= 70; rows += 3) expectSound(tuiLayout(cols, rows), cols, rows);
    }
  });
});

describe('keyBarText', () => {
  const entries = [
    { keys: '↑↓', what: 'select', priority: 5 },
    { keys: 'x', what: 'clear', priority: 1 },
    { keys: 'e', what: 'export', priority: 3 },
    { keys: '?', what: 'help', priority: 10 },
    { keys: 'q', what: 'quit', priority: 10 },
  ];

  it('shows every key when they fit, and leaves out the least important first, keeping the order', () => {
    expect(keyBarText(entries, 80)).toBe(' ↑↓ select  x clear  e export  ? help  q quit');
    expect(keyBarText(entries, 40)).toBe(' ↑↓ select  e export  ? help  q quit');
    expect(keyBarText(entries, 10)).toBe(' ? help  q quit');
  });
});

describe('titleBarText', () => {
  it('cuts the title, then leaves it out, so the flags and the status stay whole', () => {
    expect(titleBarText('chatlab inspect', 'live', 'ok', 80)).toBe(' chatlab inspect  [live]  ok');
    expect(titleBarText('chatlab inspect listening on 127.0.0.1:7071', 'live', 'bob says hi', 50)).toBe(' chatlab inspect listening o…  [live]  bob says hi');
    expect(titleBarText('chatlab inspect listening on 127.0.0.1:7071', 'live', 'demo finished: all 10 steps seen. Press q to quit', 60)).toBe(
      ' [live]  demo finished: all 10 steps seen. Press q to quit',
    );
  });
});
