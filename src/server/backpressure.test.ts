/**
 * Server-level backpressure, end to end on real sockets: under a flood the server's queued output
 * stays under its high-water mark and nothing is lost or reordered; clients that never read are
 * cut off instead of stalling everyone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RawFrame } from '../protocol/index.ts';
import { startTestServer, type TestServer } from '../../test-support/chat-server.ts';
import { until } from '../../test-support/client-events.ts';
import type { FrameSocket } from '../../test-support/frame-socket.ts';
import { within } from '../../test-support/promises.ts';
import type { ServerErrorEvent } from './events.ts';

let chat: TestServer | undefined;
const cleanups: Array<() => void> = [];
afterEach(async () => {
  cleanups.splice(0).forEach((cleanup) => cleanup());
  await chat?.stop();
  chat = undefined;
});

const PASSWORD = 'a-long-enough-password';
const UNLIMITED_RATE = { rateLimitPerSecond: 1e9, rateLimitBurst: 1e9 };

function usersNamed(names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, PASSWORD]));
}

/** The texts of the messages `socket` received from `from`, in arrival order. */
function textsFrom(socket: FrameSocket, from: string): string[] {
  return socket.received.filter((frame: RawFrame) => frame.type === 'message' && frame.from === from).map((frame) => frame.text as string);
}

describe('server-level output backpressure', () => {
  it('under a flood, keeps its queued output bounded, and every message reaches every reader, in order', async () => {
    const high = 256 * 1024;
    const senders = ['s0', 's1', 's2', 's3', 's4', 's5'];
    const readers = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5'];
    const perSender = 300;
    chat = await startTestServer({
      users: usersNamed([...senders, ...readers]),
      limits: { ...UNLIMITED_RATE, outputHighWaterBytes: high, outputLowWaterBytes: 64 * 1024, outputStallMs: 60_000, historyReplayLimit: 0 },
    });
    const clients = new Map<string, FrameSocket>();
    for (const name of [...senders, ...readers]) clients.set(name, await chat.login(name));

    // The readers read in fits and starts: 2 ms on, 6 ms off.
    for (const name of readers) {
      const socket = (clients.get(name) as FrameSocket).socket;
      let reading = true;
      const timer = setInterval(() => ((reading = !reading) ? socket.resume() : socket.pause()), 4);
      cleanups.push(() => clearInterval(timer));
    }

    // Every sender writes all its messages at once: far more than the server may queue.
    const pad = 'x'.repeat(600);
    const textOf = (sender: string, seq: number) => `${sender} ${seq} ${pad}`;
    await Promise.all(
      senders.map((sender) => {
        const frames = Array.from({ length: perSender }, (_, seq) => `${JSON.stringify({ type: 'say', text: textOf(sender, seq) })}\n`);
        return (clients.get(sender) as FrameSocket).sendRaw(frames.join(''));
      }),
    );
    for (const [name, socket] of clients) {
      for (const sender of senders) {
        if (sender === name) continue;
        const last = textOf(sender, perSender - 1);
        await socket.next((frame) => frame.type === 'message' && frame.text === last, 20_000);
      }
    }
    cleanups.splice(0).forEach((cleanup) => cleanup());

    // Nothing lost, nothing reordered: each reader got each sender's messages exactly in sequence.
    const expected = (sender: string) => Array.from({ length: perSender }, (_, seq) => textOf(sender, seq));
    for (const [name, socket] of clients) {
      for (const sender of senders) expect(textsFrom(socket, sender), `${name} from ${sender}`).toEqual(sender === name ? [] : expected(sender));
    }

    const stats = chat.server.output;
    const frameBytes = Buffer.byteLength(JSON.stringify({ type: 'message', from: 's0', room: 'lobby', text: textOf('s0', 0), ts: Date.now(), msgid: 9999 })) + 1;
    const fanOut = (senders.length + readers.length - 1) * frameBytes;
    const delivered = senders.length * perSender * fanOut;
    expect(delivered).toBeGreaterThan(40 * high); // the flood was far larger than the bound...
    expect(stats.pauses).toBeGreaterThan(0); // ...so input had to pause...
    expect(stats.peakQueuedBytes).toBeLessThanOrEqual(high + 2 * fanOut); // ...and the bound held (one frame's fan-out over at most)
    // Every byte counted was uncounted again once written: no leak in the account.
    await until(() => chat!.server.output.queuedBytes === 0, `the queued output to return to 0 (it is ${chat.server.output.queuedBytes})`, 5000);
    expect(chat.server.output).toMatchObject({ paused: false, stallCutoffs: 0 });
  });

  it('clients that never read do not stall the others: they are cut off with output_overflow, the others keep chatting', async () => {
    chat = await startTestServer({
      users: usersNamed(['alice', 'bob', 'carol', 'dave', 'erin']),
      limits: {
        ...UNLIMITED_RATE,
        outputHighWaterBytes: 256 * 1024,
        outputLowWaterBytes: 128 * 1024,
        outputStallMs: 500,
        maxOutputBytes: 64 * 1024 * 1024, // out of the way: only the stall rule may cut anyone here
        // dave's error waits behind his unread output: the server must not destroy his socket before
        // he reads again, however long the readers' checks below take on a busy machine.
        closeGraceMs: 60_000,
      },
    });
    const cut = new Map<string, ServerErrorEvent>();
    chat.server.events.on('error', (event) => {
      if (event.code === 'output_overflow' && event.user) cut.set(event.user, event);
    });
    const alice = await chat.login('alice');
    const bob = await chat.login('bob');
    const carol = await chat.login('carol');
    const dave = await chat.login('dave');
    const erin = await chat.login('erin');
    dave.socket.pause(); // dave and erin never read: their kernel buffers fill, then their outboxes
    erin.socket.pause();

    const text = '🐘'.repeat(4000); // a ~16 KB frame
    let sent = 0;
    let slowest = 0;
    while ((!cut.has('dave') || !cut.has('erin')) && sent < 4000) {
      const batch = Array.from({ length: 10 }, () => `${JSON.stringify({ type: 'say', text, id: ++sent })}\n`).join('');
      const started = Date.now();
      await alice.sendRaw(batch);
      await alice.next((frame) => frame.type === 'ok' && frame.id === sent, 5000);
      slowest = Math.max(slowest, Date.now() - started);
    }
    expect([...cut.keys()].sort()).toEqual(['dave', 'erin']);
    for (const event of cut.values()) expect(event.message).toMatch(/stuck for \d+ ms while the server was overloaded/);
    expect(chat.server.output.stallCutoffs).toBeGreaterThanOrEqual(1);
    // The stall held everyone's input for about outputStallMs, not indefinitely.
    expect(slowest).toBeLessThan(4000);

    // bob and carol, who read, got every single message, in order, and still get new ones.
    for (const reader of [bob, carol]) {
      await until(() => textsFrom(reader, 'alice').length === sent, `all ${sent} messages to reach a reader`, 10_000);
      const ids = reader.received.filter((frame) => frame.type === 'message').map((frame) => frame.msgid as number);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    }
    alice.send({ type: 'say', text: 'after the cut', id: 'last' });
    for (const reader of [bob, carol]) expect(await reader.next((frame) => frame.type === 'message' && frame.text === 'after the cut')).toMatchObject({ from: 'alice' });

    // dave, once he reads again, finds the output_overflow error last, then the close.
    dave.socket.resume();
    await within(dave.closed(5000), 6000, () => 'dave was not closed');
    expect(dave.received.at(-1)).toMatchObject({ type: 'error', code: 'output_overflow' });
    erin.destroy(); // she never reads: without this, stop() would wait out the grace period
    await until(() => chat!.server.output.queuedBytes === 0 && !chat!.server.output.paused, 'the server to settle', 5000);
  });
});
