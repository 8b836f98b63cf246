import { MAX_TEXT_CHARS, encodeFrame, type RawFrame } from '../../protocol/index.ts';
import { byteDiff, showBytes } from '../bytes.ts';
import { HINTS, fail, seconds, sentence } from '../failure.ts';
import { nonce, nonceOf } from '../nonce.ts';
import type { Probe, Received } from '../probe.ts';
import type { Check } from '../runner.ts';
import { answerOf, errorCode, json, type ServerContext } from './context.ts';

function carries(text: string): (received: Received) => boolean {
  const nonce = nonceOf(text);
  return (r) => r.frame?.type === 'message' && typeof r.frame.text === 'string' && r.frame.text.includes(nonce);
}

/** What step 6 saw of each say (by text): whether the first recipient got it, and how long it waited. */
const arrivalsByRun = new WeakMap<ServerContext, Map<string, { arrived: boolean; waitedMs: number }>>();

function arrivals(ctx: ServerContext): Map<string, { arrived: boolean; waitedMs: number }> {
  let map = arrivalsByRun.get(ctx);
  if (!map) arrivalsByRun.set(ctx, (map = new Map()));
  return map;
}

/**
 * Step 6 is the client's move: the server only has to read the say. Waits until the first other
 * user gets the message (or a short quiet period when the run stops at step 6) while watching the
 * sender's connection for an error or a close.
 */
async function readSay(ctx: ServerContext, sender: Probe, frame: RawFrame, bytes: Buffer, splitAt: number[], readHint: string): Promise<void> {
  const recipient = ctx.others(sender)[0]!;
  const waitedMs = ctx.moveWaitMs(6);
  const stop = new AbortController();
  await sender.send(bytes, { splitAt, gapMs: 20, frames: [frame] });
  const result = await Promise.race([
    recipient.next(carries(String(frame.text)), waitedMs, { consume: false, signal: stop.signal }).then((wait) => ({ who: 'recipient' as const, wait })),
    sender.next((r) => r.frame === undefined || r.frame.type === 'error', waitedMs, { signal: stop.signal }).then((wait) => ({ who: 'sender' as const, wait })),
  ]);
  stop.abort();
  if (result.who === 'sender' && result.wait.kind !== 'timeout') {
    const { wait } = result;
    if (wait.kind === 'frame' && wait.received.frame) {
      const code = errorCode(wait.received);
      fail({
        summary: `the server answered error ${code} to a valid say`,
        expected: `${json(frame)} relayed to the others`,
        received: showBytes(wait.received.raw),
        hint:
          code === 'not_logged_in'
            ? `the server forgot that ${sender.name} logged in: keep the user name in that connection's session.`
            : code === 'bad_request'
              ? 'a say is {"type":"say","text":"…"}: read the field "text" (any Unicode, 1–4000 characters).'
              : code === 'bad_frame'
                ? readHint
                : `accept {"type":"say","text":"…"} from a logged-in user.`,
        culprit: wait.received.seq,
      });
    }
    fail(await ctx.explainWait(sender, wait, `the relay of ${sender.name}'s say`, waitedMs, { timeout: readHint, close: sentence('the server closed the connection when it read a say.', readHint) }));
  }
  arrivals(ctx).set(String(frame.text), { arrived: result.who === 'recipient' && result.wait.kind === 'frame', waitedMs });
}

const sayRead: Check<ServerContext> = {
  id: '6.say-read',
  step: 6,
  title: 'a say sent in one write is read',
  async run(ctx) {
    const frame = { type: 'say', text: ctx.texts.plain };
    await readSay(ctx, ctx.alice!, frame, encodeFrame(frame), [], 'read each line, parse it as JSON and handle {"type":"say","text":"…"} from a logged-in user.');
  },
};

const saySplitUtf8: Check<ServerContext> = {
  id: '6.say-split-utf8',
  step: 6,
  title: 'a say split inside multi-byte characters is read intact',
  async run(ctx) {
    const frame = { type: 'say', text: ctx.texts.unicode };
    const bytes = encodeFrame(frame);
    // Cut inside 👋 (4 bytes) and inside 世 (3 bytes): no read ends on a character boundary there.
    const wave = bytes.indexOf(Buffer.from('👋'));
    const world = bytes.indexOf(Buffer.from('世'));
    await readSay(ctx, ctx.alice!, frame, bytes, [wave + 2, world + 1], HINTS.utf8Split);
  },
};

/** A text of `chars` code points: emoji (2 UTF-16 units, 4 bytes each), a space and the nonce. */
function emojiText(chars: number): string {
  const tag = nonce();
  return `${'👋'.repeat(chars - 1 - tag.length)} ${tag}`;
}

/**
 * Sends a say and tells whether the server refused it: the error it answered, or undefined once
 * the say reached another user (or, when the run stops at step 6, after the quiet wait).
 */
async function refusalOf(ctx: ServerContext, sender: Probe, frame: RawFrame): Promise<Received | undefined> {
  const recipient = ctx.others(sender)[0]!;
  const waitedMs = ctx.moveWaitMs(6);
  const stop = new AbortController();
  await sender.send(encodeFrame(frame), { frames: [frame] });
  const result = await Promise.race([
    recipient.next(carries(String(frame.text)), waitedMs, { consume: false, signal: stop.signal }).then((wait) => ({ who: 'recipient' as const, wait })),
    sender.next((r) => r.frame === undefined || r.frame.type === 'error', waitedMs, { signal: stop.signal }).then((wait) => ({ who: 'sender' as const, wait })),
  ]);
  stop.abort();
  if (result.who === 'recipient' || result.wait.kind === 'timeout') return undefined;
  if (result.wait.kind === 'frame' && result.wait.received.frame) return result.wait.received;
  fail(await ctx.explainWait(sender, result.wait, `the relay of ${sender.name}'s say`, waitedMs, { timeout: 'read every say of 1–4,000 characters.' }));
}

/**
 * Lesson 06's warning: JavaScript's `.length` counts UTF-16 units, so a server that measures the
 * text with it refuses 4,000 emoji as 8,000 characters. Told apart from other refusals by a
 * second say that is 4,000 UTF-16 units long: a `.length` server takes that one. (A server that
 * refuses both does not read the text as UTF-8 characters at all: 7.unicode shows that one.)
 */
const sayLongestEmoji: Check<ServerContext> = {
  id: '6.say-4000-emoji',
  step: 6,
  title: 'a say of 4,000 characters, all emoji (8,000 UTF-16 units), is not refused as too long',
  async run(ctx) {
    const sender = ctx.alice!;
    // No ids: a server past step 7 would answer ok, and a stray ok could pass for a later answer.
    const longest = { type: 'say', text: emojiText(MAX_TEXT_CHARS) };
    const refused = await refusalOf(ctx, sender, longest);
    if (!refused) return undefined;
    if (errorCode(refused) !== 'bad_request') {
      fail({
        summary: `the server answered error ${errorCode(refused)} to a valid say of 4,000 emoji`,
        received: showBytes(refused.raw),
        hint: 'accept {"type":"say","text":"…"} of 1–4,000 characters from a logged-in user.',
        culprit: refused.seq,
      });
    }
    const half = { type: 'say', text: emojiText(MAX_TEXT_CHARS / 2) };
    if (await refusalOf(ctx, sender, half)) return 'refused 2,000 emoji too: the text is not read as UTF-8 characters (see 7.unicode)';
    fail({
      summary: 'the server refused a say of 4,000 emoji as too long, but took one of 2,000: it counts UTF-16 units, not characters',
      expected: 'a text of 4,000 characters is accepted, whatever the characters',
      received: showBytes(refused.raw),
      hint: "a text may have 4,000 characters, counted as code points: an emoji is one. JavaScript's text.length counts UTF-16 units (an emoji is 2): count [...text].length (len(text) in Python).",
      culprit: refused.seq,
    });
  },
};

const notLoggedIn: Check<ServerContext> = {
  id: '6.not-logged-in',
  step: 6,
  title: 'a say before login is refused with not_logged_in',
  async run(ctx) {
    const guest = ctx.guest!;
    await guest.send({ type: 'say', text: ctx.texts.beforeLogin });
    const answer = await ctx.expect(guest, answerOf(), 'an answer to a say sent before login', ctx.timeouts.answerMs, {
      timeout: 'before login, answer every frame other than login (and register, ping) with {"type":"error","code":"not_logged_in","message":"…"}.',
    });
    if (errorCode(answer) !== 'not_logged_in') {
      fail({
        summary: `a say before login was answered with ${errorCode(answer) ? `error ${errorCode(answer)}` : `"${answer.frame!.type}"`}, not error not_logged_in`,
        expected: json({ type: 'error', code: 'not_logged_in', message: '…' }),
        received: showBytes(answer.raw),
        hint: 'before login, answer every frame other than login (and register, ping) with error not_logged_in.',
        culprit: answer.seq,
      });
    }
  },
};

const silentWithoutId: Check<ServerContext> = {
  id: '6.silent-without-id',
  step: 6,
  title: 'a say without an id gets no answer when it succeeds (no ok)',
  async run(ctx) {
    const alice = ctx.alice!;
    const wait = await alice.next((r) => r.frame?.type === 'ok', ctx.timeouts.quietMs, { consume: false });
    if (wait.kind !== 'frame') return `waited ${seconds(ctx.timeouts.quietMs)} for an ok`;
    const ok = wait.received;
    fail({
      summary: `${alice.name} got ${ok.frame!.id === undefined ? 'an ok without an id' : `an ok with id ${JSON.stringify(ok.frame!.id)}`}, though its says had no id`,
      expected: `nothing: a successful say without an id gets no answer`,
      received: showBytes(ok.raw),
      hint: 'answer a say with {"type":"ok","id":…} only when it carries an id (copy it); without an id, success is silent. Errors are always sent.',
      culprit: ok.seq,
    });
  },
};

/** Checks that a relayed message carries the server-set `from`, the exact text and a sane `ts`. */
function checkMessage(probe: Probe, received: Received, from: string, text: string, ctx: ServerContext): void {
  const example = json({ type: 'message', from, text, ts: Date.now() });
  ctx.requireValid(probe, received, `relay a say as ${example} (ts = server time in milliseconds).`);
  const frame = received.frame!;
  const fromDiff = byteDiff(`the "from" field of the message ${probe.name} received`, from, String(frame.from));
  if (fromDiff) {
    fail({
      summary: `${probe.name} got the message with from "${String(frame.from)}", but ${from} sent it`,
      expected: example,
      received: showBytes(received.raw),
      diff: fromDiff,
      hint: "set from to the sender's logged-in name (from its session), never to anything the client sent.",
      culprit: received.seq,
    });
  }
  const textDiff = byteDiff(`the "text" field of the message ${probe.name} received`, text, String(frame.text));
  if (textDiff) {
    fail({
      summary: `${probe.name} got the text changed: ${textDiff.receivedBytes} bytes instead of the ${textDiff.expectedBytes} sent`,
      expected: example,
      received: showBytes(received.raw),
      diff: textDiff,
      hint: TEXT_HINT,
      culprit: received.seq,
    });
  }
  const ts = frame.ts as number;
  const skew = Math.abs(ts - Date.now());
  if (!Number.isInteger(ts) || ts < 1e11 || skew > 86_400_000) {
    fail({
      summary: `the message's ts ${ts} is not the current time in milliseconds since 1970`,
      expected: `a whole number close to ${Date.now()}`,
      received: showBytes(received.raw),
      hint:
        ts < 1e11
          ? 'ts is in milliseconds, not seconds: Date.now() in JS, int(time.time() * 1000) in Python.'
          : 'ts is the server clock when relaying, in whole milliseconds since the epoch: Date.now() in JS, int(time.time() * 1000) in Python.',
      culprit: received.seq,
    });
  }
}

const TEXT_HINT = sentence(
  "relay the text exactly as received: decode each whole line as UTF-8 (never a read at a time, never Latin-1 or Windows-1252 or the platform's default charset: name the encoding), and encode the frame as UTF-8.",
  HINTS.utf8Split,
);

/**
 * Fails when `received` is a line that is not UTF-8 but carries the nonce of `text`: the server
 * read or wrote the text in another encoding. The diff compares the text as JSON would write it
 * with the bytes where the line holds it.
 */
function failIfMisencoded(probe: Probe, received: Received, from: string, text: string): void {
  if (received.frame || !received.raw.includes(Buffer.from(nonceOf(text), 'utf8'))) return;
  const field = /"text"\s*:\s*/.exec(received.raw.toString('latin1'));
  const start = field ? field.index + field[0].length : 0;
  const sent = Buffer.from(JSON.stringify(text), 'utf8');
  const diff = byteDiff(`the "text" field of the message ${probe.name} received, as JSON on the wire`, sent, received.raw.subarray(start, start + sent.length));
  fail({
    summary: `${probe.name} got ${from}'s text changed into bytes that are not UTF-8`,
    expected: showBytes(json({ type: 'message', from, text, ts: Date.now() })),
    received: showBytes(received.raw),
    ...(diff ? { diff } : {}),
    hint: TEXT_HINT,
    culprit: received.seq,
  });
}

/** Waits for the message carrying `text` on every other logged-in user, and checks each. */
async function expectRelayed(ctx: ServerContext, sender: Probe, from: string, text: string, timeoutHint: string): Promise<void> {
  const seen = arrivals(ctx).get(text);
  for (const [index, probe] of ctx.others(sender).entries()) {
    // Step 6 already waited the full time for the first recipient: no second wait.
    const waitMs = index === 0 && seen && !seen.arrived && seen.waitedMs >= ctx.timeouts.answerMs ? 0 : ctx.timeouts.answerMs;
    const wait = await probe.next((r) => r.frame === undefined || carries(text)(r), waitMs);
    if (wait.kind === 'frame') failIfMisencoded(probe, wait.received, from, text);
    if (wait.kind === 'frame' && wait.received.frame) {
      checkMessage(probe, wait.received, from, text, ctx);
      continue;
    }
    const other = probe.unconsumed((r) => r.frame?.type === 'message')[0];
    if (wait.kind === 'timeout' && other) {
      checkMessage(probe, other, from, text, ctx);
    }
    fail(await ctx.explainWait(probe, wait, `${sender.name}'s message on ${probe.name}'s connection`, Math.max(waitMs, seen?.waitedMs ?? 0), { timeout: timeoutHint }));
  }
}

/** Waits for the message carrying `text` on `probe` alone, and checks it (from, exact text, ts). */
export async function expectRelayedTo(ctx: ServerContext, probe: Probe, from: string, text: string, timeoutHint: string): Promise<void> {
  const wait = await probe.next((r) => r.frame === undefined || carries(text)(r), ctx.timeouts.answerMs);
  if (wait.kind === 'frame') failIfMisencoded(probe, wait.received, from, text);
  if (wait.kind === 'frame' && wait.received.frame) return checkMessage(probe, wait.received, from, text, ctx);
  fail(await ctx.explainWait(probe, wait, `${from}'s message on ${probe.name}'s connection`, ctx.timeouts.answerMs, { timeout: timeoutHint }));
}

const relayed: Check<ServerContext> = {
  id: '7.relayed',
  step: 7,
  title: 'a say reaches every other logged-in user as message {from, text, ts}',
  async run(ctx) {
    await expectRelayed(ctx, ctx.alice!, ctx.a.user, ctx.texts.plain, `relay each say to every other logged-in user as {"type":"message","from":"${ctx.a.user}","text":"…","ts":<ms since epoch>}.`);
  },
};

const unicode: Check<ServerContext> = {
  id: '7.unicode',
  step: 7,
  title: 'emoji and multi-byte text arrive intact',
  async run(ctx) {
    await expectRelayed(ctx, ctx.alice!, ctx.a.user, ctx.texts.unicode, sentence('this say came in 3 reads, cut inside 👋 and 世, and never reached the others.', HINTS.utf8Split));
  },
};

const okWithId: Check<ServerContext> = {
  id: '7.ok-id',
  step: 7,
  title: 'a say with an id is answered ok with the same id',
  async run(ctx) {
    const alice = ctx.alice!;
    await alice.send({ type: 'say', text: ctx.texts.withId, id: ctx.sayId });
    const example = json({ type: 'ok', id: ctx.sayId });
    const answer = await ctx.expect(alice, answerOf('ok'), `${example} on ${alice.name}'s connection`, ctx.timeouts.answerMs, {
      timeout: `when a say carries an id, answer the sender with ${example} (the same id, copied as is).`,
    });
    if (answer.frame!.type !== 'ok' || answer.frame!.id !== ctx.sayId) {
      fail({
        summary:
          answer.frame!.type === 'ok'
            ? `ok came back with id ${JSON.stringify(answer.frame!.id)}, not "${ctx.sayId}"`
            : `a say with an id was answered with ${errorCode(answer) ? `error ${errorCode(answer)}` : `"${answer.frame!.type}"`}`,
        expected: example,
        received: showBytes(answer.raw),
        ...(answer.frame!.type === 'ok' ? { diff: byteDiff('the "id" field of ok', JSON.stringify(ctx.sayId), JSON.stringify(answer.frame!.id) ?? 'undefined') ?? undefined } : {}),
        hint: `copy the request's id into the direct answer: ${example}.`,
        culprit: answer.seq,
      });
    }
    await expectRelayed(ctx, alice, ctx.a.user, ctx.texts.withId, 'a say with an id is relayed like any other say (the id is for the ok only).');
  },
};

const forgedFrom: Check<ServerContext> = {
  id: '7.forged-from',
  step: 7,
  title: 'a forged from is ignored: the server sets from',
  async run(ctx) {
    const bob = ctx.bob!;
    await bob.send({ type: 'say', text: ctx.texts.forged, from: ctx.a.user });
    await expectRelayed(ctx, bob, ctx.b.user, ctx.texts.forged, `relay each say to every other logged-in user, with from set to the sender's name (${ctx.b.user} here).`);
  },
};

const noEcho: Check<ServerContext> = {
  id: '7.no-echo',
  step: 7,
  title: 'the sender gets no copy of its own message',
  async run(ctx) {
    await new Promise((resolve) => setTimeout(resolve, ctx.timeouts.quietMs));
    const hint = 'relay to every logged-in user except the sender (skip the connection the say came from).';
    for (const [probe, texts] of [
      [ctx.alice!, [ctx.texts.plain, ctx.texts.unicode, ctx.texts.withId]],
      [ctx.bob!, [ctx.texts.forged]],
    ] as const) {
      const echo = probe.unconsumed((r) => texts.some((text) => carries(text)(r)))[0];
      if (echo) fail({ summary: `${probe.name} got its own message back`, expected: `no message on ${probe.name}'s connection (it sent it)`, received: showBytes(echo.raw), hint, culprit: echo.seq });
    }
  },
};

const onlyLoggedIn: Check<ServerContext> = {
  id: '7.only-logged-in',
  step: 7,
  title: 'connections that are not logged in receive no messages, and a say before login reaches nobody',
  async run(ctx) {
    for (const probe of [ctx.idle!, ctx.guest!]) {
      const stray = probe.unconsumed((r) => r.frame?.type === 'message')[0];
      if (stray) {
        fail({
          summary: `${probe.name}, which never logged in, received a message`,
          expected: 'nothing for connections that have not logged in',
          received: showBytes(stray.raw),
          hint: 'relay only to logged-in users: keep a list of sessions that passed login, not of every socket.',
          culprit: stray.seq,
        });
      }
    }
    for (const probe of ctx.others(ctx.guest!)) {
      const leaked = probe.unconsumed(carries(ctx.texts.beforeLogin))[0];
      if (leaked) {
        fail({
          summary: `a say sent before login reached ${probe.name}`,
          received: showBytes(leaked.raw),
          hint: 'before login, refuse say with error not_logged_in and relay nothing.',
          culprit: leaked.seq,
        });
      }
    }
    return `waited ${seconds(ctx.timeouts.quietMs)} for strays`;
  },
};

/** The checks of steps 6–7, in order. */
export const relayChecks: Check<ServerContext>[] = [sayRead, saySplitUtf8, sayLongestEmoji, notLoggedIn, silentWithoutId, relayed, unicode, okWithId, forgedFrom, noEcho, onlyLoggedIn];
