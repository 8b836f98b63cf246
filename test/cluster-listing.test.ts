/**
 * Listed vs reachable in a cluster (issue 15): a user is in a `welcome`, a `who` or a `rooms`
 * count only once its `presence online` went out, as on one process, where admission and presence
 * happen in one turn. A clustered login is admitted (and announced to the other nodes, so private
 * messages reach it) a Redis round trip before its presence: its replay is read in between. The
 * test holds carol's replay read on node A, so that window stays open while welcomes and `who`
 * answers are computed on both nodes.
 */
import { describe, expect, it } from 'vitest';
import type { RawFrame } from '../src/protocol/index.ts';
import type { StoredMessage } from '../src/server/index.ts';
import { redisPerFile } from '../test-support/redis-per-file.ts';
import { startClusterNode, stoppedAfterEach, type TestClusterNode } from '../test-support/cluster-node.ts';
import { FrameSocket } from '../test-support/frame-socket.ts';
import { within } from '../test-support/promises.ts';

const redis = redisPerFile();
const { nodes, sockets } = stoppedAfterEach();

async function node(name: string): Promise<TestClusterNode> {
  const started = await startClusterNode(redis.url, name);
  nodes.push(started);
  return started;
}

async function login(on: TestClusterNode, user: string, password?: string): Promise<FrameSocket & { welcome: RawFrame }> {
  const socket = await on.login(user, password);
  sockets.push(socket);
  return socket;
}

/** Waits until `node`'s hub says so (it hears the other nodes one pub/sub hop later). */
async function heard(node: TestClusterNode, predicate: (hub: TestClusterNode['server']['hub']) => boolean): Promise<void> {
  await expect.poll(() => predicate(node.server.hub), { timeout: 2_000, interval: 5 }).toBe(true);
}

/**
 * Holds the last read of `user`'s login replay on `node` (its offline queue, read from Redis as
 * usual) until `release()`: the login stays admitted but not yet announced. `reached` resolves
 * once the read was asked for.
 */
function holdLoginReplay(node: TestClusterNode, user: string): { reached: Promise<void>; release: () => void } {
  const store = node.server.history;
  const read = store.undelivered.bind(store);
  let reach: () => void = () => {};
  let release: () => void = () => {};
  const reached = new Promise<void>((resolve) => (reach = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  store.undelivered = async (who: string, limit: number): Promise<StoredMessage[]> => {
    if (who !== user) return read(who, limit);
    reach();
    await released;
    return read(who, limit);
  };
  return { reached: within(reached, 5_000, `${user}'s login replay to be read`), release };
}

const carolOnline = (frame: RawFrame): boolean => frame.type === 'presence' && frame.user === 'carol' && frame.status === 'online' && frame.room === undefined;

describe('a user is listed once its presence is sent, reachable from its admission', () => {
  it('keeps carol out of welcomes, who and rooms on both nodes while her replay is read; then everyone hears her online exactly once', async () => {
    const a = await node('A');
    const b = await node('B');
    await a.accounts.add('erin', 'erinsecret');
    const alice = await login(a, 'alice');
    const bob = await login(b, 'bob');
    await alice.next((frame) => frame.type === 'presence' && frame.user === 'bob');
    await heard(b, (hub) => hub.users().includes('alice'));

    const hold = holdLoginReplay(a, 'carol');
    const carol = await a.connect('carol@A');
    sockets.push(carol);
    carol.send({ type: 'login', user: 'carol', password: 'caroline' });
    await hold.reached;
    // Admitted on A, and heard of on B: both nodes can reach her, neither lists her yet.
    await heard(b, (hub) => hub.isOnline('carol'));
    expect(a.server.hub.isOnline('carol')).toBe(true);

    const dave = await login(a, 'dave'); // a welcome computed on carol's node
    expect(dave.welcome).toMatchObject({ type: 'welcome', users: ['alice', 'bob', 'dave'] });
    await heard(b, (hub) => hub.users().includes('dave'));
    const erin = await login(b, 'erin', 'erinsecret'); // and on the other node
    expect(erin.welcome).toMatchObject({ type: 'welcome', users: ['alice', 'bob', 'dave', 'erin'] });
    await heard(a, (hub) => hub.users().includes('erin'));
    for (const [socket, id] of [
      [alice, 'wa'],
      [bob, 'wb'],
    ] as const) {
      socket.send({ type: 'who', id });
      expect(await socket.next('users')).toEqual({ type: 'users', users: ['alice', 'bob', 'dave', 'erin'], id });
      socket.send({ type: 'rooms', id });
      expect(await socket.next('room_list')).toEqual({ type: 'room_list', rooms: [{ room: 'lobby', users: 4 }], id });
    }
    // Reachable meanwhile: a private message to her is delivered (after her replay), not queued.
    bob.send({ type: 'say', to: 'carol', text: 'welcome back', id: 'p' });
    expect(await bob.next('ok')).toMatchObject({ id: 'p', msgid: expect.any(Number) });

    hold.release();
    // Her welcome is the list as she was admitted; who came after reaches her as presence (held meanwhile).
    expect(await carol.next(['welcome', 'error'])).toMatchObject({ type: 'welcome', users: ['alice', 'bob', 'carol'] });
    expect(await carol.next('presence')).toEqual({ type: 'presence', user: 'dave', status: 'online' });
    expect(await carol.next('presence')).toEqual({ type: 'presence', user: 'erin', status: 'online' });
    const held = await carol.next('message');
    expect(held).toMatchObject({ from: 'bob', to: 'carol', text: 'welcome back' });
    expect(held.queued).toBeUndefined();
    for (const socket of [alice, bob, dave, erin]) await socket.next(carolOnline);
    await heard(b, (hub) => hub.users().includes('carol'));
    for (const [socket, id] of [
      [alice, 'a2'],
      [bob, 'b2'],
      [dave, 'd2'],
      [erin, 'e2'],
    ] as const) {
      socket.send({ type: 'who', id });
      expect(await socket.next('users')).toEqual({ type: 'users', users: ['alice', 'bob', 'carol', 'dave', 'erin'], id });
      await socket.sync();
      expect(socket.received.filter(carolOnline)).toHaveLength(1);
    }
  });
});
