/**
 * What the machine allows and how the run is laid out on it: the open-files limit, CPU pinning
 * (servers on CPU 0, this load generator on CPU 1) and a note of how busy the machine was.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';

/** File descriptors the bench needs per process beyond the client sockets (listeners, pipes, stdio). */
const FD_HEADROOM = 64;

/** The soft `ulimit -n` this process (and the servers it starts) runs with; null if unknown. */
export function openFilesLimit(): number | null {
  const out = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' });
  const text = out.stdout?.trim();
  if (!text) return null;
  if (text === 'unlimited') return Number.POSITIVE_INFINITY;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** A one-line explanation when `clients` sockets cannot be opened, else null. */
export function checkOpenFiles(clients: number): string | null {
  const limit = openFilesLimit();
  if (limit === null) return null;
  const needed = clients + FD_HEADROOM;
  if (limit >= needed) return null;
  return (
    `ulimit -n is ${limit}, but ${clients} clients need at least ${needed} open files in the load ` +
    `generator and in each server: raise it in this shell (e.g. \`ulimit -n ${Math.max(4096, needed)}\`) ` +
    `or use --clients ${Math.max(1, limit - FD_HEADROOM)}`
  );
}

/** How processes are laid out on CPUs for this run. */
export interface Placement {
  /** CPU for every server process, undefined = not pinned. */
  serverCpu?: number;
  /** CPU this process (the load generator) was pinned to, undefined = not pinned. */
  generatorCpu?: number;
  /** Human explanation, printed at the start. */
  note: string;
}

/**
 * Pins this process (all its threads) to CPU 1 and asks servers to run on CPU 0, when the machine
 * has two CPUs or more and `taskset` exists; otherwise explains why not.
 */
export function placeProcesses(pin: boolean): Placement {
  if (!pin) return { note: 'not pinned (--no-pin): servers and load generator share all CPUs' };
  if (availableParallelism() < 2) return { note: 'not pinned: only one CPU available' };
  const result = spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    return { note: `not pinned: taskset failed (${result.error?.message ?? result.stderr.trim()})` };
  }
  return {
    serverCpu: 0,
    generatorCpu: 1,
    note: `pinned: each server process on CPU 0 (taskset -c 0), this load generator (pid ${process.pid}) on CPU 1`,
  };
}

/** A short description of the machine and how loaded it is right now. */
export function machineSummary(): { cpu: string; cpus: number; load1: number; node: string } {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cpus: cpus().length, // not availableParallelism(): this process is pinned to one CPU by now
    load1: loadavg()[0] ?? 0,
    node: process.version,
  };
}
