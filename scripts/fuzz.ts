/**
 * Fuzz-and-oracle run of the reference server: `npm run fuzz -- [--frames N] [--connections C] [--seed S]`.
 *
 * Starts a ChatServer in this process (in-memory database, cheap scrypt, no rate limit) on a free
 * port, logs in C users, and has each send a seeded mix of valid and invalid frames (the
 * generators of test-support/frame-arbitraries.ts), pipelined up to a window. An oracle predicts
 * every answer: for an invalid frame its error code and the id it must echo, for a valid one its
 * `ok`/`pong`/`users`/`room_list` and, for a `say`, the relay each other user must receive (in
 * the sender's order, with the msgid of the sender's `ok`). Every answer is checked against it.
 *
 * Prints progress to stderr and a report to stdout (frames/s, answers and relays checked,
 * mismatches). Exit code 0 when everything matched, 1 on any mismatch, a crash or a stall.
 * The default (20,000 frames) takes a few seconds; a release check runs `--frames 1000000`.
 */
import { parseArgs } from 'node:util';
import type { Socket } from 'node:net';
import fc from 'fast-check';
import { FrameDecoder, type RawFrame } from '../src/protocol/index.ts';
import { ChatServer } from '../src/server/index.ts';
import { invalidClientLine, requestId, sayText, type InvalidLine } from '../test-support/frame-arbitraries.ts';
import { Oracle, answerProblem, show, type Expected } from './lib/fuzz-oracle.ts';
import { loginSocket } from './lib/login-socket.ts';

// ---------------------------------------------------------------- options

/** Options of one fuzz run. */
export interface FuzzOptions {
  /** Frames to send in all (over every connection). */
  frames: number;
  /** Logged-in connections sending at once. */
  connections: number;
  /** Seed of the generators: the same seed sends the same frames. */
  seed: number;
  /** Frames a connection may have sent and not yet had answered. */
  window: number;
  /** Where progress lines go (null: nowhere). */
  progress: ((line: string) => void) | null;
}

/** What a run found. */
export interface FuzzReport {
  frames: number;
  answers: number;
  relays: number;
  elapsedMs: number;
  framesPerSecond: number;
  /** Frames sent per kind (valid ones by type, invalid ones by fault). */
  kinds: Record<string, number>;
  /** The first mismatches (the oracle keeps 20), and how many there were in all. */
  mismatches: string[];
  mismatchCount: number;
}

/** A connection with no answer for this long (ms) is reported as stalled, and the run ends. */
const STALL_MS = 10_000;
const USERS_PREFIX = 'fuzz';
/** Frames generated per batch (fast-check's sample is seeded per batch, so runs replay exactly). */
const BATCH = 500;

// ---------------------------------------------------------------- the oracle's cases

interface Case {
  kind: string;
  bytes: Buffer;
  expected: Expected;
}

/** The seeded mix one user sends: about 60 % valid requests, 40 % invalid lines. */
function caseArbitrary(self: string, others: string[]): fc.Arbitrary<Case> {
  const line = (frame: object): Buffer => Buffer.from(`${JSON.stringify(frame)}\n`);
  const lobbySay = fc.tuple(sayText, requestId).map(
    ([text, id]): Case => ({
      kind: 'say',
      bytes: line({ type: 'say', text, id }),
      expected: { answer: 'ok', id, relay: { from: self, text, seen: [], waiting: 0 } },
    }),
  );
  const privateSay = fc.tuple(sayText, requestId, fc.constantFrom(...others)).map(
    ([text, id, to]): Case => ({
      kind: 'say to',
      bytes: line({ type: 'say', text, to, id }),
      expected: { answer: 'ok', id, relay: { from: self, text, to, seen: [], waiting: 0 } },
    }),
  );
  const simple = (type: 'ping' | 'who' | 'rooms', answer: 'pong' | 'users' | 'room_list') => requestId.map((id): Case => ({ kind: type, bytes: line({ type, id }), expected: { answer, id } }));
  const invalid = invalidClientLine.map(
    (bad: InvalidLine): Case => ({
      kind: bad.kind,
      bytes: Buffer.concat([bad.line, Buffer.from('\n')]),
      expected: { answer: 'error', code: bad.code, ...(bad.id !== undefined && { id: bad.id }) },
    }),
  );
  return fc.oneof(
    { weight: 25, arbitrary: lobbySay },
    { weight: 15, arbitrary: privateSay },
    { weight: 10, arbitrary: simple('ping', 'pong') },
    { weight: 5, arbitrary: simple('who', 'users') },
    { weight: 5, arbitrary: simple('rooms', 'room_list') },
    { weight: 40, arbitrary: invalid },
  );
}

// ---------------------------------------------------------------- one fuzzing connection

/** One logged-in user sending its cases and checking its direct answers in order. */
class FuzzConnection {
  readonly expected: Case[] = [];
  sent = 0;
  answered = 0;
  lastProgress = Date.now();
  private readonly decoder = new FrameDecoder();
  private batchIndex = 0;
  private generated: Case[] = [];
  private closedWhy: string | null = null;
  /** Set by the first fill(): presences of later logins must not start the sending early. */
  private running = false;

  constructor(
    readonly user: string,
    private readonly socket: Socket,
    private readonly oracle: Oracle,
    private readonly arbitrary: fc.Arbitrary<Case>,
    private readonly quota: number,
    private readonly seed: number,
    private readonly window: number,
    private readonly kinds: Record<string, number>,
  ) {
    socket.on('data', this.onData);
    socket.on('close', this.onClose);
  }

  get done(): boolean {
    return this.answered === this.quota;
  }

  get closed(): string | null {
    return this.closedWhy;
  }

  /** Sends cases until the window is full or the quota is reached. */
  fill(): void {
    this.running = true;
    const chunks: Buffer[] = [];
    while (this.sent < this.quota && this.sent - this.answered < this.window) {
      const next = this.nextCase();
      this.expected.push(next);
      this.kinds[next.kind] = (this.kinds[next.kind] ?? 0) + 1;
      if (next.expected.answer === 'ok') this.oracle.expectRelay(next.expected.relay);
      chunks.push(next.bytes);
      this.sent++;
    }
    if (chunks.length > 0) this.socket.write(Buffer.concat(chunks));
  }

  close(): void {
    this.socket.destroy();
  }

  private nextCase(): Case {
    if (this.generated.length === 0) {
      this.generated = fc.sample(this.arbitrary, { seed: this.seed + this.batchIndex++, numRuns: Math.min(BATCH, this.quota - this.sent) });
      this.generated.reverse();
    }
    return this.generated.pop() as Case;
  }

  private readonly onData = (chunk: Buffer): void => {
    for (const result of this.decoder.push(chunk)) {
      if (!result.ok) {
        this.oracle.mismatch(`${this.user} got bytes that are not a frame (${result.code}: ${result.message})`);
        continue;
      }
      const frame = result.frame;
      if (frame.type === 'message') this.oracle.checkRelay(this.user, frame);
      else if (frame.type !== 'presence') this.checkAnswer(frame);
    }
    if (this.running && this.sent - this.answered <= this.window / 2) this.fill();
  };

  private readonly onClose = (): void => {
    this.closedWhy ??= `${this.user}'s connection closed after ${this.answered} of ${this.quota} answers`;
  };

  private checkAnswer(frame: RawFrame): void {
    this.lastProgress = Date.now();
    this.oracle.answers++;
    const sent = this.expected[this.answered++];
    if (!sent) return this.oracle.mismatch(`${this.user} got an answer to nothing: ${show(frame)}`);
    const problem = answerProblem(sent.expected, frame, this.oracle.users);
    if (problem) this.oracle.mismatch(`${this.user} sent ${sent.kind} ${showBytes(sent.bytes)}: ${problem}; got ${show(frame)}`);
    if (sent.expected.answer === 'ok' && typeof frame.msgid === 'number') this.oracle.acknowledged(sent.expected.relay, frame.msgid);
    // Answered frames are no longer needed: keep memory flat over a million frames.
    this.expected[this.answered - 1] = undefined as unknown as Case;
  }
}

const showBytes = (bytes: Buffer): string => JSON.stringify(bytes.subarray(0, 120).toString('utf8')) + (bytes.length > 120 ? `… (${bytes.length} bytes)` : '');

// ---------------------------------------------------------------- the run

/** Runs one fuzz session against a fresh in-process server; never throws for a server fault. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const server = new ChatServer({
    port: 0,
    db: ':memory:',
    scrypt: { N: 1024, r: 8, p: 1 },
    // The oracle checks answers, not the limiter: with a rate limit, fast frames would be refused.
    limits: { rateLimitPerSecond: 1e9, rateLimitBurst: 1e9, historyReplayLimit: 0 },
  });
  const users = Array.from({ length: options.connections }, (_, i) => `${USERS_PREFIX}${i}`);
  const oracle = new Oracle([...users].sort());
  server.events.on('error', (event) => {
    // A bad frame from a client is reported here too: only the server's own faults count.
    if (event.code === 'internal') oracle.mismatch(`server error event: ${event.code}: ${event.message}`);
  });
  for (const user of users) await server.accounts.add(user, `${user}-password`);
  const { port } = await server.start();
  const kinds: Record<string, number> = {};
  const started = Date.now();
  const connections: FuzzConnection[] = [];
  try {
    for (const [i, user] of users.entries()) {
      const socket = await loginSocket(port, user, `${user}-password`, 5_000);
      const quota = Math.floor(options.frames / options.connections) + (i < options.frames % options.connections ? 1 : 0);
      const others = users.filter((u) => u !== user);
      connections.push(new FuzzConnection(user, socket, oracle, caseArbitrary(user, others), quota, options.seed * 1_000 + i * 1_000_003, options.window, kinds));
    }
    for (const connection of connections) connection.fill();
    await waitUntilDone(connections, oracle, options, started);
  } finally {
    for (const connection of connections) connection.close();
    await server.stop();
  }
  const elapsedMs = Date.now() - started;
  const frames = connections.reduce((n, c) => n + c.sent, 0);
  return {
    frames,
    answers: oracle.answers,
    relays: oracle.relays,
    elapsedMs,
    framesPerSecond: Math.round((frames * 1000) / Math.max(1, elapsedMs)),
    kinds,
    mismatches: oracle.mismatches,
    mismatchCount: oracle.mismatchCount,
  };
}

/** Resolves once every answer and relay is in, or reports what is missing after a stall. */
function waitUntilDone(connections: FuzzConnection[], oracle: Oracle, options: FuzzOptions, started: number): Promise<void> {
  return new Promise((resolve) => {
    let lastShown = 0;
    const timer = setInterval(() => {
      const answered = connections.reduce((n, c) => n + c.answered, 0);
      const now = Date.now();
      if (options.progress && now - lastShown >= 1_000) {
        lastShown = now;
        const rate = Math.round((answered * 1000) / Math.max(1, now - started));
        options.progress(`fuzz: ${answered.toLocaleString('en')} / ${options.frames.toLocaleString('en')} frames answered (${rate.toLocaleString('en')}/s), ${oracle.mismatchCount} mismatches`);
      }
      const closed = connections.find((c) => c.closed !== null && !c.done);
      const stalled = connections.find((c) => !c.done && now - c.lastProgress > STALL_MS);
      const finished = connections.every((c) => c.done) && oracle.outstandingRelays() === 0;
      if (finished || closed || stalled || (connections.every((c) => c.done) && now - Math.max(...connections.map((c) => c.lastProgress)) > STALL_MS)) {
        clearInterval(timer);
        if (closed) oracle.mismatch(closed.closed as string);
        if (stalled) oracle.mismatch(`${stalled.user}: no answer for ${STALL_MS} ms after ${stalled.answered} of ${stalled.sent} sent`);
        const missing = oracle.outstandingRelays();
        if (missing > 0) oracle.mismatch(`${missing} relays never arrived`);
        resolve();
      }
    }, 20);
  });
}

// ---------------------------------------------------------------- command line

const USAGE = `usage: npm run fuzz -- [--frames N] [--connections C] [--seed S] [--window W]

  --frames N       frames to send in all (default 20000; a release check: 1000000)
  --connections C  logged-in users sending at once, at least 2 (default 4)
  --seed S         generator seed (default: random, printed so a run can be replayed)
  --window W       frames a connection may have in flight (default 64)`;

function positiveInteger(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} takes a whole number ≥ 1, not "${text}"`);
  return value;
}

async function main(): Promise<void> {
  let options: FuzzOptions;
  try {
    const { values } = parseArgs({
      options: { frames: { type: 'string' }, connections: { type: 'string' }, seed: { type: 'string' }, window: { type: 'string' }, help: { type: 'boolean' } },
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return;
    }
    const connections = positiveInteger('connections', values.connections, 4);
    // Private says need someone else to go to.
    if (connections < 2) throw new Error(`--connections takes a whole number ≥ 2, not "${values.connections}"`);
    options = {
      frames: positiveInteger('frames', values.frames, 20_000),
      connections,
      seed: positiveInteger('seed', values.seed, 1 + Math.floor(Math.random() * 1_000_000)),
      window: positiveInteger('window', values.window, 64),
      progress: (line) => process.stderr.write(`${line}\n`),
    };
  } catch (error) {
    process.stderr.write(`fuzz: ${(error as Error).message}\n${USAGE}\n`);
    process.exitCode = 1;
    return;
  }
  process.on('uncaughtException', (error) => {
    process.stderr.write(`fuzz: CRASH: ${error.stack ?? String(error)}\n`);
    process.exit(2);
  });
  process.stderr.write(`fuzz: seed ${options.seed} (replay with --seed ${options.seed}), ${options.frames.toLocaleString('en')} frames over ${options.connections} connections\n`);
  const report = await runFuzz(options);
  const kinds = Object.entries(report.kinds)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => `${kind} ${n.toLocaleString('en')}`)
    .join(', ');
  process.stdout.write(
    [
      `fuzz: ${report.frames.toLocaleString('en')} frames in ${(report.elapsedMs / 1000).toFixed(1)} s = ${report.framesPerSecond.toLocaleString('en')} frames/s (seed ${options.seed})`,
      `fuzz: ${report.answers.toLocaleString('en')} answers and ${report.relays.toLocaleString('en')} relays checked against the oracle`,
      `fuzz: sent ${kinds}`,
      `fuzz: ${report.mismatchCount} mismatches${report.mismatchCount > 0 ? ':' : ''}`,
      ...report.mismatches.map((m) => `  - ${m}`),
      '',
    ].join('\n'),
  );
  process.exitCode = report.mismatchCount > 0 ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
