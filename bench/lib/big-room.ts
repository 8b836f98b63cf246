/**
 * The big-room measurement: N users log in to one chatlab room (lobby), a bounded number at a
 * time, and every login's `presence … online` goes to everyone already there: n(n−1)/2 presence
 * frames in all (≈ 50 M for 10,000 users). The generator reads every byte; until a client's
 * welcome is complete (paged lists put back together with the protocol's PagedListAssembler) it
 * decodes frames, after that it only counts newlines: every later frame is a presence (nobody
 * speaks, the database is empty, so there is no history to replay).
 */
import { createHistogram } from 'node:perf_hooks';
import { FrameDecoder, PagedListAssembler, type RawFrame } from '../../src/protocol/index.ts';
import { ClientConnection } from './client-connection.ts';
import { BENCH_PASSWORD } from './dialects.ts';
import type { ServerProcess } from './server-process.ts';

/** Options of {@link measureBigRoom}. */
export interface BigRoomOptions {
  server: ServerProcess;
  users: number;
  /** Logins in flight at once (connect → welcome complete). */
  inFlight: number;
  /** How long the presence count may stand still before the rest is taken as lost. */
  stallMs: number;
  progress(line: string): void;
}

/** What {@link measureBigRoom} found. */
export interface BigRoomResult {
  users: number;
  inFlight: number;
  loginSeconds: number;
  loginsPerSecond: number;
  loginLatencyMs: { p50: number; p99: number; max: number };
  /** Frames the last welcome came in (1 = not paged), and the names it held. */
  lastWelcome: { frames: number; names: number };
  presence: { expected: number; delivered: number; drainSeconds: number; totalSeconds: number; perSecond: number };
  server: { cpuSeconds: number | null; nsPerPresence: number | null; rssIdleMiB: number | null; rssMiB: number | null; peakMiB: number | null; kibPerUser: number | null };
}

/** One user of the crowd. */
class CrowdUser {
  /** Presence frames (newlines) read after the welcome. */
  presence = 0;
  welcomed = false;
  private readonly decoder = new FrameDecoder();
  private readonly lists = new PagedListAssembler();
  private frames = 0;

  constructor(
    readonly connection: ClientConnection,
    private readonly user: string,
    private readonly onWelcome: (user: CrowdUser, frames: number, names: number) => void,
    private readonly onError: (message: string) => void,
  ) {
    connection.handler = (buf, start, end) => this.read(buf, start, end);
    connection.socket.write(`${JSON.stringify({ type: 'login', user, password: BENCH_PASSWORD })}\n`);
  }

  private read(buf: Buffer, start: number, end: number): void {
    if (this.welcomed) {
      this.presence += countNewlines(buf, start, end);
      return;
    }
    for (const result of this.decoder.push(buf.subarray(start, end))) {
      if (!result.ok) return this.onError(`${this.user}: the server sent a bad frame: ${result.message}`);
      if (this.welcomed) {
        if (result.frame.type === 'presence') this.presence++;
        continue;
      }
      this.handshake(result.frame);
    }
  }

  private handshake(frame: RawFrame): void {
    if (frame.type === 'hello') return;
    if (frame.type === 'error') return this.onError(`${this.user}: ${String(frame.code)}: ${String(frame.message)}`);
    this.frames++;
    const step = this.lists.take(frame);
    if (step.kind === 'broken') return this.onError(`${this.user}: ${step.message}`);
    if (step.kind === 'page') return;
    const welcome = step.kind === 'complete' ? step.frame : frame;
    if (welcome.type !== 'welcome') return this.onError(`${this.user}: expected welcome, got "${frame.type}"`);
    this.welcomed = true;
    this.onWelcome(this, this.frames, Array.isArray(welcome.users) ? welcome.users.length : 0);
  }
}

function countNewlines(buf: Buffer, start: number, end: number): number {
  let count = 0;
  let at = buf.indexOf(10, start);
  while (at !== -1 && at < end) {
    count++;
    at = buf.indexOf(10, at + 1);
  }
  return count;
}

/** Logs `users` in (accounts u0…u<N−1> must exist), waits for every presence, and measures. */
export async function measureBigRoom(options: BigRoomOptions): Promise<BigRoomResult> {
  const { server, users, inFlight, progress } = options;
  const idle = server.memoryMiB();
  const cpuBefore = server.cpuMs();
  const latency = createHistogram();
  const crowd: CrowdUser[] = [];
  let failure: string | undefined;
  let welcomed = 0;
  let lastWelcome = { frames: 0, names: 0 };
  const started = performance.now();

  await new Promise<void>((resolve, reject) => {
    let next = 0;
    const fail = (message: string): void => {
      failure ??= message;
      reject(new Error(message));
    };
    const launch = (): void => {
      if (failure || next >= users) return;
      const name = `u${next++}`;
      const began = performance.now();
      ClientConnection.open(server.host, server.port, 30_000).then(
        (connection) => {
          crowd.push(
            new CrowdUser(
              connection,
              name,
              (_user, frames, names) => {
                latency.record(Math.max(1, Math.round((performance.now() - began) * 1000)));
                welcomed++;
                lastWelcome = { frames, names };
                if (welcomed % 1000 === 0) progress(`  ${welcomed} logged in (${((performance.now() - started) / 1000).toFixed(1)} s)`);
                if (welcomed === users) resolve();
                else launch();
              },
              fail,
            ),
          );
        },
        (error: Error) => fail(error.message),
      );
    };
    for (let i = 0; i < Math.min(inFlight, users); i++) launch();
  });
  const loggedIn = performance.now();

  const expected = (users * (users - 1)) / 2;
  const delivered = (): number => crowd.reduce((sum, user) => sum + user.presence, 0);
  let count = delivered();
  let lastChange = performance.now();
  let drainedAt = count >= expected ? performance.now() : undefined;
  while (drainedAt === undefined && performance.now() - lastChange < options.stallMs) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = delivered();
    if (now !== count) {
      count = now;
      lastChange = performance.now();
    }
    if (count >= expected) drainedAt = performance.now();
  }
  const end = drainedAt ?? lastChange;
  const cpuAfter = server.cpuMs();
  const memory = server.memoryMiB();
  for (const user of crowd) user.connection.socket.destroy();

  const cpuSeconds = cpuBefore !== null && cpuAfter !== null ? (cpuAfter - cpuBefore) / 1000 : null;
  const loginSeconds = (loggedIn - started) / 1000;
  return {
    users,
    inFlight,
    loginSeconds,
    loginsPerSecond: users / loginSeconds,
    loginLatencyMs: { p50: latency.percentile(50) / 1000, p99: latency.percentile(99) / 1000, max: latency.max / 1000 },
    lastWelcome,
    presence: {
      expected,
      delivered: count,
      drainSeconds: (end - loggedIn) / 1000,
      totalSeconds: (end - started) / 1000,
      perSecond: count / ((end - started) / 1000),
    },
    server: {
      cpuSeconds,
      nsPerPresence: cpuSeconds !== null && count > 0 ? (cpuSeconds * 1e9) / count : null,
      rssIdleMiB: idle?.rss ?? null,
      rssMiB: memory?.rss ?? null,
      peakMiB: memory?.peak ?? null,
      kibPerUser: idle && memory ? ((memory.rss - idle.rss) * 1024) / users : null,
    },
  };
}

/** The report lines of a big-room run. */
export function formatBigRoomReport(result: BigRoomResult): string[] {
  const n = (value: number): string => Math.round(value).toLocaleString('en-US');
  const f = (value: number | null, digits = 1): string => (value === null ? '?' : value.toFixed(digits));
  const { presence, server } = result;
  const lost = presence.expected - presence.delivered;
  return [
    `logins      ${n(result.users)} in ${f(result.loginSeconds)} s = ${n(result.loginsPerSecond)} logins/s (${result.inFlight} in flight); login latency p50 ${f(result.loginLatencyMs.p50)} ms, p99 ${f(result.loginLatencyMs.p99)} ms, max ${f(result.loginLatencyMs.max)} ms`,
    `welcome     the last one listed ${n(result.lastWelcome.names)} names in ${result.lastWelcome.frames} frame${result.lastWelcome.frames === 1 ? '' : 's'}${result.lastWelcome.frames > 1 ? ' (paged: more + users)' : ''}`,
    `presence    ${n(presence.delivered)} of ${n(presence.expected)} expected (n(n−1)/2)${lost > 0 ? `, ${n(lost)} MISSING` : ''}; drained ${f(presence.drainSeconds, 2)} s after the last welcome; ${n(presence.perSecond)} presence frames/s over ${f(presence.totalSeconds)} s`,
    `server      CPU ${f(server.cpuSeconds)} s (${f(server.nsPerPresence, 0)} ns per presence delivered, logins included); RSS ${f(server.rssIdleMiB, 0)} MiB with the accounts loaded → ${f(server.rssMiB, 0)} MiB with everyone online (peak ${f(server.peakMiB, 0)} MiB) = ${f(server.kibPerUser)} KiB per logged-in user`,
  ];
}
