/**
 * The processes below a process, read from Linux's /proc, for tests that must prove a whole tree
 * (npm → sh → node) is gone after a signal.
 *
 * ```ts
 * const tree = descendants(child.pid);        // while it runs
 * child.kill('SIGTERM');
 * await closed;                                // every holder of its stdout has closed it
 * expect(await leftRunning([child.pid, ...tree])).toEqual([]);
 * ```
 */
import { readdirSync, readFileSync } from 'node:fs';

interface ProcStat {
  ppid: number;
  state: string;
}

/** The parent and state of a process, or undefined when it does not exist. */
function stat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] as string, ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** Every process below `root` (children, grandchildren, …), now. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const info = stat(pid);
    if (!info) continue;
    const siblings = children.get(info.ppid) ?? [];
    siblings.push(pid);
    children.set(info.ppid, siblings);
  }
  const found: number[] = [];
  const walk = (pid: number): void => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(root);
  return found;
}

/** Those of `pids` still running (a zombie, dead but not yet reaped by its parent, is not). */
export function stillRunning(pids: readonly number[]): number[] {
  return pids.filter((pid) => {
    const info = stat(pid);
    return info !== undefined && info.state !== 'Z';
  });
}

/**
 * Resolves with those of `pids` still running after `ms`, or with [] as soon as none is. A
 * process that closed its files (its pipes report closed) may take a moment more to exit, so a
 * test asks this instead of looking once.
 */
export async function leftRunning(pids: readonly number[], ms = 2_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const running = stillRunning(pids);
    if (running.length === 0 || Date.now() > deadline) return running;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
