import { randomBytes } from 'node:crypto';
import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A partial download left by a client that did not live to finish it (killed, crashed, the
 * machine went down) is removed at the next client start, and only such a file: the temporary
 * files of this client are named `.chatlab-<pid>-<transfer>-<random>.part`, so one is recognised
 * by its name, and its writer by the pid in it.
 */

/** A part file older than this (not written for a day) is stale even if its pid is alive (pids are reused). */
export const STALE_PART_AGE_MS = 24 * 60 * 60 * 1000;

// `.chatlab-<pid>-<transfer id, [A-Za-z0-9_-], at most 32>-<8 hex digits>.part`, and nothing else.
const PART_NAME = /^\.chatlab-([1-9]\d{0,9})-[A-Za-z0-9_-]{0,32}-[0-9a-f]{8}\.part$/;

/** The name of the temporary file of a download of `transfer` by this process. */
export function partFileName(transfer: string): string {
  const safeId = transfer.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 32);
  return `.chatlab-${process.pid}-${safeId}-${randomBytes(4).toString('hex')}.part`;
}

/** The pid that wrote a part file named `name`, or undefined when the name is not one of ours. */
export function partFileWriter(name: string): number | undefined {
  const match = PART_NAME.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Whether a process with this pid exists (one of another user counts: it exists, we may not signal it). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What {@link removeStaleParts} may be told, for tests. */
export interface StalePartsOptions {
  /** Now, in ms since the epoch. Default `Date.now()`. */
  now?: number;
  /** Default {@link processAlive}. */
  isAlive?: (pid: number) => boolean;
}

/**
 * Deletes the partial downloads in `directory` that no running client is writing: files named by
 * {@link partFileName} whose writer is no longer alive, or which nobody wrote to for
 * {@link STALE_PART_AGE_MS}. Anything else (other names, folders, links) is left alone, and so is
 * a part of a live process. Returns the names removed; a missing folder removes nothing, and a
 * file that cannot be examined or deleted is skipped (this is housekeeping, never a reason to fail).
 */
export async function removeStaleParts(directory: string, options: StalePartsOptions = {}): Promise<string[]> {
  const now = options.now ?? Date.now();
  const isAlive = options.isAlive ?? processAlive;
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = partFileWriter(name);
    if (pid === undefined) continue;
    const path = join(directory, name);
    try {
      const info = await lstat(path);
      if (!info.isFile()) continue;
      const abandoned = now - info.mtimeMs > STALE_PART_AGE_MS || !isAlive(pid);
      if (!abandoned) continue;
      await unlink(path);
      removed.push(name);
    } catch {
      // Gone already, or not ours to delete: leave it.
    }
  }
  return removed;
}
