import { PROTOCOL } from '../../protocol/index.ts';
import { byteDiff, showBytes } from '../bytes.ts';
import { CheckFailure, HINTS, fail, seconds } from '../failure.ts';
import type { Check } from '../runner.ts';
import { describeExit, waitForPort } from '../supervisor.ts';
import type { ServerContext } from './context.ts';

const HELLO = `{"type":"hello","protocol":"${PROTOCOL}"}`;

/** Step 1 — listen: the port accepts connections. */
const listens: Check<ServerContext> = {
  id: '1.listens',
  step: 1,
  title: 'the server accepts TCP connections on its port',
  async run(ctx) {
    const where = `${ctx.host}:${ctx.port}`;
    const { supervisor, timeouts } = ctx;
    const wait = ctx.startWait ?? (await waitForPort(ctx.host, ctx.port, timeouts.startMs, supervisor));
    if (!supervisor) {
      // --target: the server is someone else's to start, so it can only be ready or late.
      if (wait.kind === 'ready') return `listening on ${where}`;
      fail({
        summary: `no answer within ${seconds(timeouts.startMs)}: nothing accepts connections on ${where} (${wait.kind === 'timeout' && wait.lastError !== 'ECONNREFUSED' ? wait.lastError : 'connection refused'})`,
        hint: `start your server first, listening on ${where}, or let the verifier start it: chatlab verify -- <command>.`,
        timeoutSeconds: timeouts.startMs / 1000,
      });
    }
    switch (wait.kind) {
      case 'ready':
        return `listening on ${where} after ${wait.afterMs} ms`;
      case 'exited': {
        const { exit } = wait;
        if (exit.spawnError) {
          fail({ summary: `the command could not be started: ${exit.spawnError}`, hint: 'check the command after -- (is the program installed and on PATH? is the file path right?).' });
        }
        const how = describeExit(exit);
        const stderr = supervisor.output
          .filter((l) => l.stream === 'stderr')
          .map((l) => l.text)
          .join('\n');
        fail({
          summary: `the server ${how} before accepting connections on ${where}`,
          hint: /EADDRINUSE|address already in use/i.test(stderr)
            ? `port ${ctx.port} is taken by another program: stop it or pick another with --port.`
            : `your server stopped during start-up: read its stderr below. It must listen on the port given in the PORT environment variable (PORT=${ctx.port}) and keep running.`,
        });
      }
      case 'wrong-port':
        fail({
          summary: `the server says it listens on port ${wait.printedPort}, but the verifier gave it port ${ctx.port} (PORT=${ctx.port})`,
          received: wait.line,
          hint: 'read the port from the PORT environment variable: Number(process.env.PORT ?? 7070) in JS, int(os.environ.get("PORT", 7070)) in Python.',
        });
      case 'timeout':
        fail({
          summary: `no answer within ${seconds(timeouts.startMs)}: nothing accepts connections on ${where}`,
          hint: `listen on ${ctx.host} at the port given in the PORT environment variable (PORT=${ctx.port}); the server's own output is below.`,
          timeoutSeconds: timeouts.startMs / 1000,
        });
    }
  },
};

/** Step 2 — connect: a client can connect and stay connected. */
const staysOpen: Check<ServerContext> = {
  id: '2.stays-open',
  step: 2,
  title: 'a client can connect, and the connection stays open',
  async run(ctx) {
    const probe = await ctx.open('conn1');
    ctx.idle = probe;
    // Data may arrive (hello, from step 3 on); what must not happen is a close.
    const closed = await probe.waitForClose(ctx.timeouts.quietMs);
    if (closed) {
      const exit = await ctx.serverExit();
      if (exit) fail({ summary: `the server process ${exit} when a client connected`, hint: HINTS.serverExited });
      fail({
        summary: `the server closed the connection right after accepting it${probe.error ? ` (${probe.error})` : ''}`,
        expected: 'the connection stays open until the client leaves',
        hint: 'keep each accepted socket open and keep reading from it in a loop; do not close it right after accept (watch for a `with conn:` block or a function that returns at once).',
        culprit: ctx.transcript.events.filter((e) => e.conn === probe.name && e.kind === 'close').at(-1)?.seq,
      });
    }
  },
};

/**
 * Step 2 — connect: a client that resets its connection (a crash, a dropped network) must not
 * take the server down. Lesson 02's habit: an `error` listener on every socket.
 */
const survivesReset: Check<ServerContext> = {
  id: '2.survives-reset',
  step: 2,
  title: 'a client that resets its connection (RST) does not stop the server: a new connection still works',
  async run(ctx) {
    const rude = await ctx.open('reset');
    // Let the server accept it (its hello shows it did; before step 3 there is none to wait
    // for), so the reset hits a socket the server reads.
    await rude.next(() => true, ctx.timeouts.quietMs, { what: 'a hello, if any' });
    rude.reset();
    const crashed = (exit: string): never => fail({ summary: `the server process ${exit} when a client reset its connection (RST)`, hint: HINTS.survivesReset });
    // A server that does not handle the reset dies a moment after it: give that the quiet window.
    const exit = ctx.supervisor ? await ctx.supervisor.exitDescription(ctx.timeouts.quietMs) : null;
    if (exit) crashed(exit);
    const after = await ctx.open('after-reset').catch((error: unknown) => {
      // --target: no process to watch, but a server that stopped refuses the next connection.
      if (error instanceof CheckFailure) fail({ ...error.report, summary: `after a client reset its connection, ${error.report.summary}`, hint: HINTS.survivesReset });
      throw error;
    });
    const closed = await after.waitForClose(ctx.timeouts.quietMs);
    const later = await ctx.serverExit();
    if (later) crashed(later);
    if (closed || ctx.idle?.finished) {
      fail({
        summary: `after a client reset its connection, the server closed ${closed ? 'a new connection' : 'the connection opened before it'}`,
        expected: 'the other connections stay open: a reset ends only the connection it happens on',
        hint: HINTS.survivesReset,
      });
    }
    after.end();
    return 'the server kept running after a reset, and accepted a new connection';
  },
};

/** Step 3 — accept: hello first, valid, on every connection. */
const helloFirst: Check<ServerContext> = {
  id: '3.hello-first',
  step: 3,
  title: `hello arrives first: ${HELLO}`,
  async run(ctx) {
    const probe = ctx.idle!;
    const received = await ctx.expect(probe, () => true, 'a hello on a new connection', ctx.timeouts.answerMs, {
      timeout: `as soon as you accept a connection, send ${HELLO} followed by \\n.`,
      close: `send ${HELLO}\\n on every new connection, and keep the connection open.`,
    });
    const frame = received.frame!;
    if (frame.type !== 'hello') {
      fail({
        summary: `the first frame on a new connection is "${frame.type}", not "hello"`,
        expected: HELLO,
        received: showBytes(received.raw),
        hint: 'hello must be the very first frame the server sends on each connection, before anything else.',
        culprit: received.seq,
      });
    }
    ctx.requireValid(probe, received, `hello needs a string field "protocol": send ${HELLO}.`);
    ctx.features = new Set(Array.isArray(frame.features) ? (frame.features as string[]) : []);
    const diff = byteDiff('the "protocol" field of hello', PROTOCOL, String(frame.protocol));
    if (diff) {
      fail({
        summary: `hello announces protocol "${String(frame.protocol)}" instead of "${PROTOCOL}"`,
        expected: HELLO,
        received: showBytes(received.raw),
        diff,
        hint: `the protocol name is exactly "${PROTOCOL}" (lower case, no spaces).`,
        culprit: received.seq,
      });
    }
    const extra = probe.inbox.filter((r) => r !== received && r.seq < received.seq);
    if (extra.length) fail({ summary: 'something arrived before hello', received: showBytes(extra[0]!.raw), hint: 'send hello first.', culprit: extra[0]!.seq });
  },
};

const helloEach: Check<ServerContext> = {
  id: '3.hello-each',
  step: 3,
  title: 'each connection gets its own hello, even while another one is open',
  async run(ctx) {
    const before = ctx.transcript.seq;
    const second = await ctx.open('conn2');
    await ctx.expect(second, (r) => r.frame?.type === 'hello', 'a hello on a second connection while the first is still open', ctx.timeouts.answerMs, {
      timeout:
        'serve every connection at the same time (a thread or async task per connection, or one event loop for all), not one after another: the first connection is still open, so a server that handles one client at a time never gets to the second.',
      close: 'keep the earlier connections and accept new ones: every connection gets its own session and its own hello.',
    });
    second.end();
    const firstClosed = ctx.transcript.events.some((e) => e.seq > before && e.conn === ctx.idle!.name && e.kind === 'close');
    if (firstClosed) {
      fail({ summary: 'the first connection was closed when a second client connected', hint: 'keep one socket (and one session) per connection; a new client must not replace the previous one.' });
    }
  },
};

/** The checks of steps 1–3, in order. */
export const connectChecks: Check<ServerContext>[] = [listens, staysOpen, survivesReset, helloFirst, helloEach];
