/**
 * While Redis is away, the users of one node keep chatting (issue 15): a `say` Redis cannot
 * record is kept in the node's spool (a SQLite file), relayed at once to the users of that node
 * without a msgid, and answered `ok` with `deferred`; once Redis is back it is recorded (its msgid
 * then) and relayed to the other nodes, once. A node killed meanwhile loses none of them: the
 * next node started on its spool records them.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient } from '../src/client/index.ts';
import { DEFERRED_INFO } from '../src/client/command-runner.ts';
import type { MessageFrame, RawFrame } from '../src/protocol/index.ts';
import { OutageSpool, RedisHistory } from '../src/server/cluster/index.ts';
import { startCliProcess, type CliRun } from '../test-support/cli-process.ts';
import { nextEvent } from '../test-support/client-events.ts';
import { startClusterNode, type TestClusterNode } from '../test-support/cluster-node.ts';
import { FrameSocket } from '../test-support/frame-socket.ts';
import { redisPerFile } from '../test-support/redis-per-file.ts';
import { TEST_USERS } from '../test-support/chat-server.ts';

const LEASE_MS = 1_000;
const LISTENING = /^chatlab server listening on 127\.0\.0\.1:(\d+) /;
/** How long a node may take to see Redis back, record its spool and relay it (reconnect every 250 ms). */
const RECOVERY_MS = 5_000;

const redis = redisPerFile({ persist: true });
const cleanups: Array<() => unknown> = [];
/** Whether a test stopped Redis and has not started it again (a failed test leaves it for afterEach). */
let away = false;

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  if (away) await redis.start();
  away = false;
});

async function node(name: string, spool?: string): Promise<TestClusterNode> {
  const started = await startClusterNode(redis.url, name, LEASE_MS, {}, () => {}, spool);
  cleanups.push(() => started.stop());
  return started;
}

async function login(on: TestClusterNode, user: string): Promise<FrameSocket> {
  const socket = await on.login(user);
  cleanups.push(() => socket.destroy());
  return socket;
}

/** A directory for spool files, removed after the test. */
function spoolDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chatlab-outage-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Stops Redis and waits until `nodes` have noticed (a say then cannot reach it). */
async function redisAway(...nodes: TestClusterNode[]): Promise<void> {
  await redis.kill();
  away = true;
  await expect.poll(() => nodes.every((one) => !one.backplane.available), { timeout: 2_000, interval: 10 }).toBe(true);
}

async function redisBack(...nodes: TestClusterNode[]): Promise<void> {
  await redis.start(); // with its append-only file: what was stored before is still there
  away = false;
  await expect.poll(() => nodes.every((one) => one.backplane.available), { timeout: RECOVERY_MS, interval: 20 }).toBe(true);
}

function isMessage(text: string): (frame: RawFrame) => boolean {
  return (frame) => frame.type === 'message' && frame.text === text;
}

/** Two nodes: alice and carol on node A, bob on node B, once alice has heard of bob. */
async function aliceAndCarolOnABobOnB(): Promise<{ a: TestClusterNode; b: TestClusterNode; alice: FrameSocket; carol: FrameSocket; bob: FrameSocket }> {
  const a = await node('A');
  const b = await node('B');
  const alice = await login(a, 'alice');
  const carol = await login(a, 'carol');
  const bob = await login(b, 'bob');
  await alice.next((frame) => frame.type === 'presence' && frame.user === 'bob');
  return { a, b, alice, carol, bob };
}

describe('a cluster while Redis is away', () => {
  it('relays a lobby say to the users of its node at once (no msgid, ok deferred), and to the other nodes once Redis is back', async () => {
    const { a, b, alice, carol, bob } = await aliceAndCarolOnABobOnB();
    await carol.next((frame) => frame.type === 'presence' && frame.user === 'bob');
    await redisAway(a, b);

    alice.send({ type: 'say', text: 'anyone there?', id: 's1' });
    expect(await alice.next((frame) => frame.id === 's1')).toEqual({ type: 'ok', id: 's1', deferred: true });
    const live = await carol.next('message');
    expect(live).toEqual({ type: 'message', from: 'alice', room: 'lobby', text: 'anyone there?', ts: expect.any(Number) });

    await redisBack(a, b);
    // bob's first message is the recorded one, with its msgid: he never got it without one.
    const relayed = await bob.next('message', RECOVERY_MS);
    expect(relayed).toEqual({ type: 'message', from: 'alice', room: 'lobby', text: 'anyone there?', ts: live.ts, msgid: expect.any(Number) });
    bob.send({ type: 'history', id: 'h' });
    expect(await bob.next((frame) => frame.type === 'message' && frame.history === true)).toEqual({ ...relayed, history: true });
    expect(await bob.next('history_end')).toMatchObject({ count: 1, id: 'h' });
    // Recorded now, so a new say goes straight through; carol's next message is that one, not the old one again.
    alice.send({ type: 'say', text: 'back to normal', id: 's2' });
    expect(await alice.next((frame) => frame.id === 's2')).toEqual({ type: 'ok', id: 's2', msgid: (relayed.msgid as number) + 1 });
    expect(await carol.next('message')).toMatchObject({ text: 'back to normal', msgid: (relayed.msgid as number) + 1 });
    expect(await bob.next('message')).toMatchObject({ text: 'back to normal' });
  });

  it('keeps says in order: private to a user on this node at once, to one elsewhere after recovery, to one offline queued; a room', async () => {
    const { a, b, alice, carol, bob } = await aliceAndCarolOnABobOnB();
    for (const socket of [alice, bob]) {
      socket.send({ type: 'join', room: 'dev', id: 'j' });
      await socket.next('history_end');
    }
    for (const on of [a, b]) await heard(on, (hub) => hub.roomUsers('dev').length === 2);
    await redisAway(a, b);

    alice.send({ type: 'say', to: 'carol', text: 'psst carol', id: 'p1' });
    alice.send({ type: 'say', to: 'bob', text: 'psst bob', id: 'p2' });
    alice.send({ type: 'say', to: 'dave', text: 'psst dave', id: 'p3' });
    alice.send({ type: 'say', text: 'in lobby', id: 'p4' });
    alice.send({ type: 'say', room: 'dev', text: 'in dev', id: 'p5' });
    for (const id of ['p1', 'p2', 'p3', 'p4', 'p5']) expect(await alice.next('ok')).toEqual({ type: 'ok', id, deferred: true });
    expect(await carol.next('message')).toEqual({ type: 'message', from: 'alice', to: 'carol', text: 'psst carol', ts: expect.any(Number) });
    expect(await carol.next('message')).toMatchObject({ text: 'in lobby' });

    await redisBack(a, b);
    const toBob = await bob.next('message', RECOVERY_MS);
    expect(toBob).toEqual({ type: 'message', from: 'alice', to: 'bob', text: 'psst bob', ts: expect.any(Number), msgid: expect.any(Number) });
    expect(await bob.next('message')).toMatchObject({ text: 'in lobby', msgid: (toBob.msgid as number) + 2 });
    expect(await bob.next('message')).toEqual({ type: 'message', from: 'alice', room: 'dev', text: 'in dev', ts: expect.any(Number), msgid: (toBob.msgid as number) + 3 });
    // dave was offline: his message waits for his next login, on any node.
    const dave = await b.connect('dave@B');
    cleanups.push(() => dave.destroy());
    dave.send({ type: 'login', user: 'dave', password: TEST_USERS.dave, since: toBob.msgid });
    await dave.next('welcome');
    expect(await dave.next('message')).toMatchObject({ from: 'alice', to: 'dave', text: 'psst dave', msgid: (toBob.msgid as number) + 1, history: true, queued: true });
  });

  it('refuses a say as before (internal, nothing sent) when the spool cannot keep it', async () => {
    const dir = spoolDir();
    mkdirSync(join(dir, 'gone'));
    const a = await node('A', join(dir, 'gone', 'spool.db'));
    const alice = await login(a, 'alice');
    const carol = await login(a, 'carol');
    await alice.next((frame) => frame.type === 'presence' && frame.user === 'carol');
    rmSync(join(dir, 'gone'), { recursive: true, force: true }); // checked at start, gone by the first deferral
    await redisAway(a);
    alice.send({ type: 'say', text: 'lost?', id: 's' });
    expect(await alice.next((frame) => frame.id === 's')).toMatchObject({ type: 'error', code: 'internal', message: expect.stringMatching(/not sent: .*Redis.*nothing was stored/) });
    // Nothing reached carol: the answer to her ping is the next frame she gets.
    carol.send({ type: 'ping', id: 'p' });
    expect(await carol.nextFrame()).toMatchObject({ type: 'pong', id: 'p' });
  });

  it('tells the line-mode client its message was deferred; a ChatClient takes a message without msgid', async () => {
    const a = await node('A');
    const carol = await ChatClient.connect({ port: a.port });
    cleanups.push(() => carol.destroy());
    await carol.login('carol', TEST_USERS.carol as string);
    const client = startCliProcess(['client', '--plain', '--user', 'alice', '--password', TEST_USERS.alice as string, '--port', String(a.port)]);
    cleanups.push(() => {
      if (client.child.exitCode === null) client.child.kill();
    });
    await client.line(/^\* connected to .* as alice/);
    await redisAway(a);
    const received = nextEvent<[MessageFrame]>(carol, 'message');
    client.type('still chatting\n');
    await client.line(new RegExp(`^\\* ${DEFERRED_INFO}$`));
    expect((await received)[0]).toEqual({ type: 'message', from: 'alice', room: 'lobby', text: 'still chatting', ts: expect.any(Number) });
  });

  it('records the spool of a node killed during the outage when a node starts again on it', async () => {
    const spool = join(spoolDir(), 'spool.db');
    const b = await node('B');
    const first = cliNode(['--spool', spool]);
    const port = Number(LISTENING.exec(await first.line(LISTENING))?.[1]);
    const alice = await FrameSocket.connect(port, { label: 'alice@A' });
    cleanups.push(() => alice.destroy());
    await alice.next('hello');
    alice.send({ type: 'login', user: 'alice', password: TEST_USERS.alice });
    await alice.next('welcome');
    const bob = await login(b, 'bob');
    await redisAway(b);

    alice.send({ type: 'say', text: 'said before the crash', id: 's' });
    expect(await alice.next((frame) => frame.id === 's')).toEqual({ type: 'ok', id: 's', deferred: true });
    first.child.kill('SIGKILL');
    await first.exited;
    await redisBack(b);

    const second = cliNode(['--spool', spool]);
    await second.line(LISTENING);
    expect(await bob.next(isMessage('said before the crash'), RECOVERY_MS)).toEqual({
      type: 'message',
      from: 'alice',
      room: 'lobby',
      text: 'said before the crash',
      ts: expect.any(Number),
      msgid: expect.any(Number),
    });
  });

  it('stores once a message a killed node recorded from its spool but had not deleted: the claimer finds its token', async () => {
    const path = join(spoolDir(), 'spool.db');
    const b = await node('B');
    const bob = await login(b, 'bob');
    // What node A left when killed mid-flush: its row, marked sent, and the record Redis committed.
    const killed = OutageSpool.open({ path, owner: 'A/killed', leaseMs: 0, log: () => {} });
    const said = { ts: 1_764_000_000_000, from: 'alice', room: 'lobby', text: 'recorded, not deleted', delivered: true, token: 'A/killed:1' };
    expect(killed.add({ ...said, deliveredHere: false, uncertain: false })).toBe(true);
    killed.markSent(killed.oldest(1));
    const store = new Redis(redis.url, { lazyConnect: true });
    cleanups.push(() => store.disconnect());
    await store.connect();
    const msgid = await new RedisHistory(store).record(said);
    killed.close();

    await node('A2', path);
    expect(await bob.next(isMessage(said.text), RECOVERY_MS)).toMatchObject({ msgid });
    const texts = ((await store.xrange('chatlab:history:room:lobby', '-', '+')) as Array<[string, string[]]>).map(([, fields]) => fields[fields.indexOf('text') + 1]);
    expect(texts.filter((text) => text === said.text)).toHaveLength(1);
  });
});

describe('chatlab server --spool', () => {
  it('says in one line that the spool cannot be used, and exits non-zero', async () => {
    const missing = join(spoolDir(), 'no-such-dir', 'spool.db');
    const run = cliNode(['--spool', missing]);
    expect(await run.exited).not.toBe(0);
    expect(run.stderr.filter((line) => line !== '')).toEqual([`chatlab: --spool: cannot use spool "${missing}": the directory ${join(missing, '..')} does not exist`]);
  });

  it('refuses --spool without --redis', async () => {
    const run = startCliProcess(['server', '--port', '0', '--db', ':memory:', '--spool', 'x.db']);
    expect(await run.exited).not.toBe(0);
    expect(run.stderr.filter((line) => line !== '')).toEqual(['chatlab: --spool needs --redis (or CHATLAB_REDIS): only a cluster node defers messages']);
  });
});

/** Waits until `node` has heard (over the backplane) what another node announced. */
async function heard(node: TestClusterNode, predicate: (hub: TestClusterNode['server']['hub']) => boolean): Promise<void> {
  await expect.poll(() => predicate(node.server.hub), { timeout: 2_000, interval: 5 }).toBe(true);
}

function cliNode(args: string[]): CliRun {
  const run = startCliProcess(['server', '--port', '0', '--redis', redis.url, '--node-id', 'A', '--lease-ms', String(LEASE_MS), ...args]);
  cleanups.push(() => {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    return run.exited;
  });
  return run;
}
