/**
 * Steps 11–17: the extensions a server lists in `hello.features` (docs/protocol.md "Features",
 * docs/protocol-extensions.md), one step per feature. The runner reports a step whose feature is
 * not advertised as "not run", so each group here may assume its feature is supported. Every
 * group is self-contained (it logs in what it needs), so `--only` can pick any of them.
 */
import { createHash } from 'node:crypto';
import { PagedListAssembler, compareCodePoints, type RawFrame } from '../../protocol/index.ts';
import { byteDiff, showBytes } from '../bytes.ts';
import { fail, sentence } from '../failure.ts';
import { nonce, nonceOf } from '../nonce.ts';
import type { Probe, Received } from '../probe.ts';
import type { Check } from '../runner.ts';
import type { ExtensionStepNumber } from '../steps.ts';
import type { Account } from '../types.ts';
import { errorCode, json, type ServerContext } from './context.ts';
import { wholeWelcome } from './paged-welcome.ts';

/** What the extension groups share within one run. */
interface ExtensionState {
  /** bob's session for the extension checks (bob left during step 10). */
  bob?: Probe;
  sessions: number;
  /** {@link setUp} has run. */
  ready?: boolean;
}

const states = new WeakMap<ServerContext, ExtensionState>();

function state(ctx: ServerContext): ExtensionState {
  let found = states.get(ctx);
  if (!found) states.set(ctx, (found = { sessions: 0 }));
  return found;
}

/** A lower-case name nobody else uses: a room name, or a user name. */
function freshName(prefix: string): string {
  return `${prefix}${Math.random().toString(36).slice(2, 9)}`;
}

/** Whether the frame carries the nonce of `text` in a message. */
function carries(text: string): (received: Received) => boolean {
  const tag = nonceOf(text);
  return (r) => r.frame?.type === 'message' && typeof r.frame.text === 'string' && r.frame.text.includes(tag);
}

/** Fails the check with the frame that arrived, what was expected instead, and a hint. */
function wrongFrame(received: Received, summary: string, expected: RawFrame | string, hint: string, diff?: { label: string; expected: string; received: string }): never {
  const bytes = diff ? byteDiff(diff.label, diff.expected, diff.received) : null;
  fail({
    summary,
    expected: typeof expected === 'string' ? expected : json(expected),
    received: showBytes(received.raw),
    ...(bytes ? { diff: bytes } : {}),
    hint,
    culprit: received.seq,
  });
}

/** "error bad_request" or `"users"`: how a received frame is named in a summary. */
function named(received: Received): string {
  const code = errorCode(received);
  return code ? `error ${code}` : `"${String(received.frame!.type)}"`;
}

/**
 * Sends `request` and waits for the frame answering it: one carrying its id, any error, or a
 * frame of one of `types` (so an answer that lost its id is reported as such, not as silence).
 */
async function ask(ctx: ServerContext, probe: Probe, request: RawFrame, what: string, timeoutHint: string, types: string[] = []): Promise<Received> {
  await probe.send(request);
  return ctx.expect(probe, (r) => r.frame !== undefined && (r.frame.id === request.id || r.frame.type === 'error' || types.includes(r.frame.type)), what, ctx.timeouts.answerMs, {
    timeout: timeoutHint,
  });
}

/** Fails unless `answer` is `error` `code` with the request's id. */
function requireError(answer: Received, request: RawFrame, code: string, why: string, hint: string): void {
  const got = errorCode(answer);
  if (got === code && answer.frame!.id === request.id) return;
  wrongFrame(
    answer,
    got === code ? `error ${code} came without the request's id ${JSON.stringify(request.id)}` : `${why} was answered with ${named(answer)}, not error ${code}`,
    { type: 'error', code, message: '…', id: request.id as string },
    hint,
    got && got !== code ? { label: 'the "code" field of the error', expected: code, received: got } : undefined,
  );
}

/** Fails unless `answer` is `ok` with the request's id. */
function requireOk(answer: Received, request: RawFrame, why: string, hint: string): void {
  if (answer.frame!.type === 'ok' && answer.frame!.id === request.id) return;
  wrongFrame(answer, `${why} was answered with ${named(answer)}, not ok`, { type: 'ok', id: request.id as string }, hint);
}

/**
 * Opens a connection and logs `account` in; returns the probe, with its `welcome` (every page of
 * it, the last one returned) consumed. On a
 * server with history, the login carries `since` (2^53−1 unless `extra` gives one, so only queued
 * messages are due) and its replay is read up to `history_end`, unless `keepReplay` leaves it to
 * the caller.
 */
async function signIn(ctx: ServerContext, account: Account, extra: Record<string, unknown> = {}, keepReplay = false, refusedHint?: string): Promise<{ probe: Probe; welcome: Received }> {
  const probe = await ctx.openWithHello(`${account.user}(x${++state(ctx).sessions})`);
  const history = ctx.advertises('history');
  const request = { type: 'login', user: account.user, password: account.password, id: `ext-login-${state(ctx).sessions}`, ...(history ? { since: Number.MAX_SAFE_INTEGER } : {}), ...extra };
  await probe.send(request);
  const welcome = await ctx.expect(probe, (r) => r.frame?.type === 'welcome' || r.frame?.type === 'error', `an answer to ${account.user}'s login`, ctx.timeouts.answerMs, {
    timeout: 'answer a good login with welcome.',
  });
  if (welcome.frame!.type !== 'welcome') {
    wrongFrame(
      welcome,
      `${account.user}'s login (a good one, for the extension checks) was answered with ${named(welcome)}`,
      { type: 'welcome', user: account.user, users: ['…'], id: request.id },
      refusedHint ?? 'a login with the right password of an account that is not online gets welcome, also after earlier sessions of that user ended.',
    );
  }
  // A long online list comes paged: its users frames are part of the welcome, not answers to later requests.
  const { last } = await wholeWelcome(ctx, probe, welcome);
  if (history && !keepReplay) {
    await ctx.expect(probe, (r) => r.frame?.type === 'history_end', `history_end after ${probe.name}'s login with since`, ctx.timeouts.answerMs, {
      timeout: 'your hello lists "history": after the welcome of a login with since, always end the replay with history_end (even when it is empty).',
    });
  }
  return { probe, welcome: last };
}

/** Waits on `probe` for the global (room-less) presence of `user` with `status`. */
async function globalPresence(ctx: ServerContext, probe: Probe, user: string, status: 'online' | 'offline', hint: string): Promise<Received> {
  return ctx.expect(
    probe,
    (r) => r.frame?.type === 'presence' && r.frame.user === user && r.frame.status === status && r.frame.room === undefined,
    `${json({ type: 'presence', user, status })} on ${probe.name}'s connection`,
    ctx.timeouts.answerMs,
    { timeout: hint },
  );
}

/**
 * Sets the extension groups up, once per run: waits until alice has seen bob's last session
 * (ended during step 10) go offline, then logs alice in again on a fresh connection. A server
 * may limit the frames a connection sends (the reference allows 20 a second, 40 in a burst), and
 * steps 1–10 have used up much of alice's share: the groups start with a full one.
 */
async function setUp(ctx: ServerContext): Promise<void> {
  const s = state(ctx);
  if (s.ready) return;
  const old = ctx.alice!;
  await globalPresence(ctx, old, ctx.b.user, 'offline', "when a user's connection ends, tell everyone else: presence offline.");
  await old.send({ type: 'quit' });
  await ctx.expect(old, (r) => r.frame?.type === 'bye', `bye on ${old.name}'s connection`, ctx.timeouts.answerMs, { timeout: 'answer quit with {"type":"bye"}.' });
  const { probe } = await signIn(ctx, ctx.a);
  ctx.alice = probe;
  s.ready = true;
}

/** bob, logged in again for the extension checks (step 10 ended his last session). */
async function bobOnline(ctx: ServerContext): Promise<Probe> {
  await setUp(ctx);
  const s = state(ctx);
  if (s.bob && !s.bob.finished) return s.bob;
  const { probe } = await signIn(ctx, ctx.b);
  await globalPresence(ctx, ctx.alice!, ctx.b.user, 'online', 'when a user logs in, tell everyone else: presence online.');
  s.bob = probe;
  return probe;
}

/**
 * A barrier: alice says a fresh lobby text and every other logged-in probe in `probes` must get
 * it. TCP keeps each connection's order, so whatever was relayed before has arrived by then.
 */
async function barrier(ctx: ServerContext, probes: Probe[]): Promise<void> {
  const text = `barrier ${nonce()}`;
  await ctx.alice!.send({ type: 'say', text });
  for (const probe of probes) {
    await ctx.expect(probe, carries(text), `${ctx.alice!.name}'s lobby say on ${probe.name}'s connection`, ctx.timeouts.answerMs, {
      timeout: 'a say without "to" or "room" reaches everyone online, as in the core.',
    });
  }
}

/** Fails if any of `probes` holds a message carrying `text`. */
function requireNotReceived(probes: Probe[], text: string, summary: (probe: Probe) => string, hint: string): void {
  for (const probe of probes) {
    const leaked = probe.unconsumed(carries(text))[0];
    if (leaked) fail({ summary: summary(probe), received: showBytes(leaked.raw), hint, culprit: leaked.seq });
  }
}

/** Whether `list` is sorted by code point (as `welcome` and `users` must be). */
function sortedByCodePoint(list: string[]): boolean {
  return list.every((name, i) => i === 0 || compareCodePoints(list[i - 1] as string, name) < 0);
}

/**
 * Reads a `users` answer to `request`, following `more:true` pages with the protocol's
 * {@link PagedListAssembler} (the next frames, same id and room, nothing in between); fails on
 * anything else.
 */
async function usersAnswer(ctx: ServerContext, probe: Probe, first: Received, request: RawFrame, hint: string): Promise<string[]> {
  const frame = first.frame!;
  const names = (users: unknown): boolean => Array.isArray(users) && users.every((u) => typeof u === 'string');
  if (frame.type !== 'users' || frame.id !== request.id || !names(frame.users)) {
    wrongFrame(
      first,
      `${json(request)} was answered with ${named(first)}${frame.type === 'users' ? " without the request's id or a list of names" : ''}`,
      { type: 'users', ...(request.room ? { room: request.room as string } : {}), users: ['…'], id: request.id as string },
      hint,
    );
  }
  if (request.room !== undefined && frame.room !== request.room) {
    wrongFrame(
      first,
      `the users answer to ${json(request)} does not name the room`,
      { type: 'users', room: request.room as string, users: ['…'], id: request.id as string },
      'a users frame that answers a join or a who with a room carries that "room".',
    );
  }
  const lists = new PagedListAssembler();
  let step = lists.take(frame);
  let page = first;
  while (step.kind === 'page') {
    const previous = page.seq;
    // The very next frame: pages come before any other frame (an older unread presence is not one).
    page = await ctx.expect(probe, (r) => r.seq > previous, `the next users page of ${json(request)}`, ctx.timeouts.answerMs, {
      timeout: 'after a users frame with "more":true, send the next page at once.',
    });
    step = lists.take(page.frame!);
    if (step.kind === 'broken' || (step.kind !== 'whole' && !names(page.frame!.users))) {
      wrongFrame(
        page,
        step.kind === 'broken' ? step.message : `a page of the users answer to ${json(request)} is not a list of names`,
        { type: 'users', ...(request.room ? { room: request.room as string } : {}), users: ['…'], id: request.id as string },
        hint,
      );
    }
  }
  return (step.kind === 'complete' ? step.frame.users : frame.users) as string[];
}

// ---------------------------------------------------------------- 11 register

const registerAccount: Check<ServerContext> = {
  id: '11.register',
  step: 11 satisfies ExtensionStepNumber,
  title:
    'register creates an account (ok with the id, allowed before login); the same name again gets user_exists; without an id it still gets ok; a logged-in user may register too; the new account logs in',
  async run(ctx) {
    const probe = await ctx.openWithHello('register');
    const account = { user: freshName('vr'), password: `pw-${nonce().slice(1)}` };
    const request = { type: 'register', ...account, id: 'reg-1' };
    const answer = await ask(ctx, probe, request, `an answer to ${json(request)}`, 'your hello lists "register": answer a register with {"type":"ok","id":…}, also before login.');
    requireOk(answer, request, 'a register of a new name, before login,', 'register is allowed before login: create the account and answer {"type":"ok","id":…} (registering does not log in).');
    ctx.registered.push(account.user);
    const again = { type: 'register', user: account.user, password: 'another-pw', id: 'reg-2' };
    const second = await ask(ctx, probe, again, `an answer to registering ${account.user} again`, 'answer a register of a taken name with error user_exists.');
    requireError(
      second,
      again,
      'user_exists',
      'a register of a name that was just registered',
      'a name that already has an account gets {"type":"error","code":"user_exists",…} with the request\'s id, and the account keeps its first password.',
    );
    // Unlike a say, a register is answered even without an id: the client waits to know.
    const quiet = { type: 'register', user: freshName('vr'), password: `pw-${nonce().slice(1)}` };
    await probe.send(quiet);
    const quietHint =
      'register is always answered, id or not: {"type":"ok"} (no id when the request had none) or an error. Only say, leave and the file frames other than file_offer are silent on success without an id; the client of a register waits to know whether the account exists.';
    const third = await ctx.expect(probe, (r) => r.frame?.type === 'ok' || r.frame?.type === 'error', `an answer to a register without an id (${quiet.user})`, ctx.timeouts.answerMs, {
      timeout: quietHint,
    });
    if (third.frame!.type !== 'ok' || third.frame!.id !== undefined) {
      wrongFrame(third, `a register without an id was answered with ${third.frame!.type === 'ok' ? `an ok with id ${JSON.stringify(third.frame!.id)}` : named(third)}`, { type: 'ok' }, quietHint);
    }
    ctx.registered.push(quiet.user);
    probe.end();
    // Register is allowed after login too: the session stays who it is.
    const alice = ctx.alice!;
    const later = { type: 'register', user: freshName('vr'), password: `pw-${nonce().slice(1)}`, id: 'reg-after-login' };
    const fourth = await ask(ctx, alice, later, `an answer to ${alice.name}'s register, sent after logging in`, 'register is allowed after login too: answer {"type":"ok","id":…}.');
    requireOk(
      fourth,
      later,
      `a register sent by ${alice.name}, who is logged in,`,
      'register is allowed before and after login: a logged-in connection may register another account; it gets the same answers, and stays logged in as itself.',
    );
    ctx.registered.push(later.user);
    const { probe: session } = await signIn(ctx, account);
    session.send({ type: 'quit' }).catch(() => undefined);
    return `registered ${account.user}, refused it again, logged in with it`;
  },
};

// ---------------------------------------------------------------- 12 who

const whoOnline: Check<ServerContext> = {
  id: '12.who',
  step: 12 satisfies ExtensionStepNumber,
  title: 'who is answered with users: everyone online, self included, sorted by code point, with the id',
  async run(ctx) {
    const alice = ctx.alice!;
    const request = { type: 'who', id: 'who-1' };
    const hint = 'your hello lists "who": answer {"type":"who","id":…} with {"type":"users","users":[…],"id":…}, everyone online, self included, sorted.';
    const first = await ask(ctx, alice, request, `an answer to ${json(request)}`, hint);
    const users = await usersAnswer(ctx, alice, first, request, hint);
    const expected = [ctx.a.user, ...(ctx.carol ? [ctx.c!.user] : [])];
    const missing = expected.filter((u) => !users.includes(u));
    if (missing.length || !sortedByCodePoint(users)) {
      wrongFrame(
        first,
        missing.length
          ? `the who answer leaves out ${missing.join(' and ')}, who ${missing.length > 1 ? 'are' : 'is'} online${missing.includes(ctx.a.user) ? ' (the asker is included too)' : ''}`
          : `the who answer is not sorted by code point: ${JSON.stringify(users)}`,
        { type: 'users', users: [...new Set([...users, ...expected])].sort(compareCodePoints), id: request.id },
        'list every user online, the asker included, sorted by code point (as in welcome).',
      );
    }
    if (!ctx.advertises('rooms')) return `${users.length} online, sorted`;
    const unknown = { type: 'who', room: freshName('nosuch'), id: 'who-2' };
    const answer = await ask(ctx, alice, unknown, `an answer to ${json(unknown)}`, 'answer a who for a room that does not exist with error unknown_room.');
    requireError(
      answer,
      unknown,
      'unknown_room',
      'a who for a room that does not exist',
      'your hello lists "rooms": a who with a room that does not exist gets {"type":"error","code":"unknown_room",…} with the id.',
    );
    return `${users.length} online, sorted; unknown_room for a room that does not exist`;
  },
};

// ---------------------------------------------------------------- 13 ping

const ping: Check<ServerContext> = {
  id: '13.ping',
  step: 13 satisfies ExtensionStepNumber,
  title: 'ping is answered with pong (a number ts, the id), before login and after',
  async run(ctx) {
    const guest = await ctx.openWithHello('ping');
    for (const [probe, when] of [
      [guest, 'before login'],
      [ctx.alice!, 'after login'],
    ] as const) {
      const request = { type: 'ping', id: `ping-${when.split(' ')[0]}` };
      const answer = await ask(
        ctx,
        probe,
        request,
        `an answer to ${json(request)} ${when}`,
        `your hello lists "ping": answer {"type":"ping","id":…} with {"type":"pong","ts":…,"id":…} at once${when === 'before login' ? ', also before login' : ''}.`,
        ['pong'],
      );
      const frame = answer.frame!;
      if (frame.type !== 'pong' || frame.id !== request.id || typeof frame.ts !== 'number' || !Number.isInteger(frame.ts)) {
        wrongFrame(
          answer,
          frame.type === 'pong' ? `the pong ${when} lacks ${frame.id !== request.id ? "the ping's id" : 'a whole-number "ts"'}` : `a ping ${when} was answered with ${named(answer)}, not pong`,
          { type: 'pong', ts: Date.now(), id: request.id },
          sentence(
            `answer a ping with pong: "ts" is the server's clock in milliseconds, "id" the ping's.`,
            when === 'before login' ? 'ping needs no login (like register): do not answer it not_logged_in.' : '',
          ),
        );
      }
    }
    guest.end();
    return 'pong before and after login';
  },
};

// ---------------------------------------------------------------- 14 private

const privateMessage: Check<ServerContext> = {
  id: '14.private',
  step: 14 satisfies ExtensionStepNumber,
  title: 'a say with "to" reaches only that user, from set by the server; the sender gets ok with the id',
  async run(ctx) {
    const alice = ctx.alice!;
    const bob = await bobOnline(ctx);
    const text = `just for you ${nonce()}`;
    const request = { type: 'say', to: ctx.b.user, text, from: 'someone-else', id: 'pm-1' };
    const answer = await ask(ctx, alice, request, `an answer to ${alice.name}'s private say`, 'your hello lists "private": answer a say with "to" and an id with {"type":"ok","id":…,"msgid":…}.');
    requireOk(answer, request, 'a private say to a user who is online', 'a say with "to" an online user is delivered to that user and answered {"type":"ok","id":…,"msgid":…}.');
    if (answer.frame!.queued !== undefined && answer.frame!.queued !== false) {
      wrongFrame(
        answer,
        'the ok of a private message to a user who is online says "queued"',
        { type: 'ok', id: request.id, msgid: 1 },
        '"queued":true is only for a target who is offline (the message waits for the next login).',
      );
    }
    const got = await ctx.expect(bob, carries(text), `${alice.name}'s private message on ${bob.name}'s connection`, ctx.timeouts.answerMs, {
      timeout: `deliver a say with "to":"${ctx.b.user}" to that user as {"type":"message","from":…,"to":…,"text":…,"ts":…}.`,
    });
    const frame = got.frame!;
    if (frame.from !== ctx.a.user || frame.to !== ctx.b.user || frame.text !== text || typeof frame.ts !== 'number') {
      const field = frame.from !== ctx.a.user ? 'from' : frame.to !== ctx.b.user ? 'to' : frame.text !== text ? 'text' : 'ts';
      const want = { from: ctx.a.user, to: ctx.b.user, text, ts: '(the server clock, a number)' }[field];
      wrongFrame(
        got,
        `the private message ${bob.name} received has a wrong "${field}"`,
        { ...frame, type: 'message', from: ctx.a.user, to: ctx.b.user, text, ts: typeof frame.ts === 'number' ? frame.ts : Date.now() },
        field === 'from'
          ? 'the server sets "from" to the sender\'s login name, whatever the client sent.'
          : 'a private message carries "from" (the sender), "to" (the target), the text unchanged and "ts".',
        { label: `the "${field}" field`, expected: String(want), received: String(frame[field]) },
      );
    }
    const outsiders = [ctx.idle, ctx.guest, ...ctx.others(alice).filter((p) => p !== bob)].filter((p): p is Probe => p !== undefined && !p.finished);
    await barrier(ctx, [bob, ...ctx.others(alice).filter((p) => p !== bob)]);
    requireNotReceived(
      outsiders,
      text,
      (probe) => `a private message to ${ctx.b.user} reached ${probe.name}`,
      'deliver a say with "to" to the named user only; nobody else gets a copy, not even the sender.',
    );
    requireNotReceived([alice], text, () => `the sender ${alice.name} got a copy of its own private message`, 'the sender gets no copy of its own message, only the ok.');
    return `delivered to ${bob.name} only, from "${ctx.a.user}"`;
  },
};

const privateErrors: Check<ServerContext> = {
  id: '14.private-errors',
  step: 14 satisfies ExtensionStepNumber,
  title: 'a say "to" a user with no account gets unknown_user; "to" yourself, or without text to nobody, gets bad_request (with the id)',
  async run(ctx) {
    const alice = ctx.alice!;
    const unknown = { type: 'say', to: freshName('nobody'), text: `to nobody ${nonce()}`, id: 'pm-unknown' };
    const a1 = await ask(ctx, alice, unknown, 'an answer to a private say to a user with no account', 'answer a say "to" a name with no account with error unknown_user.');
    requireError(
      a1,
      unknown,
      'unknown_user',
      'a private say to a name that has no account',
      'a say whose "to" names no account gets {"type":"error","code":"unknown_user",…} with the id; nothing is stored or relayed.',
    );
    const self = { type: 'say', to: ctx.a.user, text: `to myself ${nonce()}`, id: 'pm-self' };
    const a2 = await ask(ctx, alice, self, 'an answer to a private say to oneself', 'answer a say "to" yourself with error bad_request.');
    requireError(a2, self, 'bad_request', 'a private say to the sender itself', 'a say whose "to" is the sender gets {"type":"error","code":"bad_request",…} with the id.');
    const order = { type: 'say', to: freshName('nobody'), id: 'pm-order' };
    const a3 = await ask(ctx, alice, order, 'an answer to a private say without text to a user with no account', 'answer a say without text with error bad_request, whoever it is for.');
    requireError(
      a3,
      order,
      'bad_request',
      'a private say without text to a name that has no account',
      'a say without text is a bad_request whoever it is for: one error per frame, in order: the fields first (bad_request), then what they name (unknown_user, unknown_room, unknown_transfer), then your place in it (not_in_room), then the limits.',
    );
    return 'unknown_user and bad_request, with the ids; the fields before the user';
  },
};

const privateOffline: Check<ServerContext> = {
  id: '14.private-offline',
  step: 14 satisfies ExtensionStepNumber,
  title: 'a private say to an offline user gets ok with "queued":true; at its next login it comes after welcome with "queued":true, then history_end',
  async run(ctx) {
    const alice = ctx.alice!;
    const bob = await bobOnline(ctx);
    await bob.send({ type: 'quit' });
    await globalPresence(ctx, alice, ctx.b.user, 'offline', 'after a quit, tell everyone else: presence offline.');
    state(ctx).bob = undefined;
    const text = `while you were away ${nonce()}`;
    const request = { type: 'say', to: ctx.b.user, text, id: 'pm-offline' };
    const answer = await ask(
      ctx,
      alice,
      request,
      'an answer to a private say to an offline user',
      'answer a private say to an account that is offline with {"type":"ok","id":…,"msgid":…,"queued":true}.',
    );
    requireOk(
      answer,
      request,
      'a private say to an account that is offline',
      'a private message to an account that is not logged in is stored for it: answer {"type":"ok","id":…,"msgid":…,"queued":true}.',
    );
    if (answer.frame!.queued !== true) {
      wrongFrame(
        answer,
        'the ok of a private message to an offline user does not say "queued":true',
        { type: 'ok', id: request.id, msgid: 1, queued: true },
        'the target is offline, so the message is stored for its next login and the ok says so with "queued":true.',
      );
    }
    const { probe: back, welcome } = await signIn(ctx, ctx.b, { since: Number.MAX_SAFE_INTEGER }, true);
    state(ctx).bob = back;
    await globalPresence(ctx, alice, ctx.b.user, 'online', 'when a user logs in, tell everyone else: presence online.');
    const early = back.unconsumed(carries(text)).find((r) => r.seq < welcome.seq);
    if (early) wrongFrame(early, 'the queued message arrived before welcome', 'welcome first, then the queued message', 'send welcome first; the stored messages come after it.');
    const replayed = await ctx.expect(back, (r) => carries(text)(r) || r.frame?.type === 'history_end', `the queued message on ${back.name}'s connection after welcome`, ctx.timeouts.answerMs, {
      timeout: 'after welcome, replay every private message stored while the user was offline, with "queued":true, then history_end.',
    });
    const frame = replayed.frame!;
    if (frame.type === 'history_end') {
      wrongFrame(
        replayed,
        'history_end came before the message stored for the offline user',
        { type: 'message', from: ctx.a.user, to: ctx.b.user, text, ts: Date.now(), msgid: 1, history: true, queued: true },
        'replay the stored private messages after welcome and before history_end.',
      );
    }
    if (frame.queued !== true || frame.from !== ctx.a.user || frame.to !== ctx.b.user) {
      wrongFrame(
        replayed,
        `the replayed message ${frame.queued !== true ? 'lacks "queued":true' : 'has a wrong "from" or "to"'}`,
        { ...frame, from: ctx.a.user, to: ctx.b.user, text, history: true, queued: true },
        'a message stored for an offline user is replayed once, at its next login, with "from", "to" and "queued":true.',
      );
    }
    const end = await ctx.expect(back, (r) => r.frame?.type === 'history_end', `history_end after the replay on ${back.name}'s connection`, ctx.timeouts.answerMs, {
      timeout: 'end the replay after welcome with {"type":"history_end","count":…,"last_msgid":…}.',
    });
    if (typeof end.frame!.count !== 'number' || end.frame!.count < 1) {
      wrongFrame(
        end,
        'history_end after a replay with a queued message does not count it',
        { type: 'history_end', count: 1, last_msgid: 1 },
        '"count" is the number of messages replayed (here at least the queued one).',
      );
    }
    return `queued, then delivered after ${back.name}'s welcome with "queued":true, then history_end`;
  },
};

// ---------------------------------------------------------------- 15 rooms

const roomStates = new WeakMap<ServerContext, string>();

const roomJoin: Check<ServerContext> = {
  id: '15.join',
  step: 15 satisfies ExtensionStepNumber,
  title: 'join answers users (room, members sorted, id), then history_end with the room with history, nothing more without it; the other members get presence with the room',
  async run(ctx) {
    const alice = ctx.alice!;
    const bob = await bobOnline(ctx);
    const room = freshName('vroom');
    roomStates.set(ctx, room);
    const hint = 'your hello lists "rooms": answer {"type":"join","room":…,"id":…} with {"type":"users","room":…,"users":[…],"id":…}, then history_end with the room.';
    for (const [probe, members] of [
      [alice, [ctx.a.user]],
      [bob, [ctx.a.user, ctx.b.user].sort(compareCodePoints)],
    ] as const) {
      const request = { type: 'join', room, id: `join-${probe === alice ? 'a' : 'b'}` };
      const first = await ask(ctx, probe, request, `an answer to ${probe.name}'s ${json(request)}`, hint);
      const users = await usersAnswer(ctx, probe, first, request, hint);
      if (JSON.stringify(users) !== JSON.stringify(members)) {
        wrongFrame(
          first,
          `the users answer to ${probe.name}'s join lists ${JSON.stringify(users)}`,
          { type: 'users', room, users: members, id: request.id },
          "list the room's members after the join, the joiner included, sorted by code point.",
        );
      }
      // history_end after a join is a history frame: the features table lists it under neither
      // "rooms" nor "private". A server without "history" answers join with users only.
      if (!ctx.advertises('history')) {
        const stray = await probe.next((r) => r.frame?.type === 'history_end' && r.frame.room === room, ctx.timeouts.quietMs, { consume: false });
        if (stray.kind === 'frame') {
          wrongFrame(
            stray.received,
            `after ${probe.name}'s join came history_end, but hello.features does not list "history"`,
            `nothing after the users answer: a server with "rooms" but without "history" answers join with users only`,
            'a server without "history" answers join with users only: no replay and no history_end (a client waits for history_end only when hello lists "history"). Either list "history" in hello.features and support all of it, or send neither.',
          );
        }
        continue;
      }
      const end = await ctx.expect(probe, (r) => r.frame?.type === 'history_end' || r.frame?.type === 'error', `history_end with the room after ${probe.name}'s join`, ctx.timeouts.answerMs, {
        timeout:
          'after the users answer to a join, replay the room\'s last messages and end with {"type":"history_end","room":…,"count":…,"last_msgid":…}, always, even when there is nothing to replay.',
      });
      if (end.frame!.type !== 'history_end' || end.frame!.room !== room) {
        wrongFrame(
          end,
          `after ${probe.name}'s join came ${named(end)}${end.frame!.type === 'history_end' ? ' without the room' : ''}`,
          { type: 'history_end', room, count: 0, last_msgid: 0 },
          'a join always ends with history_end naming the room.',
        );
      }
    }
    const presence = await ctx.expect(
      alice,
      (r) => r.frame?.type === 'presence' && r.frame.user === ctx.b.user && r.frame.room !== undefined,
      `${json({ type: 'presence', user: ctx.b.user, status: 'online', room })} on ${alice.name}'s connection`,
      ctx.timeouts.answerMs,
      {
        timeout: 'when someone joins a room, send the other members {"type":"presence","user":…,"status":"online","room":…}.',
      },
    );
    if (presence.frame!.room !== room || presence.frame!.status !== 'online') {
      wrongFrame(
        presence,
        "the room presence for bob's join is wrong",
        { type: 'presence', user: ctx.b.user, status: 'online', room },
        'a join gives the other members presence "online" with the room.',
      );
    }
    return `${room}: users, history_end, presence to the other member`;
  },
};

const roomSay: Check<ServerContext> = {
  id: '15.room-say',
  step: 15 satisfies ExtensionStepNumber,
  title: 'a say with "room" reaches the other members only (message with the room), the sender gets ok',
  async run(ctx) {
    const alice = ctx.alice!;
    const bob = await bobOnline(ctx);
    const room = roomStates.get(ctx)!;
    const text = `members only ${nonce()}`;
    const request = { type: 'say', room, text, id: 'room-say' };
    const answer = await ask(ctx, bob, request, `an answer to ${bob.name}'s say in ${room}`, 'answer a say with "room" and an id with {"type":"ok","id":…,"msgid":…}.');
    requireOk(answer, request, `a say in ${room} by a member`, "a member's say in a room is relayed to the other members and answered ok with the id.");
    const got = await ctx.expect(alice, carries(text), `${bob.name}'s room message on ${alice.name}'s connection`, ctx.timeouts.answerMs, {
      timeout: 'relay a say with "room" to every other member of the room as a message with that "room".',
    });
    if (got.frame!.room !== room || got.frame!.from !== ctx.b.user) {
      wrongFrame(
        got,
        `the room message lacks ${got.frame!.room !== room ? 'its "room"' : 'the right "from"'}`,
        { type: 'message', from: ctx.b.user, room, text, ts: Date.now(), msgid: 1 },
        'a room message carries "room" and "from" (set by the server).',
        {
          label: got.frame!.room !== room ? 'the "room" field' : 'the "from" field',
          expected: got.frame!.room !== room ? room : ctx.b.user,
          received: String(got.frame!.room !== room ? got.frame!.room : got.frame!.from),
        },
      );
    }
    const outsiders = [ctx.idle, ctx.guest, ...ctx.others(alice).filter((p) => p !== bob)].filter((p): p is Probe => p !== undefined && !p.finished);
    await barrier(ctx, [bob, ...ctx.others(alice).filter((p) => p !== bob)]);
    requireNotReceived(outsiders, text, (probe) => `a message said in ${room} reached ${probe.name}, who is not a member`, 'relay a room message to the members of that room only.');
    requireNotReceived([bob], text, () => `${bob.name} got a copy of its own room message`, 'the sender gets no copy of its own message, only the ok.');
    return `reached ${alice.name} only`;
  },
};

const roomLeave: Check<ServerContext> = {
  id: '15.leave',
  step: 15 satisfies ExtensionStepNumber,
  title:
    'leave gets ok and presence offline with the room to the others; then say there gets not_in_room; unknown rooms get unknown_room (but a say without text gets bad_request first); lobby cannot be left',
  async run(ctx) {
    const alice = ctx.alice!;
    const bob = await bobOnline(ctx);
    const room = roomStates.get(ctx)!;
    const leave = { type: 'leave', room, id: 'leave-1' };
    const answer = await ask(ctx, alice, leave, `an answer to ${json(leave)}`, 'answer a leave with an id with {"type":"ok","id":…}.');
    requireOk(answer, leave, `${alice.name}'s leave of ${room}`, 'a member who leaves a room gets {"type":"ok","id":…}.');
    const presence = await ctx.expect(
      bob,
      (r) => r.frame?.type === 'presence' && r.frame.user === ctx.a.user && r.frame.room !== undefined,
      `${json({ type: 'presence', user: ctx.a.user, status: 'offline', room })} on ${bob.name}'s connection`,
      ctx.timeouts.answerMs,
      {
        timeout: 'when someone leaves a room, send the remaining members {"type":"presence","user":…,"status":"offline","room":…}.',
      },
    );
    if (presence.frame!.room !== room || presence.frame!.status !== 'offline') {
      wrongFrame(
        presence,
        `the room presence for ${alice.name}'s leave is wrong`,
        { type: 'presence', user: ctx.a.user, status: 'offline', room },
        'a leave gives the remaining members presence "offline" with the room.',
      );
    }
    const cases: { request: RawFrame; code: string; why: string; hint: string }[] = [
      {
        request: { type: 'say', room, text: `not a member ${nonce()}`, id: 'room-not-in' },
        code: 'not_in_room',
        why: `a say in ${room}, which exists, by a user who left it`,
        hint: 'a say in a room that exists but that you are not in gets {"type":"error","code":"not_in_room",…}.',
      },
      {
        request: { type: 'say', room: freshName('nosuch'), text: `no such room ${nonce()}`, id: 'room-unknown' },
        code: 'unknown_room',
        why: 'a say in a room that does not exist',
        hint: 'a say in a room that does not exist gets {"type":"error","code":"unknown_room",…} (checked before membership).',
      },
      {
        request: { type: 'leave', room: freshName('nosuch'), id: 'leave-unknown' },
        code: 'unknown_room',
        why: 'a leave of a room that does not exist',
        hint: 'a leave of a room that does not exist gets {"type":"error","code":"unknown_room",…}.',
      },
      {
        request: { type: 'leave', room: 'lobby', id: 'leave-lobby' },
        code: 'bad_request',
        why: 'a leave of lobby',
        hint: 'everyone is in lobby from login on and cannot leave it: answer bad_request.',
      },
      {
        request: { type: 'say', room: freshName('nosuch'), id: 'room-order' },
        code: 'bad_request',
        why: 'a say without text in a room that does not exist',
        hint: 'a say without text is a bad_request wherever it goes: one error per frame, in order: the fields first (bad_request), then what they name (unknown_user, unknown_room, unknown_transfer), then your place in it (not_in_room), then the limits.',
      },
    ];
    for (const c of cases) {
      const got = await ask(ctx, alice, c.request, `an answer to ${json(c.request)}`, c.hint);
      requireError(got, c.request, c.code, c.why, c.hint);
    }
    await barrier(ctx, ctx.others(alice));
    requireNotReceived(ctx.others(alice), nonceOf(String(cases[0]!.request.text)), (probe) => `a say refused with not_in_room still reached ${probe.name}`, 'a refused say is not relayed at all.');
    return 'ok, presence offline with the room, not_in_room, unknown_room, lobby stays';
  },
};

// ---------------------------------------------------------------- 16 history

/** Logs bob out (quit, then alice sees him offline), so that his next login replays history. */
async function bobOffline(ctx: ServerContext): Promise<void> {
  await setUp(ctx);
  const bob = state(ctx).bob;
  if (!bob || bob.finished) return;
  await bob.send({ type: 'quit' });
  await globalPresence(ctx, ctx.alice!, ctx.b.user, 'offline', 'after a quit, tell everyone else: presence offline.');
  state(ctx).bob = undefined;
}

/** alice says `text` in lobby with an id; returns the msgid of its ok (checked: a whole number ≥ 1). */
async function sayWithMsgid(ctx: ServerContext, text: string, id: string): Promise<number> {
  const request = { type: 'say', text, id };
  const answer = await ask(ctx, ctx.alice!, request, `an answer to ${ctx.alice!.name}'s say with an id`, 'answer a say with an id with {"type":"ok","id":…,"msgid":…}.');
  requireOk(answer, request, 'a lobby say with an id', 'a say with an id is answered ok with that id.');
  const msgid = answer.frame!.msgid;
  if (typeof msgid !== 'number' || !Number.isInteger(msgid) || msgid < 1) {
    wrongFrame(
      answer,
      'the ok of a say lacks a "msgid" (a whole number ≥ 1)',
      { type: 'ok', id, msgid: 1 },
      'your hello lists "history": every stored message gets a msgid, and the sender\'s ok carries it, so a client can resume with since.',
    );
  }
  return msgid;
}

/** Reads a replay on `probe`: history messages up to `history_end` (returned last). */
async function readReplay(ctx: ServerContext, probe: Probe, what: string, hint: string): Promise<{ messages: Received[]; end: Received }> {
  const messages: Received[] = [];
  for (;;) {
    const got = await ctx.expect(probe, (r) => (r.frame?.type === 'message' && r.frame.history === true) || r.frame?.type === 'history_end' || r.frame?.type === 'error', what, ctx.timeouts.answerMs, {
      timeout: hint,
    });
    if (got.frame!.type === 'error') wrongFrame(got, `${what}: the server answered ${named(got)}`, { type: 'history_end', count: 0 }, hint);
    if (got.frame!.type === 'history_end') return { messages, end: got };
    messages.push(got);
  }
}

/**
 * Fails unless history_end counts the messages replayed (and, when asked, names their highest
 * msgid), and carries the fields in `extra` (a page's room and id).
 */
function requireEnd(end: Received, messages: Received[], withLast: boolean, extra: Record<string, unknown> = {}): void {
  const msgids = messages.map((m) => Number(m.frame!.msgid));
  const last = msgids.length ? Math.max(...msgids) : 0;
  const frame = end.frame!;
  const bad = frame.count !== messages.length ? 'count' : withLast && frame.last_msgid !== last ? 'last_msgid' : Object.keys(extra).find((k) => frame[k] !== extra[k]);
  if (bad) {
    const hint =
      bad === 'count' || bad === 'last_msgid'
        ? '"count" is the number of message frames replayed just before; after a login or a join, "last_msgid" is the highest msgid among them (0 when none).'
        : 'the history_end of a page echoes the request\'s id and names what was paged: "room" (also "lobby" when the history named no room) or "to".';
    wrongFrame(end, `history_end has a wrong "${bad}"`, { type: 'history_end', ...extra, count: messages.length, ...(withLast ? { last_msgid: last } : {}) }, hint, {
      label: `the "${bad}" field`,
      expected: String(bad === 'count' ? messages.length : bad === 'last_msgid' ? last : extra[bad]),
      received: frame[bad] === undefined ? '(absent)' : String(frame[bad]),
    });
  }
}

const replaySince: Check<ServerContext> = {
  id: '16.replay-since',
  step: 16 satisfies ExtensionStepNumber,
  title: 'login with since replays the messages after it (history:true, msgid order), then history_end with count and last_msgid; a later since skips what was seen',
  async run(ctx) {
    await bobOffline(ctx);
    const text = `for the record ${nonce()}`;
    const msgid = await sayWithMsgid(ctx, text, 'hist-1');
    const hint =
      'your hello lists "history": after welcome, replay the messages with msgid > since as message frames with "history":true, in msgid order, then send {"type":"history_end","count":…,"last_msgid":…} (always when the login has since).';
    const first = await signIn(ctx, ctx.b, { since: msgid - 1 }, true);
    const replay = await readReplay(ctx, first.probe, `the replay after ${first.probe.name}'s login with since ${msgid - 1}`, hint);
    const ours = replay.messages.find(carries(text));
    if (!ours) {
      fail({
        summary: `the replay after a login with since ${msgid - 1} does not hold the lobby message with msgid ${msgid}`,
        expected: json({ type: 'message', from: ctx.a.user, room: 'lobby', text, ts: 0, msgid, history: true }),
        received: showBytes(replay.end.raw),
        hint,
        culprit: replay.end.seq,
      });
    }
    const ids = replay.messages.map((m) => Number(m.frame!.msgid));
    const early = replay.messages.find((m) => m.frame!.queued !== true && Number(m.frame!.msgid) <= msgid - 1);
    if (early)
      wrongFrame(
        early,
        `a login with since ${msgid - 1} replayed a message with msgid ${String(early.frame!.msgid)}`,
        `only messages with msgid > ${msgid - 1}`,
        'since is the highest msgid the client has seen: replay only messages after it (queued private messages excepted).',
      );
    const disorder = replay.messages.find((m, i) => i > 0 && Number(m.frame!.msgid) <= (ids[i - 1] as number));
    if (disorder) wrongFrame(disorder, 'the replay is not in msgid order', 'messages in increasing msgid order', 'replay the messages oldest first, in msgid order.');
    requireEnd(replay.end, replay.messages, true);
    const seen = Number(replay.end.frame!.last_msgid);
    state(ctx).bob = first.probe;
    await bobOffline(ctx);
    const second = await signIn(ctx, ctx.b, { since: seen }, true);
    const again = await readReplay(ctx, second.probe, `the replay after ${second.probe.name}'s login with since ${seen}`, hint);
    state(ctx).bob = second.probe;
    const repeated = again.messages.find((m) => m.frame!.queued !== true && Number(m.frame!.msgid) <= seen);
    if (repeated)
      wrongFrame(
        repeated,
        `a login with since ${seen} replayed a message with msgid ${String(repeated.frame!.msgid)} again`,
        `only messages with msgid > ${seen}`,
        'a client that sends since has seen everything up to it: do not replay it again.',
      );
    requireEnd(again.end, again.messages, true);
    return `since ${msgid - 1}: ${replay.messages.length} replayed; since ${seen}: ${again.messages.length}`;
  },
};

const historyPaging: Check<ServerContext> = {
  id: '16.paging',
  step: 16 satisfies ExtensionStepNumber,
  title: 'history pages back: the newest limit messages before before, oldest first, history:true, then history_end with the room (lobby, though the request named none), count and the id',
  async run(ctx) {
    const texts = [`page one ${nonce()}`, `page two ${nonce()}`];
    const msgids: number[] = [];
    for (const [i, text] of texts.entries()) msgids.push(await sayWithMsgid(ctx, text, `hist-page-${i}`));
    const alice = ctx.alice!;
    const hint =
      'answer {"type":"history","limit":…,"id":…} with the newest limit lobby messages (before "before" when given), oldest first, as message frames with "history":true, then {"type":"history_end","room":"lobby","count":…,"id":…}.';
    const pages: { request: RawFrame; want: number[] }[] = [
      { request: { type: 'history', before: (msgids[1] as number) + 1, limit: 2, id: 'page-1' }, want: msgids },
      { request: { type: 'history', before: msgids[1] as number, limit: 1, id: 'page-2' }, want: [msgids[0] as number] },
    ];
    for (const { request, want } of pages) {
      await alice.send(request);
      const page = await readReplay(ctx, alice, `the answer to ${json(request)}`, hint);
      const got = page.messages.map((m) => Number(m.frame!.msgid));
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        wrongFrame(
          page.messages.find((m, i) => Number(m.frame!.msgid) !== want[i]) ?? page.end,
          `${json(request)} brought the msgids ${JSON.stringify(got)}, not ${JSON.stringify(want)}`,
          `messages with msgids ${JSON.stringify(want)}, then history_end`,
          'history gives the newest "limit" messages with msgid < before, oldest first.',
        );
      }
      requireEnd(page.end, page.messages, false, { room: 'lobby', id: request.id });
    }
    return `pages ${JSON.stringify(msgids)} and [${msgids[0]}]`;
  },
};

const restartKeepsHistory: Check<ServerContext> = {
  id: '16.restart',
  step: 16 satisfies ExtensionStepNumber,
  title: 'after a restart of the server, the history and the msgid counter are still there: the last message comes back with its msgid, and the next msgid is higher',
  async run(ctx) {
    if (!ctx.canRestart) return 'not checked: the verifier did not start this server (--target), so it cannot restart it';
    const text = `before the restart ${nonce()}`;
    const msgid = await sayWithMsgid(ctx, text, 'hist-restart');
    await ctx.restartServer();
    state(ctx).bob = undefined;
    const hint =
      'keep the messages, the msgid counter and the accounts in a file (sqlite3, or JSON lines), not in memory, so that they survive a restart: your hello lists "history", and a client resuming with since relies on it.';
    const { probe } = await signIn(ctx, ctx.a, { since: msgid - 1 }, true, `${ctx.a.user} had an account before the restart and must still have it after: ${hint}`);
    ctx.alice = probe;
    const replay = await readReplay(ctx, probe, `the replay after ${probe.name}'s login with since ${msgid - 1}, after the restart`, hint);
    const kept = replay.messages.find(carries(text));
    if (!kept || Number(kept.frame!.msgid) !== msgid) {
      fail({
        summary: kept
          ? `after the restart, the message that had msgid ${msgid} came back with msgid ${String(kept.frame!.msgid)}`
          : `after the restart, a login with since ${msgid - 1} did not replay the message with msgid ${msgid} said just before it: the history did not survive the restart`,
        expected: json({ type: 'message', from: ctx.a.user, room: 'lobby', text, ts: 0, msgid, history: true }),
        received: showBytes((kept ?? replay.end).raw),
        hint,
        culprit: (kept ?? replay.end).seq,
      });
    }
    const next = await sayWithMsgid(ctx, `after the restart ${nonce()}`, 'hist-restart-next');
    if (next <= msgid) {
      fail({
        summary: `after the restart, a new message got msgid ${next}, not above ${msgid}, the last one before it: msgids were handed out again`,
        hint: `msgids never go back and are never reused: ${hint}`,
      });
    }
    return `msgid ${msgid} kept across the restart; the next one is ${next}`;
  },
};

// ---------------------------------------------------------------- 17 files

/** Waits on `probe` for a frame of `type` about `transfer`, and checks the fields in `want`. */
async function expectFileFrame(ctx: ServerContext, probe: Probe, type: string, transfer: string, want: Record<string, unknown>, hint: string): Promise<Received> {
  const example = { type, transfer, ...want };
  const got = await ctx.expect(
    probe,
    (r) => r.frame?.type === 'error' || (r.frame?.type === type && r.frame.transfer === transfer),
    `${json(example)} on ${probe.name}'s connection`,
    ctx.timeouts.answerMs,
    { timeout: hint },
  );
  const frame = got.frame!;
  const bad = frame.type === 'error' ? 'type' : Object.keys(want).find((k) => JSON.stringify(frame[k]) !== JSON.stringify(want[k]));
  if (bad) {
    wrongFrame(
      got,
      frame.type === 'error' ? `${probe.name} got ${named(got)} instead of ${type}` : `the ${type} on ${probe.name}'s connection has a wrong "${bad}"`,
      example,
      hint,
      frame.type === 'error' ? undefined : { label: `the "${bad}" field`, expected: JSON.stringify(want[bad]), received: JSON.stringify(frame[bad]) ?? '(absent)' },
    );
  }
  return got;
}

/**
 * bob offers `bytes` to alice: checks the ok and alice's copy of the offer; returns the transfer
 * id. bob offers (not alice) because his connection is fresh: alice has sent many frames by now,
 * and a server's frame rate limit (the reference allows 20 a second) would refuse the offer.
 */
async function offer(ctx: ServerContext, bob: Probe, name: string, bytes: Buffer, id: string): Promise<string> {
  const alice = ctx.alice!;
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const request = { type: 'file_offer', to: ctx.a.user, name, size: bytes.length, sha256, id };
  const answer = await ask(ctx, bob, request, `an answer to ${bob.name}'s file_offer`, 'your hello lists "files": answer a file_offer with {"type":"ok","id":…,"transfer":…,"users":[…]}.', ['ok']);
  const frame = answer.frame!;
  const transfer = frame.transfer;
  if (frame.type !== 'ok' || frame.id !== id || typeof transfer !== 'string' || transfer.length < 1 || transfer.length > 64 || JSON.stringify(frame.users) !== JSON.stringify([ctx.a.user])) {
    wrongFrame(
      answer,
      frame.type === 'ok'
        ? 'the ok of a file_offer lacks its id, a transfer id (a string of 1–64 characters) or the recipients in "users"'
        : `a file_offer to an online user was answered with ${named(answer)}`,
      { type: 'ok', id, transfer: 't1', users: [ctx.a.user] },
      'answer a file_offer with ok carrying the id, the transfer id the others will use, and the recipients, sorted.',
    );
  }
  await expectFileFrame(
    ctx,
    alice,
    'file_offer',
    transfer as string,
    { from: ctx.b.user, to: ctx.a.user, name, size: bytes.length, sha256 },
    'relay the offer to the recipient with the transfer id and "from" added, and the name, size and sha256 unchanged.',
  );
  return transfer as string;
}

const fileTransfer: Check<ServerContext> = {
  id: '17.transfer',
  step: 17 satisfies ExtensionStepNumber,
  title: 'a file offered, accepted, sent in chunks within the 8-chunk window (acks relayed), ended and reported: every frame relayed to the other party, the bytes unchanged',
  async run(ctx) {
    const receiver = ctx.alice!;
    const sender = await bobOnline(ctx);
    const chunks = Array.from({ length: 9 }, (_, i) => Buffer.from(`chunk ${i} ${nonce()} é👋\n`));
    const bytes = Buffer.concat(chunks);
    const transfer = await offer(ctx, sender, 'verify.txt', bytes, 'file-1');
    await receiver.send({ type: 'file_accept', transfer });
    await expectFileFrame(ctx, sender, 'file_accept', transfer, { user: ctx.a.user }, 'relay a file_accept to the offerer with "user" set to the recipient.');
    const received: Buffer[] = [];
    for (const [seq, chunk] of chunks.slice(0, 8).entries()) {
      await sender.send({ type: 'file_chunk', transfer, seq, data: chunk.toString('base64') });
      const got = await expectFileFrame(
        ctx,
        receiver,
        'file_chunk',
        transfer,
        { seq, from: ctx.b.user },
        'relay each file_chunk to the recipients who accepted, with "from" added and seq and data unchanged.',
      );
      received.push(Buffer.from(String(got.frame!.data), 'base64'));
    }
    // The window: a ninth chunk before any ack is refused, and relayed once chunk 0 is acknowledged.
    const early = { type: 'file_chunk', transfer, seq: 8, data: (chunks[8] as Buffer).toString('base64'), id: 'chunk-8-early' };
    const refused = await ask(
      ctx,
      sender,
      early,
      'an answer to a ninth chunk sent before any ack',
      'at most 8 chunks may be unacknowledged per receiver: refuse chunk n while chunk n − 8 is not acknowledged, with rate_limited.',
      ['ok'],
    );
    requireError(
      refused,
      early,
      'rate_limited',
      'a ninth file_chunk while none of the first eight was acknowledged',
      'the offerer keeps at most 8 chunks unacknowledged per receiver: refuse the ninth with {"type":"error","code":"rate_limited",…}; it is not relayed and may be sent again after an ack.',
    );
    await receiver.send({ type: 'file_ack', transfer, seq: 0 });
    await expectFileFrame(ctx, sender, 'file_ack', transfer, { seq: 0, user: ctx.a.user }, 'relay a file_ack to the offerer with "user" set to the recipient.');
    await sender.send({ type: 'file_chunk', transfer, seq: 8, data: (chunks[8] as Buffer).toString('base64') });
    const last = await expectFileFrame(ctx, receiver, 'file_chunk', transfer, { seq: 8, from: ctx.b.user }, 'once chunk n − 8 is acknowledged, relay chunk n (sent again with the same seq).');
    received.push(Buffer.from(String(last.frame!.data), 'base64'));
    await receiver.send({ type: 'file_ack', transfer, seq: 8 });
    await expectFileFrame(ctx, sender, 'file_ack', transfer, { seq: 8, user: ctx.a.user }, 'relay every file_ack to the offerer.');
    await sender.send({ type: 'file_end', transfer });
    const end = await expectFileFrame(ctx, receiver, 'file_end', transfer, { from: ctx.b.user }, 'relay file_end to the recipients who accepted, with "from".');
    const whole = Buffer.concat(received);
    if (!whole.equals(bytes)) {
      fail({
        summary: `the file ${receiver.name} received differs from the one ${sender.name} sent (SHA-256 ${createHash('sha256').update(whole).digest('hex').slice(0, 12)}…, not ${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}…)`,
        diff: byteDiff('the file put together from the relayed chunks', bytes, whole) ?? undefined,
        hint: 'relay the chunks in order, with their data unchanged (the server never decodes or re-encodes it).',
        culprit: end.seq,
      });
    }
    await receiver.send({ type: 'file_result', transfer, ok: true });
    await expectFileFrame(ctx, sender, 'file_result', transfer, { ok: true, user: ctx.a.user }, 'relay file_result to the offerer with "user" set to the recipient.');
    return `${transfer}: ${bytes.length} bytes in ${chunks.length} chunks, the ninth refused until the first ack, SHA-256 matches`;
  },
};

const fileCancel: Check<ServerContext> = {
  id: '17.cancel',
  step: 17 satisfies ExtensionStepNumber,
  title: 'file_cancel from the offerer reaches the recipient with reason and user; the transfer is then unknown',
  async run(ctx) {
    const receiver = ctx.alice!;
    const sender = await bobOnline(ctx);
    const transfer = await offer(ctx, sender, 'cancelled.txt', Buffer.from(`never sent ${nonce()}`), 'file-2');
    await receiver.send({ type: 'file_accept', transfer });
    await expectFileFrame(ctx, sender, 'file_accept', transfer, { user: ctx.a.user }, 'relay a file_accept to the offerer with "user".');
    await sender.send({ type: 'file_cancel', transfer, reason: 'changed my mind' });
    await expectFileFrame(
      ctx,
      receiver,
      'file_cancel',
      transfer,
      { reason: 'changed my mind', user: ctx.b.user },
      'relay the offerer\'s file_cancel to every remaining recipient, with its reason and "user" set to the offerer.',
    );
    const after = { type: 'file_chunk', transfer, seq: 0, data: 'aGk=', id: 'chunk-after-cancel' };
    const answer = await ask(ctx, sender, after, 'an answer to a chunk of a cancelled transfer', 'a transfer cancelled by its offerer is over: answer its frames with unknown_transfer.', ['ok']);
    requireError(
      answer,
      after,
      'unknown_transfer',
      'a file_chunk of a transfer its offerer cancelled',
      'after file_cancel from the offerer the transfer is over: any frame about it gets {"type":"error","code":"unknown_transfer",…}.',
    );
    return `${transfer}: cancel relayed, then unknown_transfer`;
  },
};

const fileTransferField: Check<ServerContext> = {
  id: '17.transfer-field',
  step: 17 satisfies ExtensionStepNumber,
  title: 'a "transfer" that is not a string of 1–64 characters (7, ["t1"]) is a field error: bad_request, not unknown_transfer, and the connection keeps working',
  async run(ctx) {
    const sender = await bobOnline(ctx);
    const hint =
      'fields are checked before what they name: a "transfer" that is not a string of 1–64 characters gets {"type":"error","code":"bad_request",…} naming "transfer", never unknown_transfer, and is never used as a lookup key (in Python a list is not even hashable).';
    for (const [i, transfer] of ([7, ['t1']] as const).entries()) {
      const request = { type: 'file_accept', transfer, id: `bad-transfer-${i}` };
      const answer = await ask(ctx, sender, request, `an answer to ${json(request)}`, hint);
      requireError(answer, request, 'bad_request', `a file_accept whose "transfer" is ${JSON.stringify(transfer)}`, hint);
    }
    const ping = { type: 'ping', id: 'after-bad-transfer' };
    if (ctx.advertises('ping')) {
      const pong = await ask(ctx, sender, ping, `a pong on ${sender.name}'s connection after the bad transfer fields`, hint, ['pong']);
      if (pong.frame!.type !== 'pong') wrongFrame(pong, `a ping after the bad transfer fields was answered with ${named(pong)}`, { type: 'pong', ts: 0, id: ping.id }, hint);
    }
    return 'transfer 7 and ["t1"]: bad_request';
  },
};

/** A check that first makes sure the groups are {@link setUp} (whichever group runs first). */
function afterSetUp(check: Check<ServerContext>): Check<ServerContext> {
  return { ...check, run: async (ctx) => (await setUp(ctx), check.run(ctx)) };
}

/** The extension checks, steps 11–17, in order. */
export const extensionChecks: Check<ServerContext>[] = [
  registerAccount,
  whoOnline,
  ping,
  privateMessage,
  privateErrors,
  privateOffline,
  roomJoin,
  roomSay,
  roomLeave,
  replaySince,
  historyPaging,
  restartKeepsHistory,
  fileTransfer,
  fileCancel,
  fileTransferField,
].map(afterSetUp);
