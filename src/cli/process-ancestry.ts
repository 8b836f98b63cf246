import { readFileSync } from 'node:fs';

/** A process as Linux's /proc shows it: enough to tell it is still the same one. */
export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks since boot: tells a process from a later one given the same pid. */
  startTime: string;
}

/** Parent pid, state and start time of a process from /proc/PID/stat; undefined if it is gone (or not Linux). */
function readStat(pid: number): { ppid: number; state: string; startTime: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid … starttime …": comm may hold spaces and parentheses.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] as string, ppid: Number(fields[1]), startTime: fields[19] as string };
  } catch {
    return undefined;
  }
}

function isNpm(pid: number): boolean {
  try {
    // npm renames its process ("npm exec chatlab server …", one string); else it is
    // "node …/bin/npm-cli.js …" or "…/npm …".
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.slice(0, 2).some((arg) => /^(\S*\/)?(npm|npx)(-cli\.js)?( |$)/.test(arg));
  } catch {
    return false;
  }
}

/**
 * The nearest npm (or npx) process above this one, looking at most `depth` generations up
 * (npm → sh → node is two). Undefined when there is none, or off Linux.
 */
export function findNpmAncestor(depth = 4): ProcessIdentity | undefined {
  let pid = process.ppid;
  for (let level = 0; level < depth && pid > 1; level++) {
    const stat = readStat(pid);
    if (!stat) return undefined;
    if (isNpm(pid)) return { pid, startTime: stat.startTime };
    pid = stat.ppid;
  }
  return undefined;
}

/** Whether that very process still runs (not exited, not a zombie, its pid not reused). */
export function isRunning(identity: ProcessIdentity): boolean {
  const stat = readStat(identity.pid);
  return stat !== undefined && stat.state !== 'Z' && stat.startTime === identity.startTime;
}
