// Lesson 14's test: its nodes pass the verifier through step 10 behind a round-robin balancer,
// and its broken copy (presence per node) fails at step 5 (src/lessons/runtime/check.ts); its README
// matches the code and a real run (test-support/lesson-suite.ts). And the cluster itself: alice
// on node A and bob on node B are in one chat, a double login on two nodes has exactly one
// winner, a node killed with kill -9 leaves no ghost, a node that comes back does not bring its
// users back, and a node that cannot reach Redis says so and exits.
import { describe, expect, it, type TestContext } from 'vitest';
import { findLesson, type Lesson, type LessonCluster, type LessonServer, loadAccounts, startLessonCluster, startLessonServer, startNodeProgram, Terminal } from '../../src/lessons/runtime/index.ts';
import { freePort } from '../../src/verify/index.ts';
import { expectFrame } from '../../test-support/expect-frame.ts';
import { FrameSocket } from '../../test-support/frame-socket.ts';
import { describeLesson } from '../../test-support/lesson-suite.ts';
import { within } from '../../test-support/promises.ts';

describeLesson(14);

const lesson = findLesson(14) as Lesson;
const accounts = loadAccounts();
/** A short lease, so a dead node's users go offline within LEASE_MS + LEASE_MS / 3 = 1.33 s of its death. */
const LEASE_MS = 1000;
/** How long a wait may take: lesson nodes are node processes of their own, and a lease must expire. */
const WAIT_MS = 5_000;

/** Connects to a node as `label`, and reads its hello. */
async function connect(context: TestContext, node: LessonServer, label: string): Promise<FrameSocket> {
  const socket = await FrameSocket.connect(node.port, { label, waitMs: WAIT_MS });
  context.onTestFinished(() => socket.destroy());
  await expectFrame(socket, { type: 'hello' });
  return socket;
}

/** A cluster of two nodes with a short lease, and every connection a test opens, stopped when it ends. */
async function cluster(context: TestContext): Promise<{ running: LessonCluster; a: LessonServer; b: LessonServer; login(user: string, node: LessonServer): Promise<{ socket: FrameSocket; users: unknown }> }> {
  const running = await startLessonCluster(lesson, { env: { LEASE_MS: String(LEASE_MS) } });
  context.onTestFinished(() => running.stop());
  const [a, b] = running.nodes as [LessonServer, LessonServer];
  return {
    running,
    a,
    b,
    async login(user, node) {
      const socket = await connect(context, node, user);
      socket.send({ type: 'login', user, password: accounts[user] });
      const welcome = await expectFrame(socket, { type: 'welcome', user });
      return { socket, users: welcome.users };
    },
  };
}

describe.concurrent('lesson 14-two-servers: two nodes, one chat', () => {
  it('puts alice on node A and bob on node B in one chat: welcome, presence, relay both ways, quit', async (context) => {
    const { a, b, login } = await cluster(context);
    const { socket: alice } = await login('alice', a);
    const { socket: bob, users } = await login('bob', b);
    expect(users).toEqual(['alice', 'bob']);
    await expectFrame(alice, { type: 'presence', user: 'bob', status: 'online' });
    alice.send({ type: 'say', text: 'across the nodes 👋', from: 'mallory' });
    await expectFrame(bob, { type: 'message', from: 'alice', text: 'across the nodes 👋', ts: expect.any(Number) });
    bob.send({ type: 'say', text: 'and back', id: 7 });
    await expectFrame(bob, { type: 'ok', id: 7 });
    await expectFrame(alice, { type: 'message', from: 'bob', text: 'and back' });
    bob.send({ type: 'quit' });
    await expectFrame(bob, { type: 'bye' });
    await bob.closed(WAIT_MS);
    await expectFrame(alice, { type: 'presence', user: 'bob', status: 'offline' });
    // The name was given back before bye: bob may log in again at once, on the other node.
    const again = await login('bob', a);
    expect(again.users).toEqual(['alice', 'bob']);
    await expectFrame(alice, { type: 'presence', user: 'bob', status: 'online' });
  });

  it('lets exactly one of two simultaneous logins of one user on two nodes win', async (context) => {
    const { a, b } = await cluster(context);
    for (let round = 0; round < 3; round++) {
      const [onA, onB] = await Promise.all([connect(context, a, 'carol on A'), connect(context, b, 'carol on B')]);
      for (const connection of [onA, onB]) connection.send({ type: 'login', user: 'carol', password: accounts.carol, id: round });
      const answers = await Promise.all([onA.nextFrame(), onB.nextFrame()]);
      const kinds = answers.map((frame) => (frame.type === 'error' ? frame.code : frame.type)).sort();
      expect(kinds, `round ${round}: ${JSON.stringify(answers)}`).toEqual(['already_online', 'welcome']);
      const winner = answers[0]?.type === 'welcome' ? onA : onB;
      winner.send({ type: 'quit' });
      await expectFrame(winner, { type: 'bye' });
      onA.destroy();
      onB.destroy();
    }
  });

  it('sends the users of a node killed with kill -9 offline on the other node within the lease, and frees their names', async (context) => {
    const { a, b, login } = await cluster(context);
    const { socket: alice } = await login('alice', a);
    await login('bob', b);
    await expectFrame(alice, { type: 'presence', user: 'bob', status: 'online' });
    b.child.kill('SIGKILL');
    // Nobody said goodbye for bob: node A learns it only when B's lease expires (within
    // LEASE_MS + LEASE_MS / 3 of the kill; the wait allows WAIT_MS).
    await expectFrame(alice, { type: 'presence', user: 'bob', status: 'offline', reason: 'connection_lost' });
    await a.terminal.expect('bob was on B, which stopped answering: offline', 1_000);
    await login('bob', a);
    await expectFrame(alice, { type: 'presence', user: 'bob', status: 'online' });
  });

  it('does not bring back the users of a node that restarts under the same name before its lease expires', async (context) => {
    const { running, a, b, login } = await cluster(context);
    const { socket: alice } = await login('alice', a);
    await login('bob', b);
    await expectFrame(alice, { type: 'presence', user: 'bob', status: 'online' });
    b.child.kill('SIGKILL');
    await b.exited;
    const reborn = await startLessonServer(lesson, { name: 'server B', env: { REDIS_URL: running.redis.url, NODE_ID: 'B', LEASE_MS: String(LEASE_MS) } });
    context.onTestFinished(() => reborn.stop());
    await expectFrame(alice, { type: 'presence', user: 'bob', status: 'offline', reason: 'connection_lost' });
    const carol = await login('carol', reborn);
    expect(carol.users).toEqual(['alice', 'carol']);
  });

  it('says so and exits non-zero when Redis cannot be reached at start-up', async () => {
    const port = await freePort();
    const terminal = new Terminal('server', 'node server.mjs');
    const program = startNodeProgram(lesson, lesson.server, terminal, { PORT: '0', REDIS_URL: `redis://127.0.0.1:${port}` });
    expect(await within(program.exited, 10_000, 'the node did not exit without Redis')).toBe(1);
    expect(terminal.printed.join('\n')).toMatch(new RegExp(`^cannot reach Redis at redis://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`, 'm'));
    expect(terminal.printed.some((line) => line.startsWith('listening on'))).toBe(false);
  });
});
