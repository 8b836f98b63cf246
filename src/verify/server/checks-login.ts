import { encodeFrame, type RawFrame } from '../../protocol/index.ts';
import { byteDiff, showBytes } from '../bytes.ts';
import { HINTS, fail, seconds, sentence } from '../failure.ts';
import type { Probe, Received, Wait } from '../probe.ts';
import type { Check } from '../runner.ts';
import type { Account } from '../types.ts';
import { answerOf, errorCode, json, type ServerContext, type TimedWait } from './context.ts';
import { pagedWelcomesSeen, wholeWelcome } from './paged-welcome.ts';

/** Error codes that mean "I could not read or understand that frame" (never right for a valid login). */
const READ_ERRORS = new Set(['bad_frame', 'bad_request', 'unknown_type', 'frame_too_large', 'not_logged_in']);

/** What the step-4 checks saw, for the step-5 checks to judge. */
const loginWaits = new WeakMap<Probe, TimedWait[]>();

/** An answer to a login, or a line that is not a frame. */
const loginAnswerOrBadLine = (r: Received): boolean => r.frame === undefined || answerOf('welcome')(r);

function login(account: Account, password = account.password): RawFrame {
  return { type: 'login', user: account.user, password };
}

function wrong(account: Account): string {
  return `${account.password}-wrong`;
}

/** Offsets that cut `bytes` into `pieces` nearly equal parts. */
function evenCuts(length: number, pieces: number): number[] {
  return Array.from({ length: pieces - 1 }, (_, i) => Math.round(((i + 1) * length) / pieces));
}

/**
 * Step 4 is the client's move: the server only has to read the login. Waits for an answer (a
 * short quiet period when the run stops at step 4, where answering is not required yet) and
 * fails only on signs the frame was not read: a parse error, or a close with no answer.
 */
async function readLogin(ctx: ServerContext, probe: Probe, what: string, readHint: string): Promise<Wait> {
  const { wait, waitedMs } = await ctx.beginWait(probe, 4, loginAnswerOrBadLine, `an answer to ${what}`);
  if (wait.kind === 'frame') {
    const code = errorCode(wait.received);
    if (!wait.received.frame) fail(await ctx.explainWait(probe, wait, `an answer to ${what}`, waitedMs, { timeout: readHint }));
    if (code && READ_ERRORS.has(code)) {
      fail({
        summary: `the server answered error ${code} to a valid login`,
        expected: `${what} read as one login frame`,
        received: showBytes(wait.received.raw),
        hint: code === 'not_logged_in' ? 'login is the one frame a client sends before being logged in: accept it.' : readHint,
        culprit: wait.received.seq,
      });
    }
  } else if (wait.kind === 'closed' && !(loginWaits.get(probe) ?? []).some((seen) => seen.wait.kind === 'frame')) {
    // A close after an earlier answer (say, auth_failed) is for step 5 to judge.
    fail(await ctx.explainWait(probe, wait, `an answer to ${what}`, waitedMs, { timeout: readHint, close: sentence(`the server closed the connection when it read ${what}.`, readHint) }));
  }
  const list = loginWaits.get(probe) ?? [];
  list.push({ wait, waitedMs });
  loginWaits.set(probe, list);
  return wait;
}

/** The n-th login answer seen at step 4 on `probe`, waiting longer only if step 4 waited briefly. */
async function loginAnswer(ctx: ServerContext, probe: Probe, index: number, what: string, hint: string): Promise<Received> {
  const { wait, waitedMs } = await ctx.finishWait(probe, loginWaits.get(probe)?.[index], loginAnswerOrBadLine, what);
  if (wait.kind === 'frame' && wait.received.frame) return wait.received;
  fail(await ctx.explainWait(probe, wait, what, waitedMs, { timeout: hint }));
}

const accounts: Check<ServerContext> = {
  id: '4.accounts',
  step: 4,
  title: 'test accounts are ready',
  async run(ctx) {
    if (ctx.givenAccounts.length >= 2) {
      ctx.accounts = ctx.givenAccounts.slice(0, 3);
      ctx.accountSource = 'given';
      return `using ${ctx.accounts.map((a) => a.user).join(', ')} (given with --user / --accounts)`;
    }
    const probe = await ctx.openWithHello('setup');
    const registerMs = Math.min(ctx.timeouts.answerMs, 2_000);
    const prefix = `v${Math.random().toString(36).slice(2, 7)}`;
    const created: Account[] = [];
    let refusal = '';
    for (const role of ['a', 'b', 'c']) {
      const account = { user: `${prefix}_${role}`, password: `pw-${Math.random().toString(36).slice(2, 10)}` };
      await probe.send({ type: 'register', ...account });
      const wait = await probe.next(answerOf('ok'), registerMs);
      if (wait.kind === 'frame' && wait.received.frame?.type === 'ok') {
        created.push(account);
        ctx.registered.push(account.user);
        continue;
      }
      refusal =
        wait.kind === 'frame'
          ? `it answered register with ${errorCode(wait.received) ? `error ${errorCode(wait.received)}` : `"${wait.received.frame?.type}"`}`
          : wait.kind === 'closed'
            ? 'it closed the connection on register'
            : `it did not answer register within ${seconds(registerMs)}`;
      break;
    }
    probe.end();
    if (created.length >= 2) {
      ctx.accounts = created;
      ctx.accountSource = 'register';
      return `registered ${created.map((a) => a.user).join(', ')} with register`;
    }
    if (ctx.through < 5) {
      // Step 4 only checks that logins are read; any credentials do.
      ctx.accounts = ctx.givenAccounts.length
        ? [...ctx.givenAccounts, { user: 'verify_b', password: 'not-a-real-password' }]
        : [
            { user: 'verify_a', password: 'not-a-real-password' },
            { user: 'verify_b', password: 'not-a-real-password' },
          ];
      return `no accounts (${refusal}); step 4 only checks that logins are read`;
    }
    fail({
      summary: `the verifier has no accounts to log in with: the server does not support register (${refusal}) and fewer than two accounts were given`,
      hint: 'give the verifier at least two accounts that exist on your server: --user alice:wonderland --user bob:builder (or --accounts lessons/accounts.json).',
    });
  },
};

const loginRead: Check<ServerContext> = {
  id: '4.login-read',
  step: 4,
  title: 'a login sent in one write is read',
  async run(ctx) {
    const hint = 'read the socket line by line (up to each \\n), parse each line as JSON and handle {"type":"login",…}.';
    ctx.alice = await ctx.openWithHello(ctx.a.user);
    await ctx.alice.send(login(ctx.a));
    await readLogin(ctx, ctx.alice, `${ctx.a.user}'s login`, hint);
    if (ctx.c) {
      ctx.carol = await ctx.openWithHello(ctx.c.user);
      await ctx.carol.send(login(ctx.c));
      await readLogin(ctx, ctx.carol, `${ctx.c.user}'s login`, hint);
    }
  },
};

const loginSplit: Check<ServerContext> = {
  id: '4.login-split',
  step: 4,
  title: 'a login split across many TCP writes is read as one frame',
  async run(ctx) {
    ctx.bob = await ctx.openWithHello(ctx.b.user);
    const frame = login(ctx.b);
    await ctx.bob.send(frame, { splitAt: evenCuts(encodeFrame(frame).length, 6), gapMs: 20 });
    await readLogin(ctx, ctx.bob, `${ctx.b.user}'s login (sent in 6 pieces)`, HINTS.oneReadOneFrame);
  },
};

const severalPerWrite: Check<ServerContext> = {
  id: '4.several-per-write',
  step: 4,
  title: 'several frames in one TCP write are each read (with \\r\\n and a blank line)',
  async run(ctx) {
    ctx.guest = await ctx.openWithHello('guest');
    const first = login(ctx.a, wrong(ctx.a));
    const second = login(ctx.b, wrong(ctx.b));
    const crlf = Buffer.from(JSON.stringify(first) + '\r\n\n', 'utf8');
    await ctx.guest.send(Buffer.concat([crlf, encodeFrame(second)]), { frames: [first, second] });
    const what = 'two logins that arrived in one write';
    const answer = await readLogin(ctx, ctx.guest, what, HINTS.severalFramesPerRead);
    if (answer.kind === 'frame') await readLogin(ctx, ctx.guest, what, HINTS.severalFramesPerRead);
  },
};

/**
 * Fails unless `received` is a welcome for `account` whose `users` (every page of it, when the
 * server pages a long list) holds `mustList`, sorted.
 */
async function checkWelcome(ctx: ServerContext, probe: Probe, received: Received, account: Account, mustList: string[]): Promise<void> {
  let frame = received.frame!;
  const example = json({ type: 'welcome', user: account.user, users: [...mustList].sort() });
  const code = errorCode(received);
  if (code) {
    const why =
      ctx.accountSource === 'register'
        ? `the account was just created with register (answered ok), so login must accept the same user name and password.`
        : `check the accounts given with --user / --accounts: the server must accept them.`;
    fail({
      summary:
        ctx.accountSource === 'given'
          ? `login as ${account.user} with the password given to the verifier was refused with error ${code}`
          : `login with good credentials was refused with error ${code}`,
      expected: example,
      received: showBytes(received.raw),
      hint: code === 'auth_failed' ? why : code === 'already_online' ? `${account.user} was not online: refuse only a user who is.` : `answer a good login with ${example}.`,
      culprit: received.seq,
    });
  }
  if (frame.type !== 'welcome') {
    fail({
      summary: `a good login was answered with "${frame.type}", not "welcome"`,
      expected: example,
      received: showBytes(received.raw),
      hint: `answer a good login with ${example}.`,
      culprit: received.seq,
    });
  }
  ctx.requireValid(probe, received, `welcome is ${example}: "user" is the name, "users" an array of names.`);
  frame = (await wholeWelcome(ctx, probe, received)).frame;
  const diff = byteDiff('the "user" field of welcome', account.user, String(frame.user));
  if (diff)
    fail({
      summary: `welcome names "${String(frame.user)}" instead of "${account.user}"`,
      expected: example,
      received: showBytes(received.raw),
      diff,
      hint: 'welcome.user is the name that just logged in.',
      culprit: received.seq,
    });
  const users = frame.users as string[];
  const missing = mustList.filter((name) => !users.includes(name));
  if (missing.length) {
    fail({
      summary: `welcome.users misses ${missing.join(', ')}`,
      expected: `users listing everyone online, self included, sorted: ${JSON.stringify([...mustList].sort())} (at least)`,
      received: showBytes(received.raw),
      hint: missing.includes(account.user)
        ? 'welcome.users includes the user who just logged in.'
        : 'welcome.users lists every logged-in user, not only the new one: keep a table of online users shared by all connections.',
      culprit: received.seq,
    });
  }
  const sorted = [...users].sort();
  if (users.some((name, i) => name !== sorted[i]) || new Set(users).size !== users.length) {
    fail({
      summary: `welcome.users is not sorted (or lists someone twice): ${JSON.stringify(users)}`,
      expected: JSON.stringify([...new Set(sorted)]),
      received: showBytes(received.raw),
      hint: 'send the online users sorted, each once: [...names].sort() in JS, sorted(names) in Python.',
      culprit: received.seq,
    });
  }
}

const welcome: Check<ServerContext> = {
  id: '5.welcome',
  step: 5,
  title: 'a good login gets welcome with the user and the online list',
  async run(ctx) {
    const hint = 'answer a good login with {"type":"welcome","user":"<name>","users":[…everyone online, sorted…]}.';
    const answer = await loginAnswer(ctx, ctx.alice!, 0, `an answer to ${ctx.a.user}'s login`, hint);
    await checkWelcome(ctx, ctx.alice!, answer, ctx.a, [ctx.a.user]);
    if (ctx.carol && ctx.c) {
      const carolAnswer = await loginAnswer(ctx, ctx.carol, 0, `an answer to ${ctx.c.user}'s login`, hint);
      await checkWelcome(ctx, ctx.carol, carolAnswer, ctx.c, [ctx.a.user, ctx.c.user]);
    }
  },
};

const onlineList: Check<ServerContext> = {
  id: '5.online-list',
  step: 5,
  title: 'welcome lists everyone online, sorted, self included',
  async run(ctx) {
    const answer = await loginAnswer(
      ctx,
      ctx.bob!,
      0,
      `an answer to ${ctx.b.user}'s login (sent in 6 pieces)`,
      sentence(`${ctx.b.user}'s login arrived in 6 TCP reads and was never answered.`, HINTS.oneReadOneFrame),
    );
    await checkWelcome(
      ctx,
      ctx.bob!,
      answer,
      ctx.b,
      [ctx.a, ctx.b, ctx.c].filter((a): a is Account => a !== undefined).map((a) => a.user),
    );
  },
};

const pagedLists: Check<ServerContext> = {
  id: '5.paged-lists',
  step: 5,
  title: 'a welcome too long for one frame is continued by the rules (more, same id, nothing in between)',
  async run(ctx) {
    // The welcome checks above put every paged welcome together and failed on a broken rule; a few
    // test users never fill a frame, so this mostly says whether the server paged at all.
    const paged = pagedWelcomesSeen(ctx);
    if (paged.length === 0) return 'no welcome was paged (every online list fitted in one frame): nothing to check';
    return `paged welcomes put together: ${paged.map(({ probe, pages }) => `${probe}'s in ${pages} frames`).join(', ')}; each continued with users frames of its id, more on all but the last, nothing in between, sorted, self included`;
  },
};

/** Waits for presence about `user` on `probe` and checks its status. */
export async function expectPresence(ctx: ServerContext, probe: Probe, user: string, status: 'online' | 'offline', timeoutHint: string): Promise<Received> {
  const example = json({ type: 'presence', user, status });
  const received = await ctx.expect(probe, (r) => r.frame?.type === 'presence' && r.frame.user === user, `${example} on ${probe.name}'s connection`, ctx.timeouts.answerMs, {
    timeout: timeoutHint,
  });
  ctx.requireValid(probe, received, `presence is ${example}.`);
  const diff = byteDiff('the "status" field of presence', status, String(received.frame!.status));
  if (diff) {
    fail({
      summary: `${probe.name} got presence about ${user} with status "${String(received.frame!.status)}"`,
      expected: example,
      received: showBytes(received.raw),
      diff,
      hint: `status is "online" when a user logs in, "offline" when it leaves.`,
      culprit: received.seq,
    });
  }
  return received;
}

const presenceOnline: Check<ServerContext> = {
  id: '5.presence-online',
  step: 5,
  title: 'the users already online get presence online',
  async run(ctx) {
    const hint = (user: string): string => `after a successful login, send {"type":"presence","user":"${user}","status":"online"} to every other logged-in user.`;
    await expectPresence(ctx, ctx.alice!, ctx.b.user, 'online', hint(ctx.b.user));
    if (ctx.carol && ctx.c) {
      await expectPresence(ctx, ctx.alice!, ctx.c.user, 'online', hint(ctx.c.user));
      await expectPresence(ctx, ctx.carol, ctx.b.user, 'online', hint(ctx.b.user));
    }
    const self = ctx.bob!.unconsumed((r) => r.frame?.type === 'presence' && r.frame.user === ctx.b.user)[0];
    if (self) {
      fail({
        summary: `${ctx.b.user} got presence about itself`,
        received: showBytes(self.raw),
        hint: 'presence online goes to every *other* logged-in user; the new user learns who is online from welcome.users.',
        culprit: self.seq,
      });
    }
  },
};

const authFailed: Check<ServerContext> = {
  id: '5.auth-failed',
  step: 5,
  title: 'a wrong password gets error auth_failed, and the connection stays open',
  async run(ctx) {
    const guest = ctx.guest!;
    const hint = `answer a failed login with {"type":"error","code":"auth_failed","message":"…"}. (That login came in one write together with another frame: ${HINTS.severalFramesPerRead})`;
    const answer = await loginAnswer(ctx, guest, 0, `an answer to a login with a wrong password`, hint);
    if (errorCode(answer) !== 'auth_failed') {
      fail({
        summary:
          answer.frame!.type === 'welcome'
            ? 'a login with a wrong password was accepted!'
            : `a wrong password was answered with ${errorCode(answer) ? `error ${errorCode(answer)}` : `"${answer.frame!.type}"`}, not error auth_failed`,
        expected: json({ type: 'error', code: 'auth_failed', message: '…' }),
        received: showBytes(answer.raw),
        hint:
          answer.frame!.type === 'welcome'
            ? "compare the password with the account's before letting anyone in."
            : errorCode(answer) === 'already_online'
              ? 'that user is online, but the password was wrong: check the password before whether the user is online, so already_online only ever reaches someone who gave the right password and a wrong one never reveals who is online (the order: the fields, already_logged_in, the password, then already_online).'
              : 'a wrong user name or password is answered with error code auth_failed.',
        culprit: answer.seq,
      });
    }
    ctx.requireValid(guest, answer, 'an error frame is {"type":"error","code":"…","message":"…"}.');
    await guest.waitForClose(ctx.timeouts.quietMs);
    if (guest.finished) {
      fail({ summary: 'the server closed the connection after auth_failed', hint: 'after auth_failed keep the connection open: the client may try again with other credentials.' });
    }
  },
};

const bothAnswered: Check<ServerContext> = {
  id: '5.several-answered',
  step: 5,
  title: 'both logins of that one write are answered',
  async run(ctx) {
    const answer = await loginAnswer(
      ctx,
      ctx.guest!,
      1,
      'an answer to the second frame of a write that held two frames',
      sentence('only the first frame of that write was answered.', HINTS.severalFramesPerRead),
    );
    if (errorCode(answer) !== 'auth_failed') {
      fail({
        summary: `the second wrong login was answered with "${String(answer.frame!.code ?? answer.frame!.type)}", not error auth_failed`,
        received: showBytes(answer.raw),
        hint: HINTS.severalFramesPerRead,
        culprit: answer.seq,
      });
    }
  },
};

const alreadyOnline: Check<ServerContext> = {
  id: '5.already-online',
  step: 5,
  title: 'a second login of a user already online is refused with already_online',
  async run(ctx) {
    const guest = ctx.guest!;
    await guest.send(login(ctx.a));
    const answer = await ctx.expect(guest, answerOf('welcome'), `an answer to a login of ${ctx.a.user}, who is already online`, ctx.timeouts.answerMs, {
      timeout: 'answer every login, even on a connection whose earlier login failed.',
      close: 'keep the connection open after a refused login.',
    });
    if (errorCode(answer) !== 'already_online') {
      fail({
        summary: `logging in as ${ctx.a.user} while ${ctx.a.user} is online was answered with ${errorCode(answer) ? `error ${errorCode(answer)}` : `"${answer.frame!.type}"`}`,
        expected: json({ type: 'error', code: 'already_online', message: '…' }),
        received: showBytes(answer.raw),
        hint: 'before accepting a login, check whether that user is already online; if so, answer error already_online and keep both connections as they were.',
        culprit: answer.seq,
      });
    }
    await ctx.alice!.waitForClose(ctx.timeouts.quietMs);
    if (ctx.alice!.finished) {
      fail({ summary: `${ctx.a.user}'s first session was closed when someone tried to log in as ${ctx.a.user} again`, hint: 'refuse the second login; leave the first session alone.' });
    }
  },
};

/** The checks of steps 4–5, in order. */
/**
 * Lesson 05's warning: a server never prints a password, not even a wrong one (logs are read by
 * people who must not learn them). Only a server the verifier started has output to read.
 */
const noPasswordPrinted: Check<ServerContext> = {
  id: '5.no-password-printed',
  step: 5,
  title: 'the server prints no password, right or wrong',
  async run(ctx) {
    const supervisor = ctx.supervisor;
    if (!supervisor) return 'not checked with --target: the verifier cannot see the output';
    // The wrong passwords of this step contain the right ones (see wrong()), so these find both.
    const passwords = ctx.accounts.map((a) => a.password).filter((p) => p.length >= 4);
    for (const line of supervisor.output) {
      const password = passwords.find((p) => line.text.includes(p));
      if (password === undefined) continue;
      fail({
        summary: `the server printed a password on its ${line.stream}`,
        received: line.text.replaceAll(password, '<the password>'),
        hint: 'never print a password, not even a wrong one: log the user name and the outcome (logged in, auth_failed), nothing more.',
      });
    }
  },
};

export const loginChecks: Check<ServerContext>[] = [
  accounts,
  loginRead,
  loginSplit,
  severalPerWrite,
  welcome,
  onlineList,
  pagedLists,
  presenceOnline,
  authFailed,
  bothAnswered,
  alreadyOnline,
  noPasswordPrinted,
];
