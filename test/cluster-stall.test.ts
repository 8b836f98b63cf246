/**
 * Redis hangs (issue 15): stopped with SIGSTOP, it keeps its connections open and answers nothing.
 * A login must not wait for it without bound, must not leave a claim held for nobody, and when
 * Redis resumes no node may be reaped for the leases that ran out while nobody could renew them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createClusterServer, type RedisBackplane } from '../src/server/cluster/index.ts';
import { TEST_SCRYPT, TEST_USERS } from '../test-support/chat-server.ts';
import { FrameSocket } from '../test-support/frame-socket.ts';
import { redisPerFile } from '../test-support/redis-per-file.ts';
import { startClusterNode, type TestClusterNode } from '../test-support/cluster-node.ts';

const redis = redisPerFile();
const stops: Array<() => Promise<void>> = [];
const sockets: FrameSocket[] = [];

afterEach(async () => {
  redis.resume();
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

/** A node whose Redis commands wait at most `commandTimeoutMs`. */
async function impatientNode(nodeId: string, commandTimeoutMs: number, leaseMs: number): Promise<{ port: number; backplane: RedisBackplane }> {
  const spoolDir = mkdtempSync(join(tmpdir(), 'chatlab-spool-'));
  const cluster = await createClusterServer({ port: 0, scrypt: TEST_SCRYPT, redis: { url: redis.url, nodeId, leaseMs, commandTimeoutMs }, spool: join(spoolDir, 'spool.db') });
  stops.push(async () => {
    await cluster.server.stop();
    rmSync(spoolDir, { recursive: true, force: true });
  });
  for (const user of ['alice', 'carol']) await cluster.accounts.add(user, TEST_USERS[user] as string);
  return { port: (await cluster.server.start()).port, backplane: cluster.backplane };
}

async function connect(port: number, label: string): Promise<FrameSocket> {
  const socket = await FrameSocket.connect(port, { label });
  sockets.push(socket);
  await socket.next('hello');
  return socket;
}

async function node(name: string, leaseMs: number): Promise<TestClusterNode> {
  const started = await startClusterNode(redis.url, name, leaseMs);
  stops.push(() => started.stop());
  return started;
}

describe('a cluster whose Redis hangs', () => {
  it('refuses a login within the command bound', async () => {
    const { port } = await impatientNode('A', 400, 20_000);
    const alice = await connect(port, 'alice');
    redis.pause();
    const asked = Date.now();
    alice.send({ type: 'login', user: 'alice', password: TEST_USERS.alice, id: 1 });
    expect(await alice.next('error', 5_000)).toMatchObject({ code: 'internal', id: 1, message: expect.stringMatching(/cannot log you in now.*timed out/) });
    expect(Date.now() - asked).toBeLessThan(3_000);
    redis.resume();
    alice.send({ type: 'login', user: 'alice', password: TEST_USERS.alice, id: 2 });
    expect(await alice.next(['welcome', 'error'])).toMatchObject({ type: 'welcome', user: 'alice', id: 2 });
  });

  it("defers a say within the command bound: the node's users get it at once, the store once Redis resumes, once", async () => {
    const { port } = await impatientNode('A', 400, 20_000);
    const [alice, carol] = [await connect(port, 'alice'), await connect(port, 'carol')];
    for (const [socket, user] of [
      [alice, 'alice'],
      [carol, 'carol'],
    ] as const) {
      socket.send({ type: 'login', user, password: TEST_USERS[user] });
      await socket.next('welcome');
    }
    await alice.next('presence');
    redis.pause();
    alice.send({ type: 'say', text: 'is anyone storing this?', id: 's' });
    expect(await alice.next(['ok', 'error'], 5_000)).toEqual({ type: 'ok', id: 's', deferred: true });
    expect(await carol.next('message')).not.toHaveProperty('msgid');
    redis.resume();
    // The say's EVAL, sent before the pause, runs now; the flush that follows must find it, not record it again.
    alice.send({ type: 'say', text: 'after the pause', id: 'after' });
    expect(await alice.next(['ok', 'error'], 5_000)).toMatchObject({ type: 'ok', id: 'after' });
    const store = new Redis(redis.url);
    try {
      const texts = async (): Promise<string[]> =>
        ((await store.xrange('chatlab:history:room:lobby', '-', '+')) as Array<[string, string[]]>).map(([, fields]) => fields[fields.indexOf('text') + 1] as string);
      // The later say is recorded behind the deferred one (in the spool, or after it): once it is there, the flush is done.
      await expect.poll(texts, { timeout: 5_000, interval: 50 }).toContain('after the pause');
      expect((await texts()).filter((text) => text === 'is anyone storing this?')).toHaveLength(1);
    } finally {
      store.disconnect();
    }
  });

  it('leaves no claim held for nobody: a claim Redis answers too late is released behind it', async () => {
    const { backplane } = await impatientNode('A', 300, 20_000);
    const store = new Redis(redis.url);
    try {
      // Redis stops running scripts (writes) but still answers reads and CLIENT.
      await store.call('CLIENT', 'PAUSE', '20000', 'WRITE');
      await expect(backplane.claim('alice')).rejects.toThrow(/timed out/);
      await store.call('CLIENT', 'UNPAUSE');
      // Behind the claim and its release on the node's one connection: both have run.
      await backplane.redis.ping();
      expect(await store.hget('chatlab:online', 'alice')).toBeNull();
    } finally {
      await store.call('CLIENT', 'UNPAUSE');
      store.disconnect();
    }
  });

  it('reaps nobody for the leases that ran out while Redis was stopped: users stay online on every node', async () => {
    const a = await node('A', 600);
    const b = await node('B', 600);
    const alice = await a.login('alice');
    sockets.push(alice);
    await expect.poll(() => b.server.hub.isOnline('alice'), { timeout: 5_000, interval: 20 }).toBe(true);
    const bob = await b.login('bob');
    sockets.push(bob);
    await alice.next('presence');
    redis.pause();
    // Three leases without an answer: every lease in Redis has run out when it resumes.
    await new Promise((resolve) => setTimeout(resolve, 1_800));
    redis.resume();
    // Two more leases: a reaping would have come by now, and then nobody's lease could be renewed.
    const twoLeases = new Promise((resolve) => setTimeout(resolve, 1_200));
    const spoken = (async () => {
      await twoLeases;
      alice.send({ type: 'say', text: 'still here', id: 'after' });
      return alice.next(['ok', 'error', 'presence', 'bye'], 5_000);
    })();
    expect(await spoken).toMatchObject({ type: 'ok', id: 'after' });
    expect(await bob.next(['message', 'presence', 'bye'])).toMatchObject({ type: 'message', from: 'alice', text: 'still here' });
    expect(a.server.hub.isOnline('bob') && b.server.hub.isOnline('alice')).toBe(true);
  });
});
