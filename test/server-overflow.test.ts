/**
 * End to end: a client cut off with `output_overflow` is told why. Whatever it had not yet been
 * sent is dropped, but what it receives is whole frames only, the last of them the
 * `output_overflow` error, then the end of the stream; the others are unaffected. A peer that
 * reads nothing at all does not keep its socket: it is destroyed once it stops making progress.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerErrorEvent } from '../src/server/index.ts';
import { OVERFLOW_DRAIN_GRACE_PERIODS } from '../src/server/core.ts';
import { errorFrame, startTestServer, threeUsers, type TestServer } from '../test-support/chat-server.ts';
import type { FrameSocket } from '../test-support/frame-socket.ts';
import { within } from '../test-support/promises.ts';

let chat: TestServer | undefined;
afterEach(async () => {
  await chat?.stop();
  chat = undefined;
});

const GRACE_MS = 300;
const TEXT = '🐘'.repeat(4000); // a ~16 KB frame

/** alice says ~16 KB messages in batches until the server reports `output_overflow` for carol; returns how many. */
async function floodUntilCut(alice: FrameSocket, cut: Promise<ServerErrorEvent>): Promise<number> {
  let done = false;
  void cut.then(() => (done = true));
  let sent = 0;
  while (!done && sent < 3000) {
    const batch = Array.from({ length: 10 }, () => `${JSON.stringify({ type: 'say', text: TEXT, id: ++sent })}\n`).join('');
    await alice.sendRaw(batch);
    await alice.next((frame) => frame.type === 'ok' && frame.id === sent, 5000);
  }
  await within(cut, 1000, () => `no output_overflow after ${sent} messages`);
  return sent;
}

function overflowOf(chat: TestServer, user: string): Promise<ServerErrorEvent> {
  return new Promise((resolve) => chat.server.events.on('error', (event) => event.code === 'output_overflow' && event.user === user && resolve(event)));
}

describe('output_overflow: the client is told why', () => {
  it('a client that stops reading, then reads again, gets whole frames only, the error last, then the end', async () => {
    chat = await startTestServer({ limits: { maxOutputBytes: 256 * 1024, rateLimitPerSecond: 1e6, rateLimitBurst: 1e6, closeGraceMs: GRACE_MS } });
    const [alice, bob, carol] = await threeUsers(chat);
    carol.socket.pause();
    const cut = overflowOf(chat, 'carol');
    const sent = await floodUntilCut(alice, cut);

    // carol reads again, slowly (64 KB every 20 ms): she needs several grace periods to get
    // through what the kernel and her socket hold for her.
    const readOnce = (): void => void carol.socket.pause();
    carol.socket.on('data', readOnce);
    const started = Date.now();
    const reading = setInterval(() => carol.socket.resume(), 20);
    try {
      await carol.closed(20_000);
    } finally {
      clearInterval(reading);
    }
    expect(Date.now() - started).toBeGreaterThan(GRACE_MS);
    expect(carol.decodeErrors).toEqual([]);
    expect(carol.unterminatedBytes).toBe(0);
    expect(carol.serverEnded).toBe(true);
    expect(carol.received.at(-1)).toEqual(errorFrame('output_overflow'));
    const messages = carol.received.filter((frame) => frame.type === 'message');
    expect(messages.every((frame) => frame.text === TEXT)).toBe(true);
    expect(messages.length).toBeLessThan(sent);

    // bob got every message and still chats with alice.
    for (let i = 1; i <= sent; i++) expect((await bob.next('message', 5000)).text).toBe(TEXT);
    expect(await alice.next('presence')).toEqual({ type: 'presence', user: 'carol', status: 'offline', reason: 'output_overflow' });
    bob.send({ type: 'say', text: 'still here', id: 'b' });
    expect(await alice.next('message')).toMatchObject({ from: 'bob', text: 'still here' });
  });

  it('a peer that reads nothing at all does not keep its socket: it is dropped within the drain bound', async () => {
    const graceMs = 100;
    chat = await startTestServer({ limits: { maxOutputBytes: 256 * 1024, rateLimitPerSecond: 1e6, rateLimitBurst: 1e6, closeGraceMs: graceMs } });
    const [alice, bob, carol] = await threeUsers(chat);
    carol.socket.pause(); // for good
    const disconnected = new Promise<number>((resolve) => chat!.server.events.on('disconnect', (event) => event.user === 'carol' && resolve(Date.now())));
    const cut = overflowOf(chat, 'carol');
    await floodUntilCut(alice, cut);
    const cutAt = Date.now();
    const droppedAt = await within(disconnected, 5000, () => 'carol, who reads nothing, still has her socket');
    expect(droppedAt - cutAt).toBeLessThan(graceMs * OVERFLOW_DRAIN_GRACE_PERIODS + 1000);
    expect(chat.server.connectionCount).toBe(2);
    bob.send({ type: 'say', text: 'still here', id: 'b' });
    expect(await alice.next((frame) => frame.type === 'message' && frame.text === 'still here', 5000)).toMatchObject({ from: 'bob' });
  });
  it("a server stopping meanwhile does not wait out a cut-off client's drain bound", async () => {
    // closeGraceMs 1 s gives the cut-off client a 10 s drain bound; stop() gets one grace period.
    const graceMs = 1000;
    chat = await startTestServer({ limits: { maxOutputBytes: 256 * 1024, rateLimitPerSecond: 1e6, rateLimitBurst: 1e6, closeGraceMs: graceMs } });
    const [alice, , carol] = await threeUsers(chat);
    carol.socket.pause(); // for good
    await floodUntilCut(alice, overflowOf(chat, 'carol'));
    const stopping = chat.stop();
    chat = undefined;
    await within(stopping, graceMs * OVERFLOW_DRAIN_GRACE_PERIODS - 2 * graceMs, () => "stop() waited for the cut-off client's drain bound");
  });
});
