/**
 * A client that pipelines its says on a cluster node (issue 15): the node records them in a few
 * script calls (group commit) instead of one round trip each, yet every receiver gets them in the
 * frames' order with increasing msgids, and the sender its oks in that order — also when Redis has
 * lost its script cache (NOSCRIPT), and with a `quit` right behind the burst (its `bye` comes
 * after every ok).
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { RawFrame } from '../src/protocol/index.ts';
import { startClusterNode, type TestClusterNode } from '../test-support/cluster-node.ts';
import type { FrameSocket } from '../test-support/frame-socket.ts';
import { commandCalls, resetCommandStats } from '../test-support/redis-command-stats.ts';
import { redisPerFile } from '../test-support/redis-per-file.ts';

/** Says in one burst: well past the node's overlap bound (64), so it also pauses and resumes. */
const BURST = 200;

const redis = redisPerFile();
let node: TestClusterNode | undefined;
const sockets: FrameSocket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await node?.stop();
  node = undefined;
});

async function login(user: string): Promise<FrameSocket> {
  const socket = await (node as TestClusterNode).login(user);
  sockets.push(socket);
  return socket;
}

/** Alice, with bob and carol listening in lobby (each has taken the others' presence). */
async function threeUsers(): Promise<{ alice: FrameSocket; bob: FrameSocket; carol: FrameSocket }> {
  // A burst past the default rate limit (40 frames): these clients may send it all.
  node = await startClusterNode(redis.url, 'A', 1_000, { rateLimitBurst: 4 * BURST, rateLimitPerSecond: 4 * BURST });
  const bob = await login('bob');
  const carol = await login('carol');
  await bob.next((frame) => frame.type === 'presence' && frame.user === 'carol');
  const alice = await login('alice');
  await bob.next((frame) => frame.type === 'presence' && frame.user === 'alice');
  await carol.next((frame) => frame.type === 'presence' && frame.user === 'alice');
  return { alice, bob, carol };
}

/** The burst as one write: `say` frames with ids `p0`, `p1`, … and texts `m0`, `m1`, … (plus what follows). */
function burst(after = ''): string {
  let bytes = '';
  for (let i = 0; i < BURST; i++) bytes += `${JSON.stringify({ type: 'say', text: `m${i}`, id: `p${i}` })}\n`;
  return bytes + after;
}

/** The next `count` frames of `socket`, in arrival order. */
async function take(socket: FrameSocket, count: number): Promise<RawFrame[]> {
  const frames: RawFrame[] = [];
  while (frames.length < count) frames.push(await socket.nextFrame());
  return frames;
}

function expectIncreasing(msgids: unknown[]): void {
  for (let i = 1; i < msgids.length; i++) expect(msgids[i] as number, `msgid #${i}`).toBeGreaterThan(msgids[i - 1] as number);
}

/** Every ok in frame order with increasing msgids; every receiver gets the messages in that order with the same msgids. */
async function expectInOrder(alice: FrameSocket, receivers: FrameSocket[]): Promise<void> {
  const oks = await take(alice, BURST);
  expect(oks.map((frame) => [frame.type, frame.id])).toEqual(Array.from({ length: BURST }, (_, i) => ['ok', `p${i}`]));
  const msgids = oks.map((frame) => frame.msgid);
  expectIncreasing(msgids);
  for (const receiver of receivers) {
    const messages = await take(receiver, BURST);
    expect(messages.map((frame) => [frame.type, frame.from, frame.text])).toEqual(Array.from({ length: BURST }, (_, i) => ['message', 'alice', `m${i}`]));
    expect(messages.map((frame) => frame.msgid)).toEqual(msgids);
  }
}

describe('a cluster node relays pipelined says in order', () => {
  it('records a pipelined burst in a few script calls (group commit), not one per say', async () => {
    const { alice, bob } = await threeUsers();
    await resetCommandStats(redis.url);
    await alice.sendRaw(burst());
    await expectInOrder(alice, [bob]);
    // The node takes 64 says in at a time (then the socket pauses): a handful of record calls, plus
    // the heartbeats meanwhile (also scripts). One record at a time would be 200 calls.
    expect(await commandCalls(redis.url, 'eval')).toBeLessThan(BURST / 4);
  });

  it(`relays ${BURST} says written at once in their order, with increasing msgids, and answers them in order`, async () => {
    const { alice, bob, carol } = await threeUsers();
    await alice.sendRaw(burst());
    await expectInOrder(alice, [bob, carol]);
  });

  it('keeps that order when Redis has flushed its script cache (NOSCRIPT)', async () => {
    const { alice, bob, carol } = await threeUsers();
    alice.send({ type: 'say', text: 'warm-up', id: 'w' });
    expect(await alice.nextFrame()).toMatchObject({ type: 'ok', id: 'w' });
    await bob.next('message');
    await carol.next('message');
    const admin = new Redis(redis.url);
    try {
      await admin.script('FLUSH');
    } finally {
      admin.disconnect();
    }
    await alice.sendRaw(burst());
    await expectInOrder(alice, [bob, carol]);
  });

  it('answers a quit right behind the burst after every ok', async () => {
    const { alice, bob, carol } = await threeUsers();
    await alice.sendRaw(burst(`${JSON.stringify({ type: 'quit', id: 'q' })}\n`));
    await expectInOrder(alice, [bob, carol]);
    expect(await alice.nextFrame()).toEqual({ type: 'bye', id: 'q' });
    expect(await bob.nextFrame()).toMatchObject({ type: 'presence', user: 'alice', status: 'offline' });
  });
});
