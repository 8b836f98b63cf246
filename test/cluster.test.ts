/**
 * Several server processes, one chat (issue 15): nodes joined through a real redis-server started
 * on a free port. Every rule of chatlab/1 must hold across nodes as on one process.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from './helpers/redis-server.ts';
import { startClusterNode, type TestClusterNode } from './helpers/cluster-node.ts';
import type { FrameSocket } from './helpers/frame-socket.ts';

let redis: TestRedis;
const nodes: TestClusterNode[] = [];
const sockets: FrameSocket[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(nodes.splice(0).map((node) => node.stop()));
});

async function node(name: string): Promise<TestClusterNode> {
  const started = await startClusterNode(redis.url, name);
  nodes.push(started);
  return started;
}

async function login(on: TestClusterNode, user: string): Promise<FrameSocket & { welcome: Record<string, unknown> }> {
  const socket = await on.login(user);
  sockets.push(socket);
  return socket;
}

describe('a cluster of two nodes', () => {
  it('plays the ten steps with alice on node A and bob on node B', async () => {
    const a = await node('A');
    const b = await node('B');
    const alice = await login(a, 'alice');
    expect(alice.welcome).toMatchObject({ type: 'welcome', users: ['alice'] });
    const bob = await login(b, 'bob');
    expect(bob.welcome).toMatchObject({ type: 'welcome', users: ['alice', 'bob'] });
    expect(await alice.next('presence')).toEqual({ type: 'presence', user: 'bob', status: 'online' });
    bob.send({ type: 'say', text: 'hello from B', id: 1 });
    expect(await bob.next('ok')).toMatchObject({ id: 1, msgid: expect.any(Number) });
    expect(await alice.next('message')).toMatchObject({ from: 'bob', room: 'lobby', text: 'hello from B' });
    alice.send({ type: 'say', text: 'hi from A' });
    expect(await bob.next('message')).toMatchObject({ from: 'alice', room: 'lobby', text: 'hi from A' });
    bob.send({ type: 'who', id: 'w' });
    expect(await bob.next('users')).toEqual({ type: 'users', users: ['alice', 'bob'], id: 'w' });
    alice.send({ type: 'quit' });
    expect(await alice.next('bye')).toEqual({ type: 'bye' });
    expect(await bob.next('presence')).toEqual({ type: 'presence', user: 'alice', status: 'offline' });
    alice.end();
  });
});
