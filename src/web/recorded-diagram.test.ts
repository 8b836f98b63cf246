import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelFromEvents, readTrace, type WireEvent } from '../inspector/index.ts';
import { WIRE_FEED_MAX_ROWS } from './diagram-feed.ts';
import { toDiagramLifeline, toDiagramRow } from './diagram-row.ts';
import { RecordedDiagramTooLongError, recordedDiagram } from './recorded-diagram.ts';

const LESSON_05 = join(import.meta.dirname, '..', '..', 'lessons', '05-welcome', 'trace.jsonl');

describe('recordedDiagram', () => {
  it('turns a recorded lesson trace into the rows and lifelines the inspector model draws, as JSON', async () => {
    const events = await readTrace(LESSON_05);
    const diagram = JSON.parse(JSON.stringify(recordedDiagram(events))) as ReturnType<typeof recordedDiagram>;
    // The same rows as the exporter's model of the same trace (what `inspect export` draws), page-shaped.
    const model = modelFromEvents(events);
    expect(diagram.rows).toEqual(model.rows.map(toDiagramRow));
    expect(diagram.lifelines).toEqual(model.lifelines.map(toDiagramLifeline));
    expect(diagram.lifelines.map((lifeline) => lifeline.name)).toEqual(expect.arrayContaining(['server', 'alice']));
    // Each frame keeps its type, its step badge and its JSON line for the detail panel.
    const login = diagram.rows.find((row) => row.type === 'login');
    expect(login).toMatchObject({ kind: 'frame', dir: 'c2s', step: 4 });
    expect(JSON.parse(login?.detail ?? '')).toMatchObject({ type: 'login' });
    expect(diagram.rows.find((row) => row.type === 'welcome')?.step).toBe(5);
  });

  it('refuses a recording longer than a diagram feed keeps, rather than drop its start', () => {
    const say = (n: number): Buffer => Buffer.from(`${JSON.stringify({ type: 'say', text: `line ${n}` })}\n`);
    const events: WireEvent[] = [{ kind: 'open', t: 1, conn: 1, peer: '127.0.0.1:5' }];
    for (let n = 0; n <= WIRE_FEED_MAX_ROWS; n++) events.push({ kind: 'data', t: 2 + n, conn: 1, dir: 'c2s', read: n + 1, bytes: say(n) });
    expect(() => recordedDiagram(events)).toThrow(RecordedDiagramTooLongError);
    expect(recordedDiagram(events.slice(0, 100)).rows.length).toBeGreaterThanOrEqual(99);
  });
});
