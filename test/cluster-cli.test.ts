/**
 * `chatlab server --redis` as real processes: an unreachable Redis at start-up, and a node killed
 * with SIGKILL while users are on it (no ghosts: the others see them leave within the lease bound).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCliProcess, type CliRun } from '../test-support/cli-process.ts';
import { startClusterNode, type TestClusterNode } from '../test-support/cluster-node.ts';
import { FrameSocket } from '../test-support/frame-socket.ts';
import { freePort, startRedis, type TestRedis } from '../test-support/redis-server.ts';

const LEASE_MS = 1_000;
const LISTENING = /^chatlab server listening on 127\.0\.0\.1:(\d+) /;

let redis: TestRedis;
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function cliNode(args: string[], env: Record<string, string> = {}): CliRun {
  const run = startCliProcess(['server', '--port', '0', '--db', ':memory:', ...args], env);
  cleanups.push(() => {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    return run.exited;
  });
  return run;
}

describe('chatlab server --redis', () => {
  it('says in one line that Redis cannot be reached, and exits non-zero', async () => {
    const port = await freePort();
    const run = cliNode(['--redis', `redis://127.0.0.1:${port}`]);
    expect(await run.exited).not.toBe(0);
    expect(run.stderr.filter((line) => line !== '')).toEqual([expect.stringMatching(new RegExp(`^chatlab: --redis: cannot reach Redis at redis://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`))]);
    expect(run.stdout.join('')).toBe('');
  });

  it('refuses --node-id without --redis', async () => {
    const run = cliNode(['--node-id', 'x']);
    expect(await run.exited).not.toBe(0);
    expect(run.stderr.join('\n')).toMatch(/--node-id and --lease-ms need --redis/);
  });

  it('takes the Redis URL from CHATLAB_REDIS; a node killed with SIGKILL leaves no ghosts', async () => {
    const a: TestClusterNode = await startClusterNode(redis.url, 'A', LEASE_MS);
    cleanups.push(() => a.stop());
    const b = cliNode(['--node-id', 'B', '--lease-ms', String(LEASE_MS)], { CHATLAB_REDIS: redis.url });
    const listening = await b.line(LISTENING);
    // A node has no database of its own: its line names its spool instead.
    expect(listening).toMatch(/ \(cluster node; spool chatlab-spool\.db; Ctrl-C to stop\)$/);
    const port = Number(LISTENING.exec(listening)?.[1]);
    const alice = await a.login('alice');
    cleanups.push(() => alice.destroy());
    const bob = await FrameSocket.connect(port, { label: 'bob@B' });
    cleanups.push(() => bob.destroy());
    await bob.next('hello');
    bob.send({ type: 'login', user: 'bob', password: 'builder' });
    expect(await bob.next('welcome')).toMatchObject({ users: ['alice', 'bob'] });
    expect(await alice.next('presence')).toEqual({ type: 'presence', user: 'bob', status: 'online' });

    const killedAt = Date.now();
    b.child.kill('SIGKILL');
    // The bound: one lease, plus one heartbeat of the node that reaps, plus scheduling slack.
    const bound = LEASE_MS + LEASE_MS / 3 + 1_000;
    expect(await alice.next('presence', bound)).toEqual({ type: 'presence', user: 'bob', status: 'offline', reason: 'connection_lost' });
    expect(Date.now() - killedAt).toBeLessThan(bound);
    alice.send({ type: 'who', id: 'w' });
    expect(await alice.next('users')).toEqual({ type: 'users', users: ['alice'], id: 'w' });
    // bob can log in again anywhere: the dead node's claim is gone.
    const bobAgain = await a.login('bob');
    cleanups.push(() => bobAgain.destroy());
    expect(bobAgain.welcome).toMatchObject({ users: ['alice', 'bob'] });
  });

  it("frees a killed node's connections per address within the lease bound: the others count them no more", async () => {
    // One address (the tests' 127.0.0.1, not exempt here) may hold 3 connections on the whole cluster.
    const limits = { maxConnectionsPerAddress: 3, exemptLoopback: false };
    const a = await startClusterNode(redis.url, 'A', LEASE_MS, limits);
    cleanups.push(() => a.stop());
    const b = cliNode(['--redis', redis.url, '--node-id', 'B', '--lease-ms', String(LEASE_MS), '--limit', 'maxConnectionsPerAddress=3', '--limit', 'exemptLoopback=false']);
    const port = Number(LISTENING.exec(await b.line(LISTENING))?.[1]);
    const open = async (on: number, label: string): Promise<FrameSocket> => {
      const socket = await FrameSocket.connect(on, { label });
      cleanups.push(() => socket.destroy());
      return socket;
    };
    for (const label of ['b1', 'b2']) await (await open(port, label)).next('hello');
    await (await open(a.port, 'a1')).next('hello');
    expect(await (await open(a.port, 'a2')).next()).toMatchObject({ type: 'error', code: 'too_many_connections' });

    const killedAt = Date.now();
    b.child.kill('SIGKILL');
    await b.exited;
    const bound = LEASE_MS + LEASE_MS / 3 + 1_000;
    const admitted = async (): Promise<boolean> => {
      const socket = await open(a.port, 'a-after');
      const first = await socket.next();
      socket.destroy();
      return first.type === 'hello';
    };
    await expect.poll(admitted, { timeout: bound, interval: 50 }).toBe(true);
    expect(Date.now() - killedAt).toBeLessThan(bound);
  });

  it("resets a killed node's connection counts when a node starts under its name, before its lease runs out", async () => {
    const limitArgs = ['--limit', 'maxConnectionsPerAddress=3', '--limit', 'exemptLoopback=false'];
    // A lease far longer than the test: only the restart under the same name can free the counts.
    const longLease = ['--redis', redis.url, '--node-id', 'R', '--lease-ms', '30000', ...limitArgs];
    const first = cliNode(longLease);
    const firstPort = Number(LISTENING.exec(await first.line(LISTENING))?.[1]);
    const open = async (on: number, label: string): Promise<FrameSocket> => {
      const socket = await FrameSocket.connect(on, { label });
      cleanups.push(() => socket.destroy());
      return socket;
    };
    for (const label of ['r1', 'r2', 'r3']) await (await open(firstPort, label)).next('hello');
    first.child.kill('SIGKILL');
    await first.exited;
    const second = cliNode(longLease);
    const port = Number(LISTENING.exec(await second.line(LISTENING))?.[1]);
    for (const label of ['again1', 'again2', 'again3']) expect(await (await open(port, label)).next()).toMatchObject({ type: 'hello' });
    expect(await (await open(port, 'again4')).next()).toMatchObject({ type: 'error', code: 'too_many_connections' });
    // A clean stop ends its lease: its counts do not outlive the test.
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('fences a node that was declared dead and comes back: its users end, none is resurrected', async () => {
    const a = await startClusterNode(redis.url, 'A', LEASE_MS);
    cleanups.push(() => a.stop());
    const b = cliNode(['--redis', redis.url, '--node-id', 'B', '--lease-ms', String(LEASE_MS)]);
    const port = Number(LISTENING.exec(await b.line(LISTENING))?.[1]);
    const alice = await a.login('alice');
    cleanups.push(() => alice.destroy());
    const bob = await FrameSocket.connect(port, { label: 'bob@B' });
    cleanups.push(() => bob.destroy());
    await bob.next('hello');
    bob.send({ type: 'login', user: 'bob', password: 'builder' });
    await bob.next('welcome');
    expect(await alice.next('presence')).toMatchObject({ user: 'bob', status: 'online' });

    b.child.kill('SIGSTOP'); // a long pause (or a network cut): node B misses its heartbeats
    cleanups.push(() => b.child.kill('SIGCONT'));
    expect(await alice.next('presence', 3 * LEASE_MS)).toEqual({ type: 'presence', user: 'bob', status: 'offline', reason: 'connection_lost' });
    b.child.kill('SIGCONT');
    // B learns it was declared dead: it ends bob's session instead of keeping a ghost the others
    // no longer see, and rejoins the cluster as a new incarnation.
    expect(await bob.next('bye', 3 * LEASE_MS)).toEqual({ type: 'bye', reason: 'server_shutdown' });
    const bobAgain = await FrameSocket.connect(port, { label: 'bob again@B' });
    cleanups.push(() => bobAgain.destroy());
    await bobAgain.next('hello');
    bobAgain.send({ type: 'login', user: 'bob', password: 'builder' });
    expect(await bobAgain.next(['welcome', 'error'], 3 * LEASE_MS)).toMatchObject({ type: 'welcome', users: ['alice', 'bob'] });
    expect(await alice.next('presence')).toEqual({ type: 'presence', user: 'bob', status: 'online' });
    expect(alice.pending()).toEqual([]);
  });
});
