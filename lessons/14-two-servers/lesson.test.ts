// Lesson 14's test: its nodes pass the verifier through step 10 behind a round-robin balancer,
// and its broken copy (presence per node) fails at step 5 (src/lessons/check.ts); its README
// matches the code and a real run (src/lessons/lesson-suite.ts). And the cluster itself: alice
// on node A and bob on node B are in one chat, a double login on two nodes has exactly one
// winner, a node killed with kill -9 leaves no ghost, a node that comes back does not bring its
// users back, and a node that cannot reach Redis says so and exits.
import { describe, expect, it, type TestContext } from 'vitest';
import { findLesson, loadAccounts, type Lesson } from '../../src/lessons/catalogue.ts';
import { startLessonCluster, type LessonCluster } from '../../src/lessons/cluster.ts';
import { FrameClient } from '../../src/lessons/frame-client.ts';
import { describeLesson } from '../../src/lessons/lesson-suite.ts';
import { startLessonServer, startNodeProgram, type LessonServer } from '../../src/lessons/processes.ts';
import { Terminal } from '../../src/lessons/terminal.ts';
import { within } from '../../src/lessons/within.ts';
import { freePort } from '../../src/verify/supervisor.ts';

describeLesson(14);

const lesson = findLesson(14) as Lesson;
const accounts = loadAccounts();
/** A short lease, so a dead node's users go offline within LEASE_MS + LEASE_MS / 3 = 1.33 s of its death. */
const LEASE_MS = 1000;

/** A cluster of two nodes with a short lease, and every connection a test opens, stopped when it ends. */
async function cluster(context: TestContext): Promise<{ running: LessonCluster; a: LessonServer; b: LessonServer; login(user: string, node: LessonServer): Promise<FrameClient> }> {
  const running = await startLessonCluster(lesson, { env: { LEASE_MS: String(LEASE_MS) } });
  const connections: FrameClient[] = [];
  context.onTestFinished(async () => {
    for (const connection of connections) connection.destroy();
    await running.stop();
  });
  const [a, b] = running.nodes as [LessonServer, LessonServer];
  return {
    running,
    a,
    b,
    async login(user, node) {
      const connection = await FrameClient.login(user, accounts[user] as string, node.port);
      connections.push(connection);
      return connection;
    },
  };
}

describe.concurrent('lesson 14-two-servers: two nodes, one chat', () => {
  it('puts alice on node A and bob on node B in one chat: welcome, presence, relay both ways, quit', async (context) => {
    const { a, b, login } = await cluster(context);
    const alice = await login('alice', a);
    const bob = await FrameClient.connect('bob', b.port);
    context.onTestFinished(() => bob.destroy());
    await bob.next('hello');
    bob.send({ type: 'login', user: 'bob', password: accounts.bob });
    await bob.next('welcome', { user: 'bob', users: ['alice', 'bob'] });
    await alice.next('presence', { user: 'bob', status: 'online' });
    alice.send({ type: 'say', text: 'across the nodes 👋', from: 'mallory' });
    const message = await bob.next('message', { from: 'alice', text: 'across the nodes 👋' });
    expect(typeof message.ts).toBe('number');
    bob.send({ type: 'say', text: 'and back', id: 7 });
    await bob.next('ok', { id: 7 });
    await alice.next('message', { from: 'bob', text: 'and back' });
    bob.send({ type: 'quit' });
    await bob.next('bye');
    await bob.waitClosed();
    await alice.next('presence', { user: 'bob', status: 'offline' });
    // The name was given back before bye: bob may log in again at once, on the other node.
    const again = await login('bob', a);
    expect(again.frames.find((f) => f.type === 'welcome')?.users).toEqual(['alice', 'bob']);
    await alice.next('presence', { user: 'bob', status: 'online' });
  });

  it('lets exactly one of two simultaneous logins of one user on two nodes win', async (context) => {
    const { a, b } = await cluster(context);
    for (let round = 0; round < 3; round++) {
      const [onA, onB] = await Promise.all([FrameClient.connect('carol on A', a.port), FrameClient.connect('carol on B', b.port)]);
      context.onTestFinished(() => {
        onA.destroy();
        onB.destroy();
      });
      await Promise.all([onA.next('hello'), onB.next('hello')]);
      for (const connection of [onA, onB]) connection.send({ type: 'login', user: 'carol', password: accounts.carol, id: round });
      const answers = await Promise.all([onA.read(), onB.read()]);
      const kinds = answers.map((frame) => (frame.type === 'error' ? frame.code : frame.type)).sort();
      expect(kinds, `round ${round}: ${JSON.stringify(answers)}`).toEqual(['already_online', 'welcome']);
      const winner = answers[0]?.type === 'welcome' ? onA : onB;
      winner.send({ type: 'quit' });
      await winner.next('bye');
      onA.destroy();
      onB.destroy();
    }
  });

  it('sends the users of a node killed with kill -9 offline on the other node within the lease, and frees their names', async (context) => {
    const { a, b, login } = await cluster(context);
    const alice = await login('alice', a);
    await login('bob', b);
    await alice.next('presence', { user: 'bob', status: 'online' });
    b.child.kill('SIGKILL');
    // Nobody said goodbye for bob: node A learns it only when B's lease expires (within
    // LEASE_MS + LEASE_MS / 3 of the kill; FrameClient waits up to 5 s).
    await alice.next('presence', { user: 'bob', status: 'offline', reason: 'connection_lost' });
    await a.terminal.expect('bob was on B, which stopped answering: offline', 1_000);
    await login('bob', a);
    await alice.next('presence', { user: 'bob', status: 'online' });
  });

  it('does not bring back the users of a node that restarts under the same name before its lease expires', async (context) => {
    const { running, a, b, login } = await cluster(context);
    const alice = await login('alice', a);
    await login('bob', b);
    await alice.next('presence', { user: 'bob', status: 'online' });
    b.child.kill('SIGKILL');
    await b.exited;
    const reborn = await startLessonServer(lesson, { name: 'server B', env: { REDIS_URL: running.redis.url, NODE_ID: 'B', LEASE_MS: String(LEASE_MS) } });
    context.onTestFinished(() => reborn.stop());
    await alice.next('presence', { user: 'bob', status: 'offline', reason: 'connection_lost' });
    const carol = await login('carol', reborn);
    expect(carol.frames.find((f) => f.type === 'welcome')?.users).toEqual(['alice', 'carol']);
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
