/**
 * What a test Redis ran, from its own statistics (`INFO commandstats`): how many times it ran a
 * command since they were reset. Used to observe how a node talks to Redis (e.g. how many record
 * script calls a burst of says took) without looking inside the node.
 *
 * ```ts
 * await resetCommandStats(redis.url);
 * … // the node works
 * expect(await commandCalls(redis.url, 'eval')).toBeLessThan(10);
 * ```
 */
import { Redis } from 'ioredis';

/** Resets the command statistics of the Redis at `url` (`CONFIG RESETSTAT`). */
export async function resetCommandStats(url: string): Promise<void> {
  const admin = new Redis(url);
  try {
    await admin.config('RESETSTAT');
  } finally {
    admin.disconnect();
  }
}

/** How many times the Redis at `url` ran `command` (lower case, e.g. `eval`) since its statistics were reset. */
export async function commandCalls(url: string, command: string): Promise<number> {
  const admin = new Redis(url);
  try {
    const stats = await admin.info('commandstats');
    const found = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats);
    return found ? Number(found[1]) : 0;
  } finally {
    admin.disconnect();
  }
}
