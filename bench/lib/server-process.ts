import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** A server under test, running in its own process (pinned to a CPU when asked). */
export interface ServerProcess {
  /** Label used in progress lines and the table. */
  readonly name: string;
  readonly pid: number;
  readonly host: string;
  readonly port: number;
  /**
   * Several listening ports (the nodes of a cluster): client i connects to `ports[i % length]`.
   * Undefined for one process (everyone connects to `port`).
   */
  readonly ports?: readonly number[];
  /** The line the server printed when it became ready. */
  readonly readyLine: string;
  /** CPU time (user + system) the process has used so far, in ms; null when /proc is unavailable. */
  cpuMs(): number | null;
  /** Resident memory now and at its peak so far, in MiB; null when /proc is unavailable. */
  memoryMiB(): { rss: number; peak: number } | null;
  /** The last lines the process printed (for error messages). */
  recentOutput(): string;
  /** Sends SIGTERM, waits up to 3 s for the exit, then SIGKILL. */
  stop(): Promise<void>;
}

/** How to start one server process. */
export interface SpawnSpec {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** CPU the process is pinned to with `taskset -c`; undefined = not pinned. */
  cpu?: number;
  /**
   * A line on stdout or stderr that says the server is ready; its first capture group, when
   * there is one, is the port (else `port` must be given).
   */
  ready: RegExp;
  port?: number;
  host?: string;
  readyTimeoutMs?: number;
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Every child still running, so an abrupt exit of the bench can still kill them. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Reads utime + stime of a process from /proc, in ms. */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Field 2 (comm) may hold spaces; fields after the closing paren are plain.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** Reads VmRSS and VmHWM (peak RSS) of a process from /proc, in MiB. */
export function processMemoryMiB(pid: number): { rss: number; peak: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    const rss = kib('VmRSS');
    const peak = kib('VmHWM');
    return Number.isFinite(rss) && Number.isFinite(peak) ? { rss: rss / 1024, peak: peak / 1024 } : null;
  } catch {
    return null;
  }
}

/**
 * Starts a server process (through `taskset -c <cpu>` when `cpu` is set) and resolves once it
 * printed its ready line. Rejects with the process's last output if it exits or times out first.
 */
export async function spawnServer(spec: SpawnSpec): Promise<ServerProcess> {
  const pinned = spec.cpu !== undefined;
  const command = pinned ? 'taskset' : spec.command;
  const args = pinned ? ['-c', String(spec.cpu), spec.command, ...spec.args] : spec.args;
  const child = spawn(command, args, {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const tail: string[] = [];
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      live.delete(child);
      resolve();
    }),
  );

  let readyLine = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(`did not report ready within ${spec.readyTimeoutMs ?? 15_000} ms`), spec.readyTimeoutMs ?? 15_000);
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${spec.name} ${why}; last output:\n  ${tail.join('\n  ') || '(none)'}`));
    };
    child.once('error', (err) => fail(`could not start (${err.message})`));
    child.once('exit', (code, signal) => fail(`exited early (code ${code}, signal ${signal})`));
    for (const stream of [child.stdout!, child.stderr!]) {
      // Keep reading after "ready" so a chatty server never blocks on a full pipe.
      createInterface({ input: stream }).on('line', (line) => {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        if (settled) return;
        const match = spec.ready.exec(line);
        if (!match) return;
        const found = match[1] !== undefined ? Number(match[1]) : spec.port;
        if (found === undefined || !Number.isInteger(found)) return fail(`printed no port in "${line}"`);
        settled = true;
        clearTimeout(timer);
        readyLine = line;
        resolve(found);
      });
    }
  });

  const pid = child.pid!;
  return {
    name: spec.name,
    pid,
    host: spec.host ?? '127.0.0.1',
    port,
    readyLine,
    cpuMs: () => processCpuMs(pid),
    memoryMiB: () => processMemoryMiB(pid),
    recentOutput: () => tail.join('\n'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
