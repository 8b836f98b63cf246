import { PROTOCOL, encodeFrame, validateClientFrame, type RawFrame } from '../../protocol/index.ts';
import { byteDiff, showBytes } from '../bytes.ts';
import { HINTS, fail, seconds } from '../failure.ts';
import { nonce, nonceOf } from '../nonce.ts';
import type { Check } from '../runner.ts';
import type { OutputLine } from '../supervisor.ts';
import type { ClientContext } from './context.ts';

/** A name the client learns about from presence and messages. */
const OTHER = 'carol';

/** Fails with a byte diff against the stdout line that looks most like the one expected. */
function failOnLine(ctx: ClientContext, expected: string, from: number, near: (line: OutputLine) => boolean, hint: string, summary: string): never {
  const lines = ctx.process.linesSince(from).filter((l) => l.stream === 'stdout');
  const close = lines.find(near);
  if (close) {
    fail({ summary: `${summary}; the closest line it printed differs`, expected, received: showBytes(close.text), diff: byteDiff('that stdout line', expected, close.text) ?? undefined, hint });
  }
  if (ctx.client?.finished) {
    fail({ summary: `the client closed the connection before it printed "${expected}"`, expected, hint: `${hint} Keep the connection open and keep reading until bye arrives.` });
  }
  fail({
    summary: `no answer within ${seconds(ctx.timeouts.answerMs)}: ${summary}`,
    expected,
    ...(lines.length ? { received: lines.map((l) => showBytes(l.text)).join(' | ') } : {}),
    hint: `${hint} Flush stdout after each line (print(..., flush=True) in Python; console.log flushes in Node).`,
    timeoutSeconds: ctx.timeouts.answerMs / 1000,
  });
}

const listens: Check<ClientContext> = {
  id: '1.verifier-listens',
  step: 1,
  title: 'the verifier listens, and gives the client HOST and PORT',
  async run(ctx) {
    return `HOST=${ctx.host} PORT=${ctx.port} CHATLAB_USER=${ctx.account.user}`;
  },
};

const connects: Check<ClientContext> = {
  id: '2.connects',
  step: 2,
  title: 'the client connects to HOST:PORT',
  async run(ctx) {
    const client = await ctx.waitForConnection(ctx.timeouts.startMs);
    if (client) return;
    const exit = await ctx.clientExit();
    if (exit) {
      const spawn = ctx.process.exit?.spawnError;
      fail({
        summary: spawn ? `the command could not be started: ${spawn}` : `the client ${exit} without connecting`,
        hint: spawn
          ? 'check the command after -- (is the program installed? is the path right?).'
          : "connect to the HOST and PORT given in the environment and keep running; read the client's stderr below.",
      });
    }
    fail({
      summary: `no answer within ${seconds(ctx.timeouts.startMs)}: the client did not connect to ${ctx.host}:${ctx.port}`,
      hint: `connect to the address in the environment variables HOST and PORT (here ${ctx.host}:${ctx.port}), not to a fixed port.`,
      timeoutSeconds: ctx.timeouts.startMs / 1000,
    });
  },
};

const waitsForHello: Check<ClientContext> = {
  id: '3.waits-for-hello',
  step: 3,
  title: 'the client waits for hello before sending anything',
  async run(ctx) {
    const client = ctx.client!;
    await new Promise((resolve) => setTimeout(resolve, ctx.timeouts.quietMs));
    const early = client.inbox[0];
    if (early || client.pendingBytes.length) {
      fail({
        summary: `the client sent ${early?.frame ? `"${early.frame.type}"` : 'bytes'} before the server's hello`,
        expected: `nothing until ${JSON.stringify({ type: 'hello', protocol: PROTOCOL })} arrives`,
        received: showBytes(early?.raw ?? client.pendingBytes),
        hint: 'wait for hello before sending login: read lines until one is {"type":"hello",…}, then log in.',
        ...(early ? { culprit: early.seq } : {}),
      });
    }
    await client.send({ type: 'hello', protocol: PROTOCOL, server: 'chatlab-verify', motd: 'extra fields like this one must be ignored' });
  },
};

const login: Check<ClientContext> = {
  id: '4.login',
  step: 4,
  title: 'the client sends login with CHATLAB_USER and CHATLAB_PASSWORD',
  async run(ctx) {
    const example = JSON.stringify({ type: 'login', user: ctx.account.user, password: ctx.account.password });
    const hint = `after hello, send ${example}: the user and password come from the environment variables CHATLAB_USER and CHATLAB_PASSWORD.`;
    const received = await ctx.expectFrame('a login after hello', hint);
    const frame = received.frame!;
    const validation = validateClientFrame(frame);
    if (frame.type !== 'login' || !validation.ok) {
      fail({
        summary: frame.type !== 'login' ? `the client sent "${frame.type}" instead of login` : `the client's login is malformed: ${validation.ok ? '' : validation.message}`,
        expected: example,
        received: showBytes(received.raw),
        hint,
        culprit: received.seq,
      });
    }
    for (const field of ['user', 'password'] as const) {
      const diff = byteDiff(`the "${field}" field of login`, ctx.account[field], String(frame[field]));
      if (diff) fail({ summary: `the login's ${field} is not CHATLAB_${field.toUpperCase()}`, expected: example, received: showBytes(received.raw), diff, hint, culprit: received.seq });
    }
  },
};

const welcomePresence: Check<ClientContext> = {
  id: '5.shows-presence',
  step: 5,
  title: `after welcome, presence online is printed as "* ${OTHER} is online"`,
  async run(ctx) {
    const mark = ctx.outputMark;
    const users = [ctx.account.user, 'bob'].sort();
    // welcome and presence in ONE write: the client must handle both lines of that one read.
    await ctx.client!.send([
      { type: 'welcome', user: ctx.account.user, users },
      { type: 'presence', user: OTHER, status: 'online' },
    ]);
    const expected = `* ${OTHER} is online`;
    const line = await ctx.expectLine(
      (l) => l.text.includes(expected),
      mark,
      (l) => l.text.includes(OTHER),
    );
    if (line) return;
    const exit = await ctx.clientExit();
    if (exit) fail({ summary: `the client ${exit} after welcome`, hint: `${HINTS.severalFramesPerRead} Its stderr is below.` });
    failOnLine(
      ctx,
      expected,
      mark,
      (l) => l.text.includes(OTHER),
      `print presence as "* <user> is online". Welcome and this presence arrived in ONE read: ${HINTS.severalFramesPerRead}`,
      `the client did not print "${expected}"`,
    );
  },
};

const sayFromStdin: Check<ClientContext> = {
  id: '6.say-from-stdin',
  step: 6,
  title: 'a line typed on stdin is sent as say, text intact',
  async run(ctx) {
    ctx.type(ctx.texts.stdin);
    const example = JSON.stringify({ type: 'say', text: ctx.texts.stdin });
    const hint = `send each stdin line as ${example} (without its newline).`;
    const received = await ctx.expectFrame('a say for the line typed on stdin', hint);
    const frame = received.frame!;
    if (frame.type !== 'say' || typeof frame.text !== 'string') {
      fail({ summary: `the client sent "${frame.type}" for a stdin line, not say`, expected: example, received: showBytes(received.raw), hint, culprit: received.seq });
    }
    const diff = byteDiff('the "text" field of say', ctx.texts.stdin, String(frame.text));
    if (diff) {
      const text = String(frame.text);
      fail({
        summary: 'the say does not carry exactly the line typed on stdin',
        expected: example,
        received: showBytes(received.raw),
        diff,
        hint: /\r?\n$/.test(text) ? 'strip the newline at the end of the stdin line before sending it.' : `read stdin as UTF-8 and send the line unchanged: ${example}.`,
        culprit: received.seq,
      });
    }
  },
};

const emptyLineSendsNothing: Check<ClientContext> = {
  id: '6.empty-line-sends-nothing',
  step: 6,
  title: 'an empty stdin line sends nothing; the next line is sent as usual',
  async run(ctx) {
    ctx.type('');
    ctx.type(ctx.texts.afterEmpty);
    const example = JSON.stringify({ type: 'say', text: ctx.texts.afterEmpty });
    const hint = 'skip empty stdin lines: a say needs a non-empty text (the server answers bad_request to "text":""), so an empty line sends nothing.';
    const received = await ctx.expectFrame('the say for the line typed after an empty line', hint);
    const frame = received.frame!;
    if (frame.type === 'say' && typeof frame.text === 'string' && frame.text.trim() === '') {
      fail({ summary: 'the client sent a say for an empty stdin line', expected: `nothing for the empty line, then ${example}`, received: showBytes(received.raw), hint, culprit: received.seq });
    }
    const diff = frame.type === 'say' ? byteDiff('the "text" field of say', ctx.texts.afterEmpty, String(frame.text)) : null;
    if (frame.type !== 'say' || diff) {
      fail({
        summary: 'the client did not send the line typed after an empty line',
        expected: example,
        received: showBytes(received.raw),
        ...(diff ? { diff } : {}),
        hint: `an empty line sends nothing, and must not disturb the next one: send it as ${example}.`,
        culprit: received.seq,
      });
    }
  },
};

/** Lines typed at once for the rate-limit check, and how many of them the verifier takes before it refuses. */
export const RATE_CHECK = { lines: 10, burst: 3 } as const;
/** How a client may report a refused line: the error's code or the start of its message. */
const RATE_REPORT = /rate_limited|slow down/;

const rateLimitedLines: Check<ClientContext> = {
  id: '6.rate-limited-lines',
  step: 6,
  title: `${RATE_CHECK.lines} lines typed at once: each one refused with rate_limited is sent again or reported`,
  async run(ctx) {
    const client = ctx.client!;
    const mark = ctx.outputMark;
    const texts = Array.from({ length: RATE_CHECK.lines }, (_, i) => `piped line ${i + 1} ${nonce()}`);
    for (const text of texts) ctx.type(text);
    const hint =
      'the server may refuse a frame with {"type":"error","code":"rate_limited",…}: that line was NOT sent. Send it again a little later (or pace your sends), or at least print the error so the user knows; never drop it silently.';
    const accepted = new Set<string>();
    const refused = new Set<string>();
    let says = 0;
    const reports = (): number => ctx.process.linesSince(mark).filter((l) => RATE_REPORT.test(l.text)).length;
    const lost = (): string[] => [...refused].filter((text) => !accepted.has(text));
    const deadline = performance.now() + ctx.timeouts.answerMs;
    while (accepted.size + refused.size < texts.length || lost().length > reports()) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      const stop = new AbortController();
      const from = ctx.process.lineCount;
      const wait = await Promise.race([
        client.next(() => true, left, { signal: stop.signal, what: 'the piped lines as say frames' }),
        ctx.process.waitForLine((l) => RATE_REPORT.test(l.text), left, from, stop.signal).then((line) => (line ? ('report' as const) : ('quiet' as const))),
      ]);
      stop.abort();
      if (wait === 'report') continue;
      if (wait === 'quiet' && !ctx.process.exit) break;
      if (wait === 'quiet' || wait.kind === 'closed') fail(await ctx.explainSilence(`every piped line was sent or reported (${lost().length} refused and not reported so far)`, hint));
      if (wait.kind === 'timeout') break;
      const { received } = wait;
      const frame = received.frame;
      const text = typeof frame?.text === 'string' ? frame.text : undefined;
      if (frame?.type !== 'say' || text === undefined || !texts.includes(text)) {
        fail({
          summary: 'the client sent something else than the piped lines',
          expected: JSON.stringify({ type: 'say', text: texts[0] }),
          received: showBytes(received.raw),
          hint: 'send each stdin line as one say, unchanged.',
          culprit: received.seq,
        });
      }
      says++;
      if (says > RATE_CHECK.burst && says <= texts.length) {
        refused.add(text);
        await client.send({
          type: 'error',
          code: 'rate_limited',
          message: `slow down: at most ${RATE_CHECK.burst} frames in a burst (the verifier's limit for this check); frame dropped`,
          ...(frame.id !== undefined ? { id: frame.id } : {}),
        });
      } else {
        accepted.add(text);
      }
    }
    const missing = lost().length - reports();
    if (accepted.size + refused.size < texts.length) {
      const never = texts.filter((text) => !accepted.has(text) && !refused.has(text));
      fail({
        summary: `no answer within ${seconds(ctx.timeouts.answerMs)}: ${never.length} of the ${texts.length} lines typed at once never came as say`,
        expected: JSON.stringify({ type: 'say', text: never[0] }),
        hint: 'send every stdin line, however fast they come.',
        timeoutSeconds: ctx.timeouts.answerMs / 1000,
      });
    }
    if (missing > 0) {
      fail({
        summary: `the client lost ${missing} of the ${refused.size} lines refused with rate_limited silently: neither sent again nor reported within ${seconds(ctx.timeouts.answerMs)}`,
        expected: `each refused line sent again, or a line of output naming the error (e.g. "! rate_limited: …") for each`,
        received: `${accepted.size} lines taken, ${refused.size} refused, ${lost().length} never sent again, ${reports()} error lines printed`,
        hint,
        timeoutSeconds: ctx.timeouts.answerMs / 1000,
      });
    }
    const resent = refused.size - lost().length;
    return `${refused.size} of ${texts.length} lines refused: ${resent} sent again, ${lost().length} reported`;
  },
};

const printsMessage: Check<ClientContext> = {
  id: '7.prints-message',
  step: 7,
  title: 'an incoming message is printed as "<from>: <text>", text intact',
  async run(ctx) {
    const mark = ctx.outputMark;
    const frame: RawFrame = { type: 'message', from: OTHER, text: ctx.texts.incoming, ts: Date.now() };
    const bytes = encodeFrame(frame);
    const wave = bytes.indexOf(Buffer.from('👋'));
    const world = bytes.indexOf(Buffer.from('世'));
    await ctx.client!.send(bytes, { splitAt: [wave + 2, world + 1], gapMs: 20, frames: [frame] });
    const expected = `${OTHER}: ${ctx.texts.incoming}`;
    const near = (l: OutputLine): boolean => l.text.includes(nonceOf(ctx.texts.incoming)) || l.text.includes(OTHER);
    const line = await ctx.expectLine((l) => l.text.includes(expected), mark, near);
    if (line) return;
    const exit = await ctx.clientExit();
    if (exit) fail({ summary: `the client ${exit} when a message arrived in 3 pieces`, hint: `${HINTS.utf8Split} Its stderr is below.` });
    const intact = ctx.process.linesSince(mark).some((l) => near(l) && l.text.includes(ctx.texts.incoming));
    failOnLine(
      ctx,
      expected,
      mark,
      near,
      intact ? `print each message as "<from>: <text>", exactly: ${expected}` : `print each message as "<from>: <text>". This one came in 3 reads, cut inside 👋 and 世: ${HINTS.utf8Split}`,
      `the client did not print "${expected}"`,
    );
  },
};

const printsMultiline: Check<ClientContext> = {
  id: '7.prints-multiline',
  step: 7,
  title: 'a message whose text holds a newline is printed whole, and the client keeps running',
  async run(ctx) {
    const mark = ctx.outputMark;
    const [first = '', second = ''] = ctx.texts.multiline.split('\n');
    await ctx.client!.send({ type: 'message', from: OTHER, text: ctx.texts.multiline, ts: Date.now() });
    const hint = 'a message text may hold a newline ("\\n" in the JSON): print "<from>: <first line>" and the rest on the next line(s), or escaped on the same line, and keep running.';
    const expected = `${OTHER}: ${first}`;
    const near = (l: OutputLine): boolean => l.text.includes(nonceOf(first)) || l.text.includes(OTHER);
    const start = await ctx.expectLine((l) => l.text.includes(expected), mark, near);
    if (!start) {
      const exit = await ctx.clientExit();
      if (exit) fail({ summary: `the client ${exit} when a message whose text holds a newline arrived`, hint: `${hint} Its stderr is below.` });
      failOnLine(ctx, expected, mark, near, hint, `the client did not print "${expected}"`);
    }
    const rest = await ctx.expectLine((l) => l.text.includes(second), mark);
    if (rest) return;
    const exit = await ctx.clientExit();
    if (exit) fail({ summary: `the client ${exit} after printing the first line of a message whose text holds a newline`, hint: `${hint} Its stderr is below.` });
    failOnLine(ctx, second, mark, () => false, hint, `the client printed the first line of the text but not "${second}"`);
  },
};

const quitFromStdin: Check<ClientContext> = {
  id: '8.quit-from-stdin',
  step: 8,
  title: 'the stdin line /quit sends quit',
  async run(ctx) {
    ctx.type('/quit');
    const hint = 'when the stdin line is /quit (or stdin ends), send {"type":"quit"} and wait for bye.';
    const received = await ctx.expectFrame('a quit after /quit was typed', hint);
    if (received.frame!.type !== 'quit') {
      fail({ summary: `the client sent "${received.frame!.type}" for /quit, not quit`, expected: '{"type":"quit"}', received: showBytes(received.raw), hint, culprit: received.seq });
    }
  },
};

/**
 * Lesson 08's warning: once it has sent quit, a client sends nothing more, neither the lines
 * typed after /quit nor a second quit when its input ends (Ctrl-D, the end of a piped file).
 */
const nothingAfterQuit: Check<ClientContext> = {
  id: '8.nothing-after-quit',
  step: 8,
  title: 'after quit, nothing more is sent: not a line typed after /quit, not a second quit at the end of input',
  async run(ctx) {
    const client = ctx.client!;
    ctx.type(`typed after quit ${nonce()}`);
    ctx.endInput();
    const wait = await client.next(() => true, ctx.timeouts.quietMs, { what: 'nothing after quit' });
    if (wait.kind !== 'frame') return;
    const { received } = wait;
    fail({
      summary: `the client sent ${received.frame ? `"${received.frame.type}"` : 'a line'} after its quit`,
      expected: 'nothing more from the client until bye arrives',
      received: showBytes(received.raw),
      hint: 'once quit is sent, the client is leaving: remember it (a leaving flag), stop reading stdin (or ignore what it brings), and do not send quit again when the input ends.',
      culprit: received.seq,
    });
  },
};

const showsOffline: Check<ClientContext> = {
  id: '9.shows-offline',
  step: 9,
  title: `presence offline is printed as "* ${OTHER} is offline", then bye is sent`,
  async run(ctx) {
    const mark = ctx.outputMark;
    const client = ctx.client!;
    await client.send({ type: 'presence', user: OTHER, status: 'offline' });
    const expected = `* ${OTHER} is offline`;
    const line = await ctx.expectLine(
      (l) => l.text.includes(expected),
      mark,
      (l) => l.text.includes(OTHER),
    );
    if (!line) failOnLine(ctx, expected, mark, (l) => l.text.includes(OTHER), 'print presence as "* <user> is offline".', `the client did not print "${expected}"`);
    if (client.finished) {
      fail({ summary: 'the client closed the connection after quit, before bye arrived', hint: 'after sending quit, keep reading until bye arrives, then close.' });
    }
    await client.send({ type: 'bye' });
  },
};

const closesAfterBye: Check<ClientContext> = {
  id: '10.closes-after-bye',
  step: 10,
  title: 'the client closes the connection after bye',
  async run(ctx) {
    const client = ctx.client!;
    const closed = await client.waitForClose(ctx.timeouts.answerMs);
    if (!closed) {
      fail({
        summary: `no answer within ${seconds(ctx.timeouts.answerMs)}: the client's connection is still open after bye`,
        hint: 'after bye, close the socket (socket.end() / sock.close()) and exit.',
        timeoutSeconds: ctx.timeouts.answerMs / 1000,
      });
    }
    client.end();
  },
};

const exits: Check<ClientContext> = {
  id: '10.exits',
  step: 10,
  title: 'the client exits with code 0',
  async run(ctx) {
    const exit = await ctx.process.waitForExit(ctx.timeouts.answerMs);
    if (!exit) {
      fail({
        summary: `no answer within ${seconds(ctx.timeouts.answerMs)}: the client is still running after bye and the close`,
        hint: 'exit once the connection is closed (a thread still reading stdin must not keep the program alive: make it a daemon thread, or exit explicitly).',
        timeoutSeconds: ctx.timeouts.answerMs / 1000,
      });
    }
    if (exit.code !== 0) {
      fail({
        summary: `the client exited with ${exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`}, not 0`,
        hint: "after bye and the close, exit with code 0; read the client's stderr below.",
      });
    }
  },
};

/** Every client check, in the order they run (steps 1 → 10). */
export const CLIENT_CHECKS: readonly Check<ClientContext>[] = [
  listens,
  connects,
  waitsForHello,
  login,
  welcomePresence,
  sayFromStdin,
  emptyLineSendsNothing,
  rateLimitedLines,
  printsMessage,
  printsMultiline,
  quitFromStdin,
  nothingAfterQuit,
  showsOffline,
  closesAfterBye,
  exits,
];
