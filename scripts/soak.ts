/**
 * Soak run of the reference server: `npm run soak -- [--clients N] [--seconds S | --minutes M]`.
 *
 * Runs `chatlab server --port 0` as a CHILD process (so the RSS sampled from /proc is the
 * server's own, not mixed with the clients' memory), on a fresh database file with N accounts
 * made beforehand with a cheap scrypt. N clients (default 200) log in, each joins two of ten
 * rooms, then all send mixed traffic at a steady rate (lobby says, room says, private messages,
 * who, ping) within the server's default rate limit.
 *
 * Every message is numbered per sender and per channel (scripts/lib/sequence-check.ts): a
 * receiver checks no duplicate, no reorder and no gap as messages arrive; at the end, after two
 * ping barriers, every receiver must hold exactly what was sent to it. Every request carries an id and must get its answer; any error
 * frame is a failure.
 *
 * Reports the server's RSS (idle, at the start of traffic, peak, end, and the slope over the
 * traffic in MiB/min) and exits 1 on any loss, duplicate, reorder, error, disconnect or crash.
 * Default 20 s for CI; a release check runs `--minutes 30`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnServer, type ServerProcess } from '../bench/lib/server-process.ts';
import { REPO_ROOT } from '../bench/servers/index.ts';
import { FrameDecoder, type RawFrame } from '../src/protocol/index.ts';
import { AccountStore } from '../src/server/index.ts';
import { prng } from '../test-support/prng.ts';
import { loginSocket } from './lib/login-socket.ts';
import { SequenceCheck, soakText } from './lib/sequence-check.ts';

/** Options of one soak run. */
export interface SoakOptions {
  clients: number;
  durationMs: number;
  /** Frames each client sends per second on average (the server allows 20). */
  ratePerClient: number;
  seed: number;
  progress: ((line: string) => void) | null;
}

/** The server's resident memory over the run, in MiB. */
export interface MemoryDrift {
  idle: number;
  start: number;
  peak: number;
  end: number;
  /** Least-squares slope of RSS over the traffic, MiB per minute. */
  slopePerMinute: number;
  samples: number;
}

/** What a run found. */
export interface SoakReport {
  clients: number;
  elapsedMs: number;
  sent: number;
  delivered: number;
  answers: number;
  memory: MemoryDrift | null;
  failures: string[];
  failureCount: number;
}

const ROOMS = Array.from({ length: 10 }, (_, i) => `soak-r${i}`);
const PASSWORD = 'soak-password';
const TICK_MS = 50;
const MAX_SHOWN = 20;
/** Longest wait for a barrier or for the last deliveries after traffic stops. */
const SETTLE_MS = 15_000;

/** Failures, counted and the first ones kept. */
class Failures {
  readonly shown: string[] = [];
  count = 0;
  add(text: string): void {
    this.count++;
    if (this.shown.length < MAX_SHOWN) this.shown.push(text);
  }
}

/** One soak client: its socket, what it sent, and what it checked on receipt. */
class SoakClient {
  readonly rooms: string[] = [];
  /** Messages sent, all channels (the `n` of the next one minus 1). */
  sent = 0;
  /** Per channel, messages sent on it (`lobby`, a room, or `@user`). */
  readonly sentOn = new Map<string, number>();
  /** What arrived from whom, checked on arrival. */
  readonly check: SequenceCheck;
  delivered = 0;
  answers = 0;
  private nextId = 0;
  private readonly waiting = new Map<number, (frame: RawFrame) => void>();
  private readonly decoder = new FrameDecoder();
  closed = false;

  constructor(
    readonly user: string,
    private readonly socket: Socket,
    private readonly failures: Failures,
  ) {
    this.check = new SequenceCheck(user, (failure) => failures.add(failure));
    socket.on('data', this.onData);
    socket.on('close', this.onClose);
    socket.on('error', () => {}); // a reset shows as 'close', reported there
  }

  /** Sends a request and resolves with its answer. */
  request(frame: Record<string, unknown>): Promise<RawFrame> {
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.socket.write(`${JSON.stringify({ ...frame, id })}\n`);
    });
  }

  /** Sends a numbered message on a channel (its answer is checked on receipt). */
  say(channel: string, target: { room?: string; to?: string }): void {
    const c = (this.sentOn.get(channel) ?? 0) + 1;
    this.sentOn.set(channel, c);
    this.sent++;
    void this.request({ type: 'say', text: soakText(this.sent, c, channel), ...target }).then((answer) => {
      if (answer.type !== 'ok') this.failures.add(`${this.user}'s say on ${channel} got ${JSON.stringify(answer)}`);
    });
  }

  /** Requests still unanswered. */
  get outstanding(): number {
    return this.waiting.size;
  }

  end(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private readonly onData = (chunk: Buffer): void => {
    for (const result of this.decoder.push(chunk)) {
      if (!result.ok) {
        this.failures.add(`${this.user} got bytes that are not a frame (${result.message})`);
        continue;
      }
      const frame = result.frame;
      if (frame.type === 'message') {
        this.delivered++;
        this.check.receive(frame);
      } else if (frame.type === 'error' && frame.id === undefined) this.failures.add(`${this.user} got ${JSON.stringify(frame)}`);
      else if (typeof frame.id === 'number') {
        const resolve = this.waiting.get(frame.id);
        if (!resolve) continue; // a continuation of an answer already taken (e.g. history after join)
        this.waiting.delete(frame.id);
        this.answers++;
        if (frame.type === 'error') this.failures.add(`${this.user}'s request ${frame.id} got ${JSON.stringify(frame)}`);
        resolve(frame);
      }
    }
  };

  private readonly onClose = (): void => {
    if (!this.closed) this.failures.add(`${this.user}'s connection closed by the server`);
    this.closed = true;
  };
}

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  if (points.length < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / points.length;
  const my = points.reduce((s, [, y]) => s + y, 0) / points.length;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

/** Resolves when `done()` holds, or rejects after `ms` with `what`. */
async function until(done: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(what());
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Runs one soak against a fresh `chatlab server` child process. */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const failures = new Failures();
  const dir = mkdtempSync(join(tmpdir(), 'chatlab-soak-'));
  const db = join(dir, 'soak.db');
  const users = Array.from({ length: options.clients }, (_, i) => `soak${i}`);
  const accounts = new AccountStore({ db, scrypt: { N: 1024, r: 8, p: 1 } });
  for (const user of users) await accounts.add(user, PASSWORD);
  accounts.close();

  let server: ServerProcess | undefined;
  const clients: SoakClient[] = [];
  const rss: [number, number][] = [];
  const started = Date.now();
  let memory: MemoryDrift | null = null;
  try {
    server = await spawnServer({
      name: 'chatlab server',
      command: process.execPath,
      args: ['--import', 'tsx', 'src/cli/main.ts', 'server', '--port', '0', '--db', db],
      cwd: REPO_ROOT,
      ready: /listening on .*:(\d+)/,
    });
    const idle = server.memoryMiB()?.rss ?? NaN;
    const random = prng(options.seed);
    for (const user of users) clients.push(new SoakClient(user, await loginSocket(server.port, user, PASSWORD, 10_000), failures));
    // Two rooms each, then a ping: its pong proves the joins (and their replays) are done.
    await Promise.all(
      clients.map(async (client) => {
        const first = Math.floor(random() * ROOMS.length);
        const second = (first + 1 + Math.floor(random() * (ROOMS.length - 1))) % ROOMS.length;
        for (const room of [ROOMS[first] as string, ROOMS[second] as string]) {
          client.rooms.push(room);
          await client.request({ type: 'join', room });
        }
        await client.request({ type: 'ping' });
      }),
    );
    options.progress?.(`soak: ${clients.length} clients logged in and in their rooms; traffic for ${Math.round(options.durationMs / 1000)} s`);

    const trafficStart = Date.now();
    const memoryAt = (): number => server?.memoryMiB()?.rss ?? NaN;
    const startRss = memoryAt();
    let lastShown = trafficStart;
    const perTick = (options.ratePerClient * TICK_MS) / 1000;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = Date.now();
        for (const client of clients) {
          if (client.closed || random() >= perTick) continue;
          const pick = random();
          if (pick < 0.1) client.say('lobby', {});
          else if (pick < 0.45) {
            const room = client.rooms[Math.floor(random() * client.rooms.length)] as string;
            client.say(room, { room });
          } else if (pick < 0.8) {
            const to = users[Math.floor(random() * users.length)] as string;
            if (to !== client.user) client.say(`@${to}`, { to });
          } else if (pick < 0.9) void client.request({ type: 'who' });
          else void client.request({ type: 'ping' });
        }
        if (now - (rss.at(-1)?.[0] ?? 0) >= 1_000) rss.push([now, memoryAt()]);
        if (options.progress && now - lastShown >= 5_000) {
          lastShown = now;
          const sent = clients.reduce((n, c) => n + c.sent, 0);
          const delivered = clients.reduce((n, c) => n + c.delivered, 0);
          options.progress(
            `soak: ${Math.round((now - trafficStart) / 1000)} s, ${sent.toLocaleString('en')} messages sent, ${delivered.toLocaleString('en')} delivered, server RSS ${memoryAt().toFixed(1)} MiB, ${failures.count} failures`,
          );
        }
        if (now - trafficStart >= options.durationMs) {
          clearInterval(timer);
          resolve();
        }
      }, TICK_MS);
    });

    // Barrier 1: every client's own frames are handled (so every relay is queued); barrier 2:
    // everything queued before it has been delivered. Then the counts must match exactly.
    for (let round = 0; round < 2; round++) await Promise.all(clients.map((client) => client.request({ type: 'ping' })));
    await until(
      () => clients.every((c) => c.outstanding === 0),
      SETTLE_MS,
      () => `${clients.reduce((n, c) => n + c.outstanding, 0)} requests still unanswered ${SETTLE_MS} ms after the traffic stopped`,
    ).catch((error: Error) => failures.add(error.message));
    checkCounts(clients, failures);
    const endRss = memoryAt();
    rss.push([Date.now(), endRss]);
    const peak = Math.max(...rss.map(([, y]) => y), server.memoryMiB()?.peak ?? 0);
    memory = { idle, start: startRss, peak, end: endRss, slopePerMinute: slope(rss.map(([t, y]) => [(t - trafficStart) / 60_000, y])), samples: rss.length };
  } finally {
    for (const client of clients) client.end();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    clients: clients.length,
    elapsedMs: Date.now() - started,
    sent: clients.reduce((n, c) => n + c.sent, 0),
    delivered: clients.reduce((n, c) => n + c.delivered, 0),
    answers: clients.reduce((n, c) => n + c.answers, 0),
    memory,
    failures: failures.shown,
    failureCount: failures.count,
  };
}

/** Every receiver holds exactly what each sender sent to it, on every channel. */
function checkCounts(clients: SoakClient[], failures: Failures): void {
  const members = new Map<string, SoakClient[]>([['lobby', clients]]);
  for (const client of clients) for (const room of client.rooms) members.set(room, [...(members.get(room) ?? []), client]);
  const byName = new Map(clients.map((c) => [c.user, c]));
  let missing = 0;
  for (const sender of clients) {
    for (const [channel, count] of sender.sentOn) {
      const receivers = channel.startsWith('@') ? [byName.get(channel.slice(1))] : (members.get(channel) ?? []);
      for (const receiver of receivers) {
        if (!receiver || receiver === sender) continue;
        const got = receiver.check.count(sender.user, channel);
        if (got !== count) {
          missing += count - got;
          failures.add(`${receiver.user} has ${got} of ${sender.user}'s ${count} messages on ${channel}`);
        }
      }
    }
  }
  if (missing > 0) failures.add(`${missing} deliveries missing in all`);
}

// ---------------------------------------------------------------- command line

const USAGE = `usage: npm run soak -- [--clients N] [--seconds S | --minutes M] [--rate R] [--seed S]

  --clients N   logged-in clients (default 200)
  --seconds S   length of the traffic (default 20); --minutes M for long runs (release: --minutes 30)
  --rate R      frames per second each client sends on average (default 2; the server allows 20)
  --seed S      traffic seed (default: random, printed)`;

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} takes a number > 0, not "${text}"`);
  return value;
}

async function main(): Promise<void> {
  let options: SoakOptions;
  try {
    const { values } = parseArgs({
      options: {
        clients: { type: 'string' },
        seconds: { type: 'string' },
        minutes: { type: 'string' },
        rate: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean' },
      },
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return;
    }
    if (values.seconds !== undefined && values.minutes !== undefined) throw new Error('give --seconds or --minutes, not both');
    const seconds = values.minutes !== undefined ? positive('minutes', values.minutes, 0) * 60 : positive('seconds', values.seconds, 20);
    options = {
      clients: Math.round(positive('clients', values.clients, 200)),
      durationMs: seconds * 1000,
      ratePerClient: positive('rate', values.rate, 2),
      seed: Math.round(positive('seed', values.seed, 1 + Math.floor(Math.random() * 1_000_000))),
      progress: (line) => process.stderr.write(`${line}\n`),
    };
  } catch (error) {
    process.stderr.write(`soak: ${(error as Error).message}\n${USAGE}\n`);
    process.exitCode = 1;
    return;
  }
  process.stderr.write(`soak: seed ${options.seed} (replay with --seed ${options.seed}), ${options.clients} clients, server as a child process\n`);
  let report: SoakReport;
  try {
    report = await runSoak(options);
  } catch (error) {
    process.stderr.write(`soak: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  const m = report.memory;
  const mib = (x: number): string => `${x.toFixed(1)} MiB`;
  process.stdout.write(
    [
      `soak: ${report.clients} clients, ${(report.elapsedMs / 1000).toFixed(1)} s, ${report.sent.toLocaleString('en')} messages sent, ${report.delivered.toLocaleString('en')} delivered, ${report.answers.toLocaleString('en')} answers (seed ${options.seed})`,
      m
        ? `soak: server RSS idle ${mib(m.idle)}, start ${mib(m.start)}, peak ${mib(m.peak)}, end ${mib(m.end)}, slope ${m.slopePerMinute >= 0 ? '+' : ''}${m.slopePerMinute.toFixed(2)} MiB/min (${m.samples} samples)`
        : 'soak: server RSS not measured',
      `soak: ${report.failureCount} failures (loss, duplicate, reorder, error, disconnect)${report.failureCount > 0 ? ':' : ''}`,
      ...report.failures.map((f) => `  - ${f}`),
      '',
    ].join('\n'),
  );
  process.exitCode = report.failureCount > 0 ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
