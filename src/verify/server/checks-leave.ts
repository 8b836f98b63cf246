import { showBytes } from '../bytes.ts';
import { fail, seconds } from '../failure.ts';
import type { Received } from '../probe.ts';
import type { Check } from '../runner.ts';
import { answerOf, errorCode, json, type ServerContext, type TimedWait } from './context.ts';
import { expectPresence } from './checks-login.ts';
import { wholeWelcome } from './paged-welcome.ts';

/** What step 8 saw after bob's quit, for step 9 to judge. */
const quitWaits = new WeakMap<ServerContext, TimedWait>();

/** An answer to a quit, or a line that is not a frame. */
const quitAnswerOrBadLine = (r: Received): boolean => r.frame === undefined || answerOf('bye')(r);

const quitRead: Check<ServerContext> = {
  id: '8.quit-read',
  step: 8,
  title: 'a quit is read',
  async run(ctx) {
    const bob = ctx.bob!;
    await bob.send({ type: 'quit' });
    const { wait, waitedMs } = await ctx.beginWait(bob, 8, quitAnswerOrBadLine);
    if (wait.kind === 'frame') {
      const code = errorCode(wait.received);
      if (!wait.received.frame) fail(await ctx.explainWait(bob, wait, 'an answer to quit', waitedMs, { timeout: '' }));
      if (code) {
        fail({
          summary: `the server answered error ${code} to quit`,
          expected: `${json({ type: 'bye' })}, then the connection closes`,
          received: showBytes(wait.received.raw),
          hint:
            code === 'not_logged_in'
              ? `the server forgot that ${bob.name} logged in: keep the user name in that connection's session.`
              : 'handle {"type":"quit"} (it has no other field): it means the user leaves the chat.',
          culprit: wait.received.seq,
        });
      }
    } else if (wait.kind === 'closed') {
      // Closing at once is a step-9 matter (bye first); only a crash is a failure here.
      const exit = await ctx.serverExit();
      if (exit) fail({ summary: `the server process ${exit} when it read a quit`, hint: 'a client leaving must never stop the server: read its stderr below.' });
    }
    quitWaits.set(ctx, { wait, waitedMs });
  },
};

const bye: Check<ServerContext> = {
  id: '9.bye',
  step: 9,
  title: 'the user who quits gets bye',
  async run(ctx) {
    const bob = ctx.bob!;
    const { wait, waitedMs } = await ctx.finishWait(bob, quitWaits.get(ctx), quitAnswerOrBadLine);
    const example = json({ type: 'bye' });
    if (wait.kind === 'closed' && !(await ctx.serverExit())) {
      fail({
        summary: `the server closed ${bob.name}'s connection without sending bye`,
        expected: `${example} before the close`,
        hint: `answer quit with ${example}\\n first, then close the connection.`,
        culprit: ctx.transcript.events.filter((e) => e.conn === bob.name && e.kind === 'close').at(-1)?.seq,
      });
    }
    if (wait.kind !== 'frame' || !wait.received.frame) {
      fail(await ctx.explainWait(bob, wait, `${example} on ${bob.name}'s connection after quit`, waitedMs, { timeout: `answer quit with ${example}, then close the connection.` }));
    }
    ctx.requireValid(bob, wait.received, `bye is ${example}.`);
  },
};

const presenceOffline: Check<ServerContext> = {
  id: '9.presence-offline',
  step: 9,
  title: 'the others get presence offline',
  async run(ctx) {
    const hint = `when a user quits, send {"type":"presence","user":"${ctx.b.user}","status":"offline"} to every other logged-in user.`;
    for (const probe of ctx.stayers()) await expectPresence(ctx, probe, ctx.b.user, 'offline', hint);
  },
};

const removed: Check<ServerContext> = {
  id: '9.removed',
  step: 9,
  title: 'the user is removed: it can log in again',
  async run(ctx) {
    const again = await ctx.openWithHello(`${ctx.b.user}(2)`);
    ctx.bobAgain = again;
    await again.send({ type: 'login', user: ctx.b.user, password: ctx.b.password });
    const answer = await ctx.expect(again, answerOf('welcome'), `an answer to ${ctx.b.user}'s new login`, ctx.timeouts.answerMs, {
      timeout: 'answer a good login with welcome, also for a user who was online before and quit.',
    });
    if (answer.frame!.type !== 'welcome') {
      fail({
        summary: `${ctx.b.user} quit, but logging in again was answered with ${errorCode(answer) ? `error ${errorCode(answer)}` : `"${answer.frame!.type}"`}`,
        expected: json({ type: 'welcome', user: ctx.b.user, users: ['…'] }),
        received: showBytes(answer.raw),
        hint: 'on quit, remove the user from the online list (no ghost stays online), so it can come back.',
        culprit: answer.seq,
      });
    }
    const whole = (await wholeWelcome(ctx, again, answer)).frame;
    const users = Array.isArray(whole.users) ? (whole.users as unknown[]) : [];
    if (users.filter((u) => u === ctx.b.user).length !== 1) {
      fail({
        summary: `welcome.users lists ${ctx.b.user} ${users.filter((u) => u === ctx.b.user).length} times`,
        received: showBytes(answer.raw),
        hint: 'on quit, remove the user from the online list; list each online user once.',
        culprit: answer.seq,
      });
    }
    // The others are told bob is back; take those frames out of the way of step 10.
    for (const probe of ctx.stayers()) {
      await probe.next((r) => r.frame?.type === 'presence' && r.frame.user === ctx.b.user, ctx.timeouts.answerMs);
    }
  },
};

const closesAfterBye: Check<ServerContext> = {
  id: '10.closes-after-bye',
  step: 10,
  title: 'after bye, the server closes the connection',
  async run(ctx) {
    const bob = ctx.bob!;
    const byeFrame = bob.inbox.find((r) => r.frame?.type === 'bye');
    if (!bob.finished) bob.end();
    const closed = await bob.waitForClose(ctx.timeouts.answerMs);
    const after: Received | undefined = bob.inbox.find((r) => byeFrame && r.seq > byeFrame.seq);
    if (after) {
      fail({
        summary: `the server sent more after bye`,
        expected: 'bye as the last frame',
        received: showBytes(after.raw),
        hint: 'bye is the last frame to a user who quits: send it, then close.',
        culprit: after.seq,
      });
    }
    if (!closed) {
      fail({
        summary: `no answer within ${seconds(ctx.timeouts.answerMs)}: ${bob.name}'s connection is still open after bye, even though the verifier closed its side`,
        expected: 'the server closes its side of the connection',
        hint: 'after bye, close the socket (socket.end() / conn.close()); also close it when a read returns 0 bytes (the client closed its side).',
        timeoutSeconds: ctx.timeouts.answerMs / 1000,
      });
    }
    return bob.peerEnded ? 'closed by the server' : undefined;
  },
};

const dropOffline: Check<ServerContext> = {
  id: '10.drop-offline',
  step: 10,
  title: 'a connection dropped without quit also gives presence offline',
  async run(ctx) {
    const again = ctx.bobAgain!;
    again.drop();
    const hint = `when a read returns 0 bytes or fails (connection reset), do what quit does: remove ${ctx.b.user} and send {"type":"presence","user":"${ctx.b.user}","status":"offline"} to the others.`;
    for (const probe of ctx.stayers()) await expectPresence(ctx, probe, ctx.b.user, 'offline', hint);
  },
};

const stillServing: Check<ServerContext> = {
  id: '10.still-serving',
  step: 10,
  title: 'the server keeps serving: a new connection still gets hello',
  async run(ctx) {
    const probe = await ctx.open('last');
    await ctx.expect(probe, (r) => r.frame?.type === 'hello', 'a hello on a new connection after users left', ctx.timeouts.answerMs, {
      timeout: 'users leaving must not stop the server from accepting and greeting new connections.',
    });
    probe.end();
  },
};

/** The checks of steps 8–10, in order. */
export const leaveChecks: Check<ServerContext>[] = [quitRead, bye, presenceOffline, removed, closesAfterBye, dropOffline, stillServing];
