import { afterEach, describe, expect, it } from 'vitest';
import { SessionModel, type WireEvent } from '../inspector/index.ts';
import { InspectorFeed } from './inspector-feed.ts';
import { MAX_DETAIL_LINES, rowDetail } from './inspector-routes.ts';
import { startInspectorWebServer, type InspectorWebServer } from './inspector-web-server.ts';

let server: InspectorWebServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** Applies `events` to a model and a feed, as the inspector's pipeline does. */
function session(events: WireEvent[]): { model: SessionModel; feed: InspectorFeed } {
  const model = new SessionModel({ framing: 'chatlab' });
  const feed = new InspectorFeed();
  for (const event of events) feed.applied(event, model.apply(event));
  return { model, feed };
}

const open: WireEvent = { kind: 'open', t: 1, conn: 1, peer: '127.0.0.1:5' };
const hello: WireEvent = { kind: 'data', t: 2, conn: 1, dir: 's2c', read: 1, bytes: Buffer.from('{"type":"hello","protocol":"chatlab/1"}\n') };

describe('the inspector page routes', () => {
  it('answer 503 until the model is attached, 405 to anything but GET/HEAD, 404 for a row not kept, and a HEAD without a body', async () => {
    const { model, feed } = session([open, hello]);
    expect(model.rows.length).toBeGreaterThan(0);
    server = await startInspectorWebServer({ port: 0, appDir: '/nonexistent', feed });
    const url = (path: string): URL => new URL(path, server?.url);
    expect((await fetch(url('export.svg'))).status).toBe(503);
    feed.attach(model);
    expect((await fetch(url('export.svg'), { method: 'POST' })).status).toBe(405);
    expect((await fetch(url('row-detail?id=abc'))).status).toBe(404);
    const detail = await fetch(url(`row-detail?id=${model.rows[0]?.id}`));
    expect(detail.status).toBe(200);
    expect(((await detail.json()) as { lines: unknown[] }).lines.length).toBeGreaterThan(0);
    const head = await fetch(url('export.jsonl'), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-disposition')).toMatch(/^attachment; filename="chatlab-session-\d{8}-\d{6}\.jsonl"$/);
    expect(await head.text()).toBe('');
  });

  it('cuts the detail of a big chunk at MAX_DETAIL_LINES and says how many lines are left out', () => {
    const say = Buffer.from(`${JSON.stringify({ type: 'say', text: 'x'.repeat(40_000) })}\n`);
    const { model } = session([open, { kind: 'data', t: 2, conn: 1, dir: 'c2s', read: 1, bytes: say }]);
    const row = model.rows.find((r) => r.label === 'say');
    const detail = rowDetail(model, row?.id ?? -1);
    expect(detail?.lines).toHaveLength(MAX_DETAIL_LINES + 1);
    expect(detail?.lines.at(-1)?.[0]?.text).toMatch(/^… \d+ more lines \(export the session to see them all\)$/);
    expect(rowDetail(model, 999)).toBeUndefined();
  });
});
