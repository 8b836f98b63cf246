import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** What the verifier needs of /proc/PID/stat. */
interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  /** Clock ticks after boot when the process started: with the pid, it names one process for good (pids are reused). */
  startTime: string;
}

/** Whether this system has a Linux /proc to walk; elsewhere the verifier only kills the process group. */
export const PROC_AVAILABLE = process.platform === 'linux' && existsSync('/proc/self/stat');

/** The environment variable that marks every process of one supervised command (inherited by its children). */
export const TREE_MARKER_VARIABLE = 'CHATLAB_VERIFY_TREE';

/** Parses /proc/PID/stat, or null when the process is gone (or unreadable). */
export function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  const pgrp = Number(fields[2]);
  const startTime = fields[19];
  if (!Number.isInteger(ppid) || !Number.isInteger(pgrp) || startTime === undefined) return null;
  return { pid, ppid, pgrp, startTime };
}

function allStats(): ProcStat[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const stats: ProcStat[] = [];
  for (const name of names) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    const stat = readStat(Number(name));
    if (stat) stats.push(stat);
  }
  return stats;
}

function carriesMarker(pid: number, entry: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(entry);
  } catch {
    // Another user's process, or gone.
    return false;
  }
}

function send(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

/**
 * Every process a supervised command started, found on Linux through /proc: its descendants by
 * parent pid, the ones seen earlier (a process whose parent exited is reparented to init and
 * lost to a parent walk, so the tree remembers each one it saw, with its start time so a reused
 * pid is never mistaken for it), and the ones whose environment carries the tree's marker
 * (set by the supervisor, inherited by children). This catches what the process-group kill
 * misses: a child that called setsid(), or a daemon that forked twice.
 */
export class ProcessTree {
  /** pid → start time of every process seen in the tree. */
  private readonly seen = new Map<number, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly rootPid: number,
    /** `NAME=value` in the environment of every process of the tree. */
    readonly markerEntry: string,
  ) {
    this.sample();
  }

  /** Remembers every descendant alive now (cheap enough to run a few times a second). */
  sample(): void {
    this.members(false);
  }

  /** Samples every `intervalMs` until {@link stopSampling}, without keeping the verifier alive. */
  startSampling(intervalMs: number): void {
    this.timer ??= setInterval(() => this.sample(), intervalMs).unref();
  }

  stopSampling(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * The processes of the tree alive now (pid → stat), remembered as seen. With `marked`, also
   * every process carrying the marker in its environment (a slower scan, for kill time).
   */
  members(marked = true): Map<number, ProcStat> {
    const stats = allStats();
    const children = new Map<number, ProcStat[]>();
    for (const stat of stats) {
      const list = children.get(stat.ppid);
      if (list) list.push(stat);
      else children.set(stat.ppid, [stat]);
    }
    const found = new Map<number, ProcStat>();
    const queue: ProcStat[] = [];
    const take = (stat: ProcStat): void => {
      if (found.has(stat.pid) || stat.pid === process.pid || stat.pid === 1) return;
      found.set(stat.pid, stat);
      queue.push(stat);
    };
    for (const stat of stats) {
      const remembered = this.seen.get(stat.pid);
      if (stat.pid === this.rootPid ? remembered === undefined || remembered === stat.startTime : remembered === stat.startTime) take(stat);
      else if (marked && remembered === undefined && carriesMarker(stat.pid, this.markerEntry)) take(stat);
    }
    while (queue.length) for (const child of children.get(queue.pop()!.pid) ?? []) take(child);
    for (const stat of found.values()) this.seen.set(stat.pid, stat.startTime);
    return found;
  }

  /** Sends `signal` to every process of the tree outside the process group `pgid` (the group gets its own signal). */
  signalOutsideGroup(pgid: number, signal: NodeJS.Signals): void {
    for (const stat of this.members().values()) if (stat.pgrp !== pgid) send(stat.pid, signal);
  }

  /**
   * Kills every process of the tree: first SIGSTOP, again and again until no new process shows
   * up (a stopped process cannot fork away mid-kill), then SIGKILL. Synchronous, so it also runs
   * in a process exit hook.
   */
  kill(): void {
    const stopped = new Set<number>();
    for (let round = 0; round < 10; round++) {
      let fresh = 0;
      for (const pid of this.members().keys()) {
        if (stopped.has(pid)) continue;
        send(pid, 'SIGSTOP');
        stopped.add(pid);
        fresh++;
      }
      if (fresh === 0) break;
    }
    for (const pid of stopped) send(pid, 'SIGKILL');
    this.stopSampling();
  }
}
