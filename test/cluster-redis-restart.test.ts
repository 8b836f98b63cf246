/**
 * Redis restarted under load (issue 15): alice on node A keeps saying, in pipelined rounds, while
 * Redis is killed (SIGKILL) and started again on the same port with its append-only file. Whatever
 * each `say` was answered, nothing acknowledged is lost: every acknowledged message is in the
 * lobby's history once, nothing is there that was never said, history keeps alice's order, and bob
 * on node B never gets a message twice or out of order. Neither node crashes.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { RawFrame } from '../src/protocol/index.ts';
import { startClusterNode, stoppedAfterEach } from '../test-support/cluster-node.ts';
import type { FrameSocket } from '../test-support/frame-socket.ts';
import { redisPerFile } from '../test-support/redis-per-file.ts';

const redis = redisPerFile({ persist: true });
const { nodes, sockets } = stoppedAfterEach();

const ROUND = 16;

/**
 * Sends `size` says at once; resolves with each one's answer, in the frames' order. `afterFirst`
 * runs as soon as the first answer is in, while the rest are still on their way.
 */
async function sayRound(alice: FrameSocket, round: number, size = ROUND, afterFirst?: () => Promise<void>): Promise<Array<{ text: string; answer: RawFrame }>> {
  const texts = Array.from({ length: size }, (_, i) => `r${round}-${i}`);
  for (const text of texts) alice.send({ type: 'say', text, id: text });
  const answers: Array<{ text: string; answer: RawFrame }> = [];
  for (const text of texts) {
    answers.push({ text, answer: await alice.next((frame) => frame.id === text && (frame.type === 'ok' || frame.type === 'error'), 10_000) });
    if (answers.length === 1) await afterFirst?.();
  }
  return answers;
}

/** The texts of the lobby's history as Redis holds it, in msgid order. */
async function storedTexts(url: string): Promise<string[]> {
  const store = new Redis(url);
  try {
    const entries = (await store.xrange('chatlab:history:room:lobby', '-', '+')) as Array<[string, string[]]>;
    return entries.map(([, fields]) => fields[fields.indexOf('text') + 1] as string);
  } finally {
    store.disconnect();
  }
}

describe('a cluster whose Redis restarts under load', () => {
  it('loses no acknowledged message, stores none twice, keeps the sender’s order, and relays nothing twice', async () => {
    // alice sends far more than a chatting user: no rate limit in the way.
    const limits = { rateLimitPerSecond: 10_000, rateLimitBurst: 10_000 };
    const a = await startClusterNode(redis.url, 'A', 1_000, limits);
    const b = await startClusterNode(redis.url, 'B', 1_000, limits);
    nodes.push(a, b);
    const alice = await a.login('alice');
    const bob = await b.login('bob');
    sockets.push(alice, bob);
    await alice.next('presence');
    const answered: Array<{ text: string; answer: RawFrame }> = [];
    let round = 0;
    const sayRounds = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++) answered.push(...(await sayRound(alice, round++)));
    };
    await sayRounds(3);
    // Killed while a big round is on its way: some of its says are recorded, some never reach Redis.
    answered.push(...(await sayRound(alice, round++, 400, () => redis.kill())));
    await sayRounds(2);
    await redis.start();
    await expect.poll(() => a.backplane.available && b.backplane.available, { timeout: 10_000, interval: 50 }).toBe(true);
    // Three rounds after Redis is back, every say of the last one acknowledged: the load goes on.
    await sayRounds(3);
    expect(answered.slice(-ROUND).map(({ answer }) => answer.type)).toEqual(Array(ROUND).fill('ok'));

    const acknowledged = answered.filter(({ answer }) => answer.type === 'ok').map(({ text }) => text);
    const said = answered.map(({ text }) => text);
    for (const { answer } of answered.filter(({ answer }) => answer.type === 'error')) {
      expect(answer).toMatchObject({ code: 'internal', message: expect.stringContaining('Redis') });
    }
    // Every acknowledged message reaches the store (one deferred while Redis was away comes when it is back).
    const missing = async (): Promise<string[]> => {
      const stored = await storedTexts(redis.url);
      return acknowledged.filter((text) => !stored.includes(text));
    };
    await expect.poll(missing, { timeout: 10_000, interval: 100 }).toEqual([]);
    const stored = await storedTexts(redis.url);
    expect(new Set(stored).size).toBe(stored.length);
    expect(stored.every((text) => said.includes(text))).toBe(true);
    expect(stored).toEqual([...stored].sort((x, y) => said.indexOf(x) - said.indexOf(y)));

    // bob on node B: each message at most once, in alice's order, and the last round whole.
    const last = said.at(-1) as string;
    const received: string[] = [];
    for (;;) {
      const frame = await bob.next('message', 10_000);
      received.push(frame.text as string);
      if (frame.text === last) break;
    }
    expect(new Set(received).size).toBe(received.length);
    expect(received).toEqual([...received].sort((x, y) => said.indexOf(x) - said.indexOf(y)));
    expect(received.slice(-ROUND)).toEqual(said.slice(-ROUND));
  });
});
