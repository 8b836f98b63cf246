import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { SessionModel, type WireEvent } from '../inspector/index.ts';
import { CLOSE_FELL_BEHIND } from './diagram-feed.ts';
import { InspectorFeed } from './inspector-feed.ts';

let wss: WebSocketServer | undefined;
afterEach(() => {
  wss?.close();
  wss = undefined;
});

/** A WebSocket server on a free port whose every connection subscribes to `feed`. */
async function serve(feed: InspectorFeed): Promise<string> {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (ws) => feed.subscribe(ws));
  await once(wss, 'listening');
  return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
}

/** Applies `event` to the model and hands its rows to the feed, as the inspector's pipeline does; returns the rows' ids. */
function apply(model: SessionModel, feed: InspectorFeed, event: WireEvent): number[] {
  const rows = model.apply(event);
  feed.applied(event, rows);
  return rows.map((row) => row.id);
}

const say = (text: string): Buffer => Buffer.from(`${JSON.stringify({ type: 'say', text })}\n`);

describe('InspectorFeed', () => {
  it('gives a tab opened late the rows and lifelines so far, then each new row', async () => {
    const model = new SessionModel({ framing: 'chatlab' });
    const feed = new InspectorFeed();
    const ids = apply(model, feed, { kind: 'open', t: 1, conn: 1, peer: '127.0.0.1:5' });
    feed.attach(model);
    ids.push(...apply(model, feed, { kind: 'data', t: 2, conn: 1, dir: 'c2s', read: 1, bytes: say('early') }));
    const tab = new WebSocket(await serve(feed));
    const messages: string[] = [];
    tab.on('message', (data: Buffer) => messages.push(data.toString()));
    await once(tab, 'message');
    const first = JSON.parse(messages[0] as string) as { lifelines: { id: number }[]; rows: { id: number; type?: string }[] };
    expect(first.lifelines.map((lifeline) => lifeline.id)).toEqual(model.lifelines.map((lifeline) => lifeline.id));
    expect(first.rows.map((row) => row.id)).toEqual(ids);
    expect(first.rows.at(-1)?.type).toBe('say');
    apply(model, feed, { kind: 'data', t: 3, conn: 1, dir: 'c2s', read: 2, bytes: say('later') });
    await once(tab, 'message');
    expect((JSON.parse(messages[1] as string) as { rows: { detail?: string }[] }).rows[0]?.detail).toContain('later');
    tab.close();
  });

  it('closes a tab that stops reading (1013) instead of buffering for ever; a tab opened afterwards gets the history', async () => {
    const model = new SessionModel({ framing: 'chatlab', maxRows: 20 });
    const feed = new InspectorFeed();
    feed.attach(model);
    apply(model, feed, { kind: 'open', t: 1, conn: 1, peer: '127.0.0.1:5' });
    const url = await serve(feed);
    const stuck = new WebSocket(url);
    await once(stuck, 'message');
    // The tab reads nothing more: its TCP socket is paused.
    (stuck as unknown as { _socket: { pause(): void } })._socket.pause();
    expect(feed.subscriberCount).toBe(1);
    const text = 'x'.repeat(500);
    for (let i = 0; i < 40_000 && feed.subscriberCount > 0; i++) {
      apply(model, feed, { kind: 'data', t: 2 + i, conn: 1, dir: 'c2s', read: i + 1, bytes: say(text) });
      if (i % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(feed.subscriberCount).toBe(0);
    (stuck as unknown as { _socket: { resume(): void } })._socket.resume();
    const [code] = (await once(stuck, 'close')) as [number];
    expect(code).toBe(CLOSE_FELL_BEHIND);
    const fresh = new WebSocket(url);
    const [history] = (await once(fresh, 'message')) as [Buffer];
    expect((JSON.parse(history.toString()) as { rows: unknown[] }).rows.length).toBeGreaterThan(0);
    fresh.close();
  });
});
