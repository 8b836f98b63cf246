import { encodeFrame, type RawFrame } from '../../protocol/index.ts';
import { byteDiff, showBytes } from '../bytes.ts';
import { HINTS, fail, sentence } from '../failure.ts';
import { nonce, nonceOf } from '../nonce.ts';
import type { Probe, Received } from '../probe.ts';
import type { Check } from '../runner.ts';
import { answerOf, errorCode, json, type ServerContext } from './context.ts';

/**
 * The error rules of chatlab/1 (steps 4–7): each bad frame gets its error code, with the request's
 * id when it had one, and the same connection keeps working. Each check runs after the happy path
 * of the step where its rule is first taught.
 */

const MAX_FRAME_BYTES = 65_536;
const MAX_NESTING_DEPTH = 32;
/** Brackets in the bracket-bomb lines: far past any recursive parser's limit, still well within one frame. */
const BOMB_DEPTH = 30_000;

/** One bad frame and the error it must get. */
interface ErrorCase {
  probe: Probe;
  /** The bytes sent (one line, newline included). */
  bytes: Buffer;
  /** The frame those bytes hold, when they hold one (for the transcript). */
  frame?: RawFrame;
  /** What was sent, as a learner reads it: "a line that is not JSON". */
  what: string;
  code: string;
  /** The request's id, which the error must carry. */
  id?: string | number;
  /** What to change when the answer is wrong. */
  hint: string;
  /** What to change when no answer comes or the connection closes (default: a handler that died). */
  whenSilent?: string;
}

/** A frame as one line, newline included. */
function line(text: string): Buffer {
  return Buffer.from(`${text}\n`, 'utf8');
}

/** `frame` padded with an unknown field `pad` to exactly `bytes` bytes, newline included. */
function paddedFrame(frame: RawFrame, bytes: number): Buffer {
  // Built by hand: encodeFrame refuses, rightly, to write a frame over the limit.
  const empty = Buffer.byteLength(JSON.stringify({ ...frame, pad: '' })) + 1;
  return line(JSON.stringify({ ...frame, pad: 'x'.repeat(bytes - empty) }));
}

/** Sends one bad frame and fails unless the answer is error `code` (with the request's id), then checks the connection still answers. */
async function expectError(ctx: ServerContext, c: ErrorCase): Promise<Received> {
  const { probe } = c;
  await probe.send(c.bytes, c.frame ? { frames: [c.frame] } : {});
  const example = json({ type: 'error', code: c.code, message: '…', ...(c.id !== undefined ? { id: c.id } : {}) });
  const answer = await ctx.expect(probe, answerOf('ok', 'welcome'), `${example} after ${c.what}`, ctx.timeouts.answerMs, {
    timeout: sentence(`answer ${c.what} with ${example}.`, c.whenSilent ?? HINTS.handlerDied),
    close: sentence(`a bad frame gets an error and the connection stays open: answer ${c.what} with ${example}, then read the next line.`, c.whenSilent ?? HINTS.handlerDied),
  });
  const code = errorCode(answer);
  if (code !== c.code) {
    const diff = code ? byteDiff('the "code" field of the error', c.code, code) : null;
    fail({
      summary: code ? `${c.what} was answered with error ${code}, not ${c.code}` : `${c.what} was answered with "${answer.frame!.type}", not error ${c.code}`,
      expected: example,
      received: showBytes(answer.raw),
      ...(diff ? { diff } : {}),
      hint: c.hint,
      culprit: answer.seq,
    });
  }
  ctx.requireValid(probe, answer, 'an error frame is {"type":"error","code":"…","message":"…"}.');
  if (c.id !== undefined && answer.frame!.id !== c.id) {
    const got = JSON.stringify(answer.frame!.id) ?? 'no id';
    fail({
      summary: `error ${c.code} came back with ${answer.frame!.id === undefined ? 'no id' : `id ${got}`}, not the request's id ${JSON.stringify(c.id)}`,
      expected: example,
      received: showBytes(answer.raw),
      ...(answer.frame!.id !== undefined ? { diff: byteDiff('the "id" field of the error', JSON.stringify(c.id), got) ?? undefined } : {}),
      hint: `copy the request's id, unchanged, into every direct answer, errors included: ${example}.`,
      culprit: answer.seq,
    });
  }
  await stillAnswers(ctx, probe, c.what);
  return answer;
}

/** Fails unless the connection answers one more (unknown) frame after a bad one. */
async function stillAnswers(ctx: ServerContext, probe: Probe, after: string): Promise<void> {
  const next: RawFrame = { type: 'verify_still_there' };
  await probe.send(next);
  await ctx.expect(probe, answerOf('ok', 'welcome'), `an answer to ${json(next)}, sent after ${after}`, ctx.timeouts.answerMs, {
    timeout: sentence(`after ${after} the connection went deaf: answer the bad frame, then keep reading the same connection (an unknown type gets error unknown_type).`, HINTS.handlerDied),
    close: `after ${after} the server closed the connection: only frame_too_large closes it; any other bad frame gets its error and the connection stays open.`,
  });
}

const BAD_FRAME_HINT =
  'a line that is not a JSON object with a string "type" is answered {"type":"error","code":"bad_frame","message":"…"} (no id: the server could not read one), and the connection stays open.';

const notJson: Check<ServerContext> = {
  id: '4.not-json',
  step: 4,
  title: 'a line that is not JSON gets bad_frame, and the connection keeps working',
  async run(ctx) {
    ctx.rude = await ctx.openWithHello('rude');
    await expectError(ctx, {
      probe: ctx.rude,
      bytes: line('this is not JSON {'),
      what: 'a line that is not JSON',
      code: 'bad_frame',
      hint: `parse each line in a try/except (try/catch): ${BAD_FRAME_HINT}`,
    });
  },
};

const notObject: Check<ServerContext> = {
  id: '4.not-object',
  step: 4,
  title: 'JSON that is not an object (an array, null, a string) gets bad_frame',
  async run(ctx) {
    for (const text of ['["type","login"]', 'null', '"say"']) {
      await expectError(ctx, {
        probe: ctx.rude!,
        bytes: line(text),
        what: `the JSON ${text} (not an object)`,
        code: 'bad_frame',
        hint: `check that the parsed value is an object (isinstance(frame, dict) in Python; in JS typeof frame === "object" && frame !== null && !Array.isArray(frame)) before reading its fields: ${BAD_FRAME_HINT}`,
      });
    }
  },
};

const noType: Check<ServerContext> = {
  id: '4.no-type',
  step: 4,
  title: 'an object without a string type gets bad_frame',
  async run(ctx) {
    for (const frame of [{ id: 'v-notype', text: 'hi' }, { type: 7 }]) {
      await expectError(ctx, {
        probe: ctx.rude!,
        bytes: line(JSON.stringify(frame)),
        what: `${JSON.stringify(frame)} (no string "type")`,
        code: 'bad_frame',
        hint: `check that "type" is present and a string before using it (frame.get("type") in Python, not frame["type"]): ${BAD_FRAME_HINT}`,
      });
    }
  },
};

const unknownType: Check<ServerContext> = {
  id: '4.unknown-type',
  step: 4,
  title: 'an unknown type gets unknown_type with the request id',
  async run(ctx) {
    const frame = { type: 'dance', id: 'v-dance' };
    await expectError(ctx, {
      probe: ctx.rude!,
      bytes: encodeFrame(frame),
      frame,
      what: `${json(frame)} (a type the server does not know)`,
      code: 'unknown_type',
      id: frame.id,
      hint: 'a frame whose "type" is a string the server does not know gets error unknown_type (checked before not_logged_in), with the request\'s id.',
    });
  },
};

const frameAtLimit: Check<ServerContext> = {
  id: '4.frame-65536',
  step: 4,
  title: 'a frame of exactly 65,536 bytes (newline included) is read normally; its unknown field is ignored',
  async run(ctx) {
    const frame = { type: 'verify_big', id: 'v-big' };
    const bytes = paddedFrame(frame, MAX_FRAME_BYTES);
    await expectError(ctx, {
      probe: ctx.rude!,
      bytes,
      what: `a frame of exactly ${MAX_FRAME_BYTES.toLocaleString('en')} bytes, newline included (${json(frame)} padded with an unknown field "pad")`,
      code: 'unknown_type',
      id: frame.id,
      hint: `the limit is ${MAX_FRAME_BYTES.toLocaleString('en')} bytes with the newline: a line of 65,535 bytes plus its \\n is a normal frame. Refuse only when you hold 65,536 bytes and still no \\n (or a complete line of 65,536 bytes or more without its \\n).`,
    });
  },
};

/** `{"type":…,"id":…,"x":[[…]]}` nested exactly `depth` levels (the frame object is level 1). */
function nestedFrame(type: string, id: string, depth: number): Buffer {
  const inner = depth - 1;
  return line(`{"type":${JSON.stringify(type)},"id":${JSON.stringify(id)},"x":${'['.repeat(inner)}${']'.repeat(inner)}}`);
}

const NESTING_HINT = `count the nesting: the frame object is level 1, each object or array inside it one more; a line nested deeper than ${MAX_NESTING_DEPTH} levels is answered bad_frame (no id), and the connection stays open. Parse, then measure the depth of the value (nesting_depth() in docs/protocol.md; a walk in JS can stop once past level ${MAX_NESTING_DEPTH}); brackets inside strings do not count.`;

const nestingDepth: Check<ServerContext> = {
  id: '4.nesting-depth',
  step: 4,
  title: `a frame nested exactly ${MAX_NESTING_DEPTH} levels is read normally; ${MAX_NESTING_DEPTH + 1} levels get bad_frame`,
  async run(ctx) {
    await expectError(ctx, {
      probe: ctx.rude!,
      bytes: nestedFrame('verify_deep', 'v-deep-32', MAX_NESTING_DEPTH),
      what: `a frame nested exactly ${MAX_NESTING_DEPTH} levels deep (an unknown type, so its answer is unknown_type)`,
      code: 'unknown_type',
      id: 'v-deep-32',
      hint: `${MAX_NESTING_DEPTH} levels are allowed: the frame object is level 1, so {"type":"x","x":[[1]]} is 3 levels. Refuse only a line nested deeper than ${MAX_NESTING_DEPTH}.`,
    });
    await expectError(ctx, {
      probe: ctx.rude!,
      bytes: nestedFrame('verify_deep', 'v-deep-33', MAX_NESTING_DEPTH + 1),
      what: `a frame nested ${MAX_NESTING_DEPTH + 1} levels deep`,
      code: 'bad_frame',
      hint: NESTING_HINT,
    });
  },
};

const bracketBomb: Check<ServerContext> = {
  id: '4.bracket-bomb',
  step: 4,
  title: `a line of ${BOMB_DEPTH.toLocaleString('en')} nested brackets gets bad_frame; the server and the other connections carry on`,
  async run(ctx) {
    const hint = `a deep enough line breaks a recursive parser: Python's json.loads raises RecursionError (not a ValueError) at about 1,000 levels, and a recursive walk in JS overflows the stack. Catch RecursionError too and answer bad_frame; walk the value only down to level ${MAX_NESTING_DEPTH + 1}.`;
    await expectError(ctx, {
      probe: ctx.rude!,
      bytes: line('['.repeat(BOMB_DEPTH)),
      what: `a line of ${BOMB_DEPTH.toLocaleString('en')} "[" (not valid JSON, and nested far too deep)`,
      code: 'bad_frame',
      hint,
      whenSilent: hint,
    });
    await expectError(ctx, {
      probe: ctx.rude!,
      bytes: nestedFrame('verify_deep', 'v-bomb', BOMB_DEPTH),
      what: `a frame nested ${BOMB_DEPTH.toLocaleString('en')} levels deep (valid JSON, ${(BOMB_DEPTH * 2).toLocaleString('en')} brackets)`,
      code: 'bad_frame',
      hint,
      whenSilent: hint,
    });
    // Another user's connection must not notice: it still gets its own answers.
    const alice = ctx.alice!;
    const next = { type: 'verify_still_there', id: 'v-after-bomb' };
    await alice.send(next);
    await ctx.expect(
      alice,
      (r) => r.frame?.type === 'error' && r.frame.id === next.id,
      `an answer to ${json(next)} on ${alice.name}'s connection, after another connection sent the nested lines`,
      ctx.timeouts.answerMs,
      {
        timeout: sentence(`one connection's bad line must not disturb the others: answer ${json(next)} with error unknown_type and its id.`, HINTS.handlerDied),
        close: `the server closed ${alice.name}'s connection after another connection sent a deeply nested line: one connection's bad frame never disturbs the others.`,
      },
    );
  },
};

/** The UTF-8 byte order mark, which some Windows editors and tools write first. */
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

const bomLine: Check<ServerContext> = {
  id: '4.bom',
  step: 4,
  title: 'a line that starts with a UTF-8 byte order mark (EF BB BF) gets bad_frame',
  async run(ctx) {
    const frame = { type: 'verify_bom', id: 'v-bom' };
    await expectError(ctx, {
      probe: ctx.rude!,
      bytes: Buffer.concat([BOM, encodeFrame(frame)]),
      what: `${json(frame)} preceded by a UTF-8 byte order mark (the bytes EF BB BF)`,
      code: 'bad_frame',
      hint: 'JSON allows no byte order mark: a line that starts with EF BB BF is a bad_frame (name the BOM in its message), and the next line is read as usual. A decoder that drops the BOM hides it: decode with "utf-8", never "utf-8-sig", in Python; in JS, Buffer.toString() keeps it, but a TextDecoder drops it unless you create it with { ignoreBOM: true }.',
    });
  },
};

const blankLines: Check<ServerContext> = {
  id: '4.blank-lines',
  step: 4,
  title: 'blank lines (empty, spaces and tabs, a lone \\r\\n) get no answer',
  async run(ctx) {
    const frame = { type: 'verify_after_blank', id: 'v-after-blank' };
    await expectError(ctx, {
      probe: ctx.rude!,
      bytes: Buffer.concat([Buffer.from('\n \t \n\r\n', 'utf8'), encodeFrame(frame)]),
      frame,
      what: `three blank lines ("", " \\t ", "\\r"), then ${json(frame)}`,
      code: 'unknown_type',
      id: frame.id,
      hint: 'a line that is empty, or holds only spaces and tabs (after a final \\r is removed), is not a frame: skip it without an answer (pressing Enter twice in nc is harmless). Only the frame after them is answered.',
    });
  },
};

const frameTooLarge: Check<ServerContext> = {
  id: '4.frame-too-large',
  step: 4,
  title: 'a frame of 65,537 bytes gets frame_too_large, and the server closes that connection',
  async run(ctx) {
    const probe = await ctx.openWithHello('huge');
    const frame = { type: 'verify_big', id: 'v-huge' };
    const bytes = paddedFrame(frame, MAX_FRAME_BYTES + 1);
    // 65,536 bytes without a newline already make the frame too large. Sending the newline only
    // if no answer came keeps it from arriving after the server closed (a reset could then
    // swallow the error on its way).
    await probe.send(bytes.subarray(0, MAX_FRAME_BYTES));
    const early = await probe.next(answerOf('ok', 'welcome'), ctx.timeouts.quietMs, { consume: false });
    if (early.kind === 'timeout') await probe.send(bytes.subarray(MAX_FRAME_BYTES));
    const example = json({ type: 'error', code: 'frame_too_large', message: '…' });
    const what = `a frame of ${(MAX_FRAME_BYTES + 1).toLocaleString('en')} bytes, newline included`;
    const hint = `count the bytes of each line with its newline: at ${MAX_FRAME_BYTES.toLocaleString('en')} bytes without a \\n, send ${example} and close the connection (the server cannot know where the next frame starts).`;
    const answer = await ctx.expect(probe, answerOf('ok', 'welcome'), `${example} after ${what}`, ctx.timeouts.answerMs, {
      timeout: sentence(hint, HINTS.handlerDied),
      close: `send ${example} before closing the connection, so the client learns why.`,
    });
    const code = errorCode(answer);
    if (code !== 'frame_too_large') {
      fail({
        summary: `${what} was answered with ${code ? `error ${code}` : `"${answer.frame!.type}"`}, not error frame_too_large`,
        expected: `${example}, then the connection closes`,
        received: showBytes(answer.raw),
        hint,
        culprit: answer.seq,
      });
    }
    const closed = await probe.waitForClose(ctx.timeouts.answerMs);
    if (!closed) {
      fail({
        summary: `the connection is still open ${ctx.timeouts.answerMs / 1000} s after frame_too_large`,
        expected: `${example}, then the connection closes`,
        hint: 'after frame_too_large, close that connection: the rest of the oversized line would be read as garbage frames.',
        timeoutSeconds: ctx.timeouts.answerMs / 1000,
      });
    }
  },
};

/** A bad login on the connection that never logs in, and its bad_request. */
function badLogin(ctx: ServerContext, frame: RawFrame, what: string, hint: string): Promise<Received> {
  return expectError(ctx, { probe: ctx.rude!, bytes: encodeFrame(frame), frame, what, code: 'bad_request', id: frame.id as string, hint });
}

const loginWithoutPassword: Check<ServerContext> = {
  id: '5.login-without-password',
  step: 5,
  title: 'a login without password gets bad_request with the request id',
  async run(ctx) {
    await badLogin(
      ctx,
      { type: 'login', user: ctx.a.user, id: 'v-nopass' },
      'a login without "password"',
      'a login needs a string "user" and a string "password": when one is missing or not a string, answer error bad_request (not auth_failed), with the request\'s id.',
    );
  },
};

const badUserName: Check<ServerContext> = {
  id: '5.bad-user-name',
  step: 5,
  title: 'a login whose user name breaks the rules (33 characters, a space) gets bad_request',
  async run(ctx) {
    const hint =
      'a user name is 1–32 characters of A–Z a–z 0–9 _ -: check it (re.fullmatch(r"[A-Za-z0-9_-]{1,32}", user) in Python, /^[A-Za-z0-9_-]{1,32}$/ in JS) and answer error bad_request, with the request\'s id.';
    await badLogin(ctx, { type: 'login', user: 'a'.repeat(33), password: 'password1', id: 'v-long-name' }, 'a login with a user name of 33 characters', hint);
    await badLogin(ctx, { type: 'login', user: 'ali ce', password: 'password1', id: 'v-space' }, 'a login with a space in the user name', hint);
  },
};

const sayWithoutText: Check<ServerContext> = {
  id: '6.say-without-text',
  step: 6,
  title: 'a say without text, with a text that is not a string, or with an empty text gets bad_request',
  async run(ctx) {
    const hint = 'a say needs a string "text" of 1–4,000 characters: when it is missing or of another kind, answer error bad_request with the request\'s id, and relay nothing.';
    for (const frame of [
      { type: 'say', id: 'v-notext' },
      { type: 'say', text: 42, id: 'v-numtext' },
      { type: 'say', text: '', id: 'v-emptytext' },
    ]) {
      await expectError(ctx, { probe: ctx.alice!, bytes: encodeFrame(frame), frame, what: json(frame), code: 'bad_request', id: frame.id, hint });
    }
  },
};

const sayTooLong: Check<ServerContext> = {
  id: '6.say-too-long',
  step: 6,
  title: 'a say of 4,001 characters gets bad_request',
  async run(ctx) {
    const frame = { type: 'say', text: 'x'.repeat(4001), id: 4001 };
    await expectError(ctx, {
      probe: ctx.alice!,
      bytes: encodeFrame(frame),
      frame,
      what: 'a say whose text has 4,001 characters',
      code: 'bad_request',
      id: frame.id,
      hint: "a text is 1–4,000 characters (code points: len(text) in Python, [...text].length in JS): answer a longer one with error bad_request, with the request's id, and relay nothing.",
    });
  },
};

const sayBeforeLoginFirst: Check<ServerContext> = {
  id: '6.not-logged-in-first',
  step: 6,
  title: 'a say without text sent before login gets not_logged_in (checked before its fields)',
  async run(ctx) {
    const frame = { type: 'say', id: 'v-early' };
    await expectError(ctx, {
      probe: ctx.guest!,
      bytes: encodeFrame(frame),
      frame,
      what: `${json(frame)} sent before login`,
      code: 'not_logged_in',
      id: frame.id,
      hint: 'the server checks each frame in this order and answers the first fault: frame_too_large, rate_limited, bad_frame, unknown_type, not_logged_in, bad_request. So a say with no text from a connection that has not logged in gets not_logged_in: check the login before the fields.',
    });
  },
};

const saySurrogate: Check<ServerContext> = {
  id: '6.say-lone-surrogate',
  step: 6,
  title: 'a say whose text holds a lone surrogate (\\ud83d, half an emoji) gets bad_request, and is relayed to nobody',
  async run(ctx) {
    const tag = nonce();
    // Written by hand: JSON.stringify would escape it the same way, but the point is the escape.
    const bytes = line(`{"type":"say","text":"half an emoji \\ud83d ${tag}","id":"v-surrogate"}`);
    const hint =
      'JSON\'s \\uXXXX escape can write half of a surrogate pair on its own; UTF-8 cannot encode that, so the text could be neither stored nor relayed faithfully (Python\'s .encode("utf-8") raises UnicodeEncodeError on it). Answer bad_request naming the field ("text" contains a lone surrogate), with the request\'s id, and relay nothing. To spot one: in Python, text.encode("utf-8") raises; in JS, text.isWellFormed() is false (Node 20).';
    await expectError(ctx, {
      probe: ctx.alice!,
      bytes,
      what: 'a say whose text holds the lone surrogate \\ud83d',
      code: 'bad_request',
      id: 'v-surrogate',
      hint,
    });
    for (const probe of ctx.others(ctx.alice!)) {
      const leaked = probe.unconsumed((r) => r.raw.includes(Buffer.from(tag, 'utf8')))[0];
      if (leaked)
        fail({
          summary: `${probe.name} received the say with a lone surrogate, which was refused`,
          expected: 'nothing: a refused say is relayed to nobody',
          received: showBytes(leaked.raw),
          hint,
          culprit: leaked.seq,
        });
    }
  },
};

const QUIT_HINT =
  'before login, every frame but login (and the extensions register and ping) gets not_logged_in, quit included: there is nobody to say bye to or to announce offline, and the connection stays open. A client that has not logged in simply closes its socket.';

const quitBeforeLogin: Check<ServerContext> = {
  id: '8.quit-before-login',
  step: 8,
  title: 'a quit before login gets not_logged_in, and the connection stays open',
  async run(ctx) {
    const frame = { type: 'quit', id: 'v-early-quit' };
    await expectError(ctx, {
      probe: ctx.guest!,
      bytes: encodeFrame(frame),
      frame,
      what: `${json(frame)} from a connection that never logged in`,
      code: 'not_logged_in',
      id: frame.id,
      hint: QUIT_HINT,
      whenSilent: QUIT_HINT,
    });
  },
};

const loneCr: Check<ServerContext> = {
  id: '7.lone-cr',
  step: 7,
  title: 'a lone \\r inside a line does not end it: the whole line is one bad frame, and nothing after the \\r is relayed',
  async run(ctx) {
    const alice = ctx.alice!;
    const { beforeCr, afterCr, nextToCr } = ctx.texts;
    const first = { type: 'say', text: beforeCr };
    const smuggled = { type: 'say', text: afterCr };
    const bytes = Buffer.concat([Buffer.from(JSON.stringify(first) + '\r', 'utf8'), encodeFrame(smuggled)]);
    await alice.send(bytes, { frames: [first, smuggled] });
    await alice.send({ type: 'say', text: nextToCr });
    const hint =
      "a line ends only at \\n (a \\r just before the \\n is dropped); a \\r anywhere else is part of the line, so {…}\\r{…}\\n is one line that is not valid JSON: answer bad_frame and execute none of it. Java's readLine(), Python's text-mode files and str.splitlines() also end lines at a lone \\r: split the bytes at \\n yourself.";
    const carriesAny = (r: Received): boolean =>
      r.frame?.type === 'message' && typeof r.frame.text === 'string' && [beforeCr, afterCr, nextToCr].some((text) => (r.frame!.text as string).includes(nonceOf(text)));
    for (const probe of ctx.others(alice)) {
      const received = await ctx.expect(probe, carriesAny, `${alice.name}'s say sent after the bad line, on ${probe.name}'s connection`, ctx.timeouts.answerMs, {
        timeout: 'after a bad frame the connection keeps working: relay the next valid say as usual.',
      });
      const text = String(received.frame!.text);
      if (!text.includes(nonceOf(nextToCr))) {
        fail({
          summary: `${probe.name} received the ${text.includes(nonceOf(afterCr)) ? 'say smuggled after' : 'part before'} a lone \\r: the server split the line at the \\r`,
          expected: `nothing from the line ${showBytes(bytes)}`,
          received: showBytes(received.raw),
          hint,
          culprit: received.seq,
        });
      }
    }
    const example = json({ type: 'error', code: 'bad_frame', message: '…' });
    const answer = await ctx.expect(alice, answerOf('ok', 'welcome'), `${example} after a line with a lone \\r inside`, ctx.timeouts.answerMs, { timeout: hint });
    if (errorCode(answer) !== 'bad_frame') {
      fail({
        summary: `a line with a lone \\r inside was answered with ${errorCode(answer) ? `error ${errorCode(answer)}` : `"${answer.frame!.type}"`}, not bad_frame`,
        expected: example,
        received: showBytes(answer.raw),
        hint,
        culprit: answer.seq,
      });
    }
  },
};

/** The error-rule checks of steps 4–7, in order (each runs after the other checks of its step). */
export const errorChecks: Check<ServerContext>[] = [
  notJson,
  notObject,
  noType,
  unknownType,
  frameAtLimit,
  nestingDepth,
  bracketBomb,
  bomLine,
  blankLines,
  frameTooLarge,
  loginWithoutPassword,
  badUserName,
  sayBeforeLoginFirst,
  sayWithoutText,
  sayTooLong,
  saySurrogate,
  loneCr,
  quitBeforeLogin,
];
