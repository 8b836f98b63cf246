/**
 * Several server processes, one chat (issue 15): nodes joined through a real redis-server started
 * on a free port. Every rule of chatlab/1 must hold across nodes as on one process.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisPerFile } from '../test-support/redis-per-file.ts';
import { startClusterNode, stoppedAfterEach, type TestClusterNode } from '../test-support/cluster-node.ts';
import { ADMIT_WAIT_MS } from '../src/server/cluster/shared-connection-count.ts';
import { FrameSocket } from '../test-support/frame-socket.ts';
import { chunksOf, pseudoRandomBytes, sha256Hex } from '../test-support/extensions.ts';

const redis = redisPerFile({ persist: true });
const { nodes, sockets } = stoppedAfterEach();

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
    await heard(b, (hub) => hub.isOnline('alice'));
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

  it('relays rooms and private messages across nodes, and their presences', async () => {
    const a = await node('A');
    const b = await node('B');
    const alice = await login(a, 'alice');
    const bob = await login(b, 'bob');
    await alice.next('presence');
    alice.send({ type: 'join', room: 'dev', id: 'j1' });
    expect(await alice.next('history_end')).toMatchObject({ room: 'dev' });
    await heard(b, (hub) => hub.roomUsers('dev').includes('alice'));
    bob.send({ type: 'join', room: 'dev', id: 'j2' });
    expect(await bob.next('users')).toEqual({ type: 'users', room: 'dev', users: ['alice', 'bob'], id: 'j2' });
    expect(await alice.next('presence')).toEqual({ type: 'presence', user: 'bob', status: 'online', room: 'dev' });
    bob.send({ type: 'say', room: 'dev', text: 'in dev' });
    expect(await alice.next('message')).toMatchObject({ from: 'bob', room: 'dev', text: 'in dev' });
    alice.send({ type: 'say', to: 'bob', text: 'psst', id: 'p' });
    expect(await alice.next('ok')).toMatchObject({ id: 'p', msgid: expect.any(Number) });
    expect(await bob.next('message')).toMatchObject({ from: 'alice', to: 'bob', text: 'psst' });
    alice.send({ type: 'rooms', id: 'r' });
    expect(await alice.next('room_list')).toEqual({
      type: 'room_list',
      rooms: [
        { room: 'dev', users: 2 },
        { room: 'lobby', users: 2 },
      ],
      id: 'r',
    });
    bob.send({ type: 'leave', room: 'dev', id: 'l' });
    expect(await bob.next('ok')).toEqual({ type: 'ok', id: 'l' });
    expect(await alice.next('presence')).toEqual({ type: 'presence', user: 'bob', status: 'offline', room: 'dev' });
    await heard(a, (hub) => !hub.roomUsers('dev').includes('bob'));
    // A node started later learns who is online, and in which room, from the store.
    const c = await node('C');
    const carol = await login(c, 'carol');
    expect(carol.welcome).toMatchObject({ users: ['alice', 'bob', 'carol'] });
    carol.send({ type: 'who', room: 'dev', id: 'w' });
    expect(await carol.next('users')).toEqual({ type: 'users', room: 'dev', users: ['alice'], id: 'w' });
    expect(await alice.next('presence')).toEqual({ type: 'presence', user: 'carol', status: 'online' });
    expect(await bob.next('presence')).toEqual({ type: 'presence', user: 'carol', status: 'online' });
  });

  it('lets exactly one of two simultaneous logins of one user win, on two nodes', async () => {
    const a = await node('A');
    const b = await node('B');
    for (const user of ['alice', 'bob', 'carol']) {
      const [onA, onB] = await Promise.all([a.connect(), b.connect()]);
      sockets.push(onA, onB);
      onA.send({ type: 'login', user, password: passwordOf(user) });
      onB.send({ type: 'login', user, password: passwordOf(user) });
      const answers = await Promise.all([onA.next(['welcome', 'error']), onB.next(['welcome', 'error'])]);
      expect(answers.map((frame) => frame.type).sort()).toEqual(['error', 'welcome']);
      expect(answers.find((frame) => frame.type === 'error')).toMatchObject({ code: 'already_online' });
    }
  });

  it('shares accounts: registered on node A, logs in on node B; look-alike names refused across nodes', async () => {
    const a = await node('A');
    const b = await node('B');
    const onA = await a.connect();
    sockets.push(onA);
    onA.send({ type: 'register', user: 'erin', password: 'erinsecret', id: 1 });
    expect(await onA.next()).toEqual({ type: 'ok', id: 1 });
    const onB = await b.connect();
    sockets.push(onB);
    onB.send({ type: 'register', user: 'Erin', password: 'othersecret', id: 2 });
    expect(await onB.next()).toMatchObject({ type: 'error', code: 'user_exists', id: 2, message: expect.stringContaining('too similar') });
    onB.send({ type: 'login', user: 'erin', password: 'erinsecret' });
    expect(await onB.next()).toMatchObject({ type: 'welcome', user: 'erin' });
  });
});

describe('file transfers in a cluster', () => {
  it('relays a whole transfer between alice on node A and bob on node B (offer, accept, chunks, acks, end, result)', async () => {
    const a = await node('A');
    const b = await node('B');
    const alice = await login(a, 'alice');
    await heard(b, (hub) => hub.isOnline('alice'));
    const bob = await login(b, 'bob');
    await alice.next('presence');
    const bytes = pseudoRandomBytes(40_000, 7);
    const sha256 = sha256Hex(bytes);
    alice.send({ type: 'file_offer', to: 'bob', name: 'notes.bin', size: bytes.length, sha256, id: 'offer' });
    const ok = await alice.next('ok');
    expect(ok).toMatchObject({ id: 'offer', transfer: expect.any(String), users: ['bob'] });
    const transfer = ok.transfer as string;
    expect(await bob.next('file_offer')).toEqual({ type: 'file_offer', transfer, from: 'alice', to: 'bob', name: 'notes.bin', size: bytes.length, sha256 });
    bob.send({ type: 'file_accept', transfer, id: 'acc' });
    expect(await bob.next('ok')).toEqual({ type: 'ok', id: 'acc' }); // answered by node A, the transfer's relay
    expect(await alice.next('file_accept')).toEqual({ type: 'file_accept', transfer, user: 'bob' });
    const received: Buffer[] = [];
    for (const [seq, piece] of chunksOf(bytes, 16_384).entries()) {
      alice.send({ type: 'file_chunk', transfer, seq, data: piece.toString('base64') });
      const chunk = await bob.next('file_chunk');
      expect(chunk).toMatchObject({ transfer, seq, from: 'alice' });
      received.push(Buffer.from(chunk.data as string, 'base64'));
      bob.send({ type: 'file_ack', transfer, seq });
      expect(await alice.next('file_ack')).toEqual({ type: 'file_ack', transfer, seq, user: 'bob' });
    }
    alice.send({ type: 'file_end', transfer });
    expect(await bob.next('file_end')).toEqual({ type: 'file_end', transfer, from: 'alice' });
    expect(sha256Hex(Buffer.concat(received))).toBe(sha256);
    bob.send({ type: 'file_result', transfer, ok: true });
    expect(await alice.next('file_result')).toEqual({ type: 'file_result', transfer, ok: true, user: 'bob' });
    // A repeated result is refused by the relay on node A, and the error comes back to bob on B.
    bob.send({ type: 'file_result', transfer, ok: true, id: 'again' });
    expect(await bob.next('error')).toMatchObject({ code: 'unknown_transfer', id: 'again' });
  });

  it("cancels a transfer for its sender when the recipient's node dies", async () => {
    const a = await node('A');
    const b = await node('B');
    const alice = await login(a, 'alice');
    await heard(b, (hub) => hub.isOnline('alice'));
    await login(b, 'bob');
    await alice.next('presence');
    alice.send({ type: 'file_offer', to: 'bob', name: 'x', size: 3, sha256: sha256Hex(Buffer.from('abc')), id: 'o' });
    const transfer = (await alice.next('ok')).transfer;
    await b.backplane.close(); // node B stops beating and goes silent (as if it died)
    expect(await alice.next('file_cancel', 5_000)).toMatchObject({ type: 'file_cancel', transfer, user: 'bob' });
  });
});

describe('login throttling in a cluster', () => {
  it('counts failed attempts per address across nodes: guesses on node A make node B refuse too', async () => {
    const store = new Redis(redis.url);
    await store.del('chatlab:throttle:127.0.0.1');
    try {
      const limits = { loginAttemptsPerAddress: 3, loginAttemptsPerConnection: 100 };
      const a = await startClusterNode(redis.url, 'A', 1_000, limits);
      nodes.push(a);
      const b = await startClusterNode(redis.url, 'B', 1_000, limits);
      nodes.push(b);
      const guesser = await a.connect();
      sockets.push(guesser);
      for (let i = 1; i <= 3; i++) {
        guesser.send({ type: 'login', user: 'alice', password: `guess-${i}`, id: i });
        expect(await guesser.next('error')).toMatchObject({ code: 'auth_failed', id: i });
      }
      const elsewhere = await b.connect();
      sockets.push(elsewhere);
      elsewhere.send({ type: 'login', user: 'alice', password: 'guess-4', id: 4 });
      expect(await elsewhere.next('error')).toMatchObject({ code: 'rate_limited', id: 4 });
    } finally {
      await store.del('chatlab:throttle:127.0.0.1');
      store.disconnect();
    }
  });
});

describe('connections per address in a cluster', () => {
  // One address (the tests' 127.0.0.1, not exempt here) may hold 3 connections on the whole cluster.
  const LIMITS = { maxConnectionsPerAddress: 3, exemptLoopback: false };

  async function limitedNode(name: string, log?: (line: string) => void, leaseMs = 1_000): Promise<TestClusterNode> {
    const started = await startClusterNode(redis.url, name, leaseMs, LIMITS, log);
    nodes.push(started);
    return started;
  }

  async function open(on: { port: number }, label: string): Promise<FrameSocket> {
    const socket = await FrameSocket.connect(on.port, { label });
    sockets.push(socket);
    return socket;
  }

  async function expectRefused(on: { port: number }, label: string): Promise<void> {
    const socket = await open(on, label);
    expect(await socket.next()).toMatchObject({ type: 'error', code: 'too_many_connections' });
    await socket.closed();
  }

  it('counts them over the nodes: 2 on node A and 1 on node B, the 4th is refused on either; closing one lets one in', async () => {
    const a = await limitedNode('A');
    const b = await limitedNode('B');
    const held = [await open(a, 'a1'), await open(a, 'a2'), await open(b, 'b1')];
    for (const socket of held) await socket.next('hello');
    await expectRefused(a, 'a4');
    await expectRefused(b, 'b4');
    // Node A counts the close out (in order, on its one Redis connection) before it asks again.
    held[0]?.destroy();
    await expect.poll(() => a.server.connectionCount, { timeout: 2_000, interval: 5 }).toBe(1);
    const again = await open(a, 'a3');
    expect(await again.next()).toMatchObject({ type: 'hello' });
    await expectRefused(b, 'b4-again');
  });

  it('greets a connection within a bound when Redis hangs: the node counts it alone meanwhile', async () => {
    const said: string[] = [];
    // A lease longer than the freeze: the node must not be declared dead meanwhile.
    const a = await limitedNode('A', (line) => said.push(line), 10_000);
    await (await open(a, 'a1')).next('hello');
    redis.pause();
    try {
      const waiting = await open(a, 'a2');
      expect(await waiting.next('hello', ADMIT_WAIT_MS + 2_000)).toMatchObject({ type: 'hello' });
      expect(said).toEqual([expect.stringMatching(/cannot count connections per address across nodes \(Redis did not answer within \d+ ms\)/)]);
    } finally {
      redis.resume();
    }
  });

  it("falls back to the node's own count while Redis is away (said once), and writes its true count when Redis returns", async () => {
    const said: string[] = [];
    const a = await limitedNode('A', (line) => said.push(line));
    const b = await limitedNode('B');
    await (await open(a, 'a1')).next('hello');
    await (await open(a, 'a2')).next('hello');
    await (await open(b, 'b1')).next('hello');
    await redis.kill();
    // Node A alone holds 2 of its 3: one more gets in, then its own count refuses.
    expect(await (await open(a, 'a3')).next()).toMatchObject({ type: 'hello' });
    await expectRefused(a, 'a4');
    expect(said.filter((line) => line.includes('connections per address'))).toEqual([
      expect.stringMatching(/cannot count connections per address across nodes .*; counting this node's only until Redis is back$/),
    ]);
    await redis.start();
    await expect.poll(() => a.backplane.available && b.backplane.available, { timeout: 5_000, interval: 50 }).toBe(true);
    const store = new Redis(redis.url);
    try {
      await expect.poll(() => store.hget(`chatlab:conns:${a.backplane.incarnation}`, '127.0.0.1'), { timeout: 5_000, interval: 50 }).toBe('3');
    } finally {
      store.disconnect();
    }
    // 3 on A and 1 on B: the cluster is over the limit again.
    await expectRefused(b, 'b2');
  });
});

describe('failures', () => {
  it('heals a node whose subscription was cut: what it missed meanwhile is read back from the store', async () => {
    const a = await node('A');
    const b = await node('B');
    const carol = await login(a, 'carol');
    await heard(b, (hub) => hub.isOnline('carol'));
    const bob = await login(b, 'bob');
    await carol.next('presence');
    const store = new Redis(redis.url);
    try {
      const clients = String(await store.client('LIST'));
      const id = /id=(\d+) [^\n]*name=chatlab:B:sub/.exec(clients)?.[1];
      expect(id).toBeDefined();
      await store.client('KILL', 'ID', id as string);
    } finally {
      store.disconnect();
    }
    // carol leaves while node B is not listening (it reconnects 250 ms later): B misses the news.
    carol.send({ type: 'quit' });
    await carol.next('bye');
    expect(await bob.next('presence', 5_000)).toEqual({ type: 'presence', user: 'carol', status: 'offline', reason: 'connection_lost' });
    bob.send({ type: 'who', id: 'w' });
    expect(await bob.next('users')).toEqual({ type: 'users', users: ['bob'], id: 'w' });
  });

  it('refuses logins and history reads while Redis is away (nothing half done), defers says, and recovers when it returns', async () => {
    const a = await node('A');
    const b = await node('B');
    const alice = await login(a, 'alice');
    const carol = await login(a, 'carol');
    const bob = await login(b, 'bob');
    await alice.next('presence');
    await alice.next('presence');
    await carol.next('presence');
    await redis.kill();
    const dave = await a.connect();
    sockets.push(dave);
    dave.send({ type: 'login', user: 'dave', password: 'davesecret', id: 'd' });
    expect(await dave.next()).toMatchObject({ type: 'error', code: 'internal', id: 'd', message: expect.stringContaining('Redis') });
    // msgids come from Redis: a say is kept in node A's spool, relayed on A only, and stored later (cluster-outage.test.ts).
    alice.send({ type: 'say', text: 'still here?', id: 's' });
    expect(await alice.next((frame) => frame.id === 's')).toEqual({ type: 'ok', id: 's', deferred: true });
    alice.send({ type: 'history', id: 'h' });
    expect(await alice.next('error')).toMatchObject({ code: 'internal', id: 'h', message: expect.stringContaining('Redis') });
    // carol leaves while Redis is away: her release cannot be written now.
    carol.send({ type: 'quit' });
    expect(await carol.next('bye')).toEqual({ type: 'bye' });
    expect(await alice.next('presence')).toEqual({ type: 'presence', user: 'carol', status: 'offline' });
    await redis.start(); // with its append-only file: accounts and presence come back
    // Each node re-claims its users in the new store; then the cluster's rules hold again.
    await expect.poll(() => a.backplane.available && b.backplane.available, { timeout: 5_000, interval: 50 }).toBe(true);
    const store = new Redis(redis.url);
    try {
      await expect.poll(() => store.hget('chatlab:online', 'bob'), { timeout: 5_000, interval: 100 }).toBe(b.backplane.incarnation);
    } finally {
      store.disconnect();
    }
    const again = await a.connect();
    sockets.push(again);
    again.send({ type: 'login', user: 'bob', password: 'builder' });
    expect(await again.next(['welcome', 'error'])).toMatchObject({ type: 'error', code: 'already_online' });
    // Node A said again what it holds: carol is no ghost, on B nor in the store.
    expect(await bob.next((frame) => frame.type === 'presence' && frame.user === 'carol', 5_000)).toEqual({
      type: 'presence',
      user: 'carol',
      status: 'offline',
      reason: 'connection_lost',
    });
    const carolOnB = await login(b, 'carol');
    expect(carolOnB.welcome).toMatchObject({ users: ['alice', 'bob', 'carol'] });
    bob.send({ type: 'say', text: 'B is back' });
    expect(await alice.next((frame) => frame.type === 'message' && frame.text === 'B is back', 5_000)).toMatchObject({ from: 'bob' });
  });
});

/**
 * Waits until `node` has heard (over the backplane) what another node announced: a change made on
 * one node reaches the others one pub/sub hop later, not at the same instant.
 */
async function heard(node: TestClusterNode, predicate: (hub: TestClusterNode['server']['hub']) => boolean): Promise<void> {
  await expect.poll(() => predicate(node.server.hub), { timeout: 2_000, interval: 5 }).toBe(true);
}

function passwordOf(user: string): string {
  return { alice: 'wonderland', bob: 'builder', carol: 'caroline', dave: 'davesecret' }[user] as string;
}
