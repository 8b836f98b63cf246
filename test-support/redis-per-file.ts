/**
 * One redis-server for the test file that calls it: started before its first test, stopped after
 * its last, and emptied (FLUSHALL) after each test, so history said in one test is no replay in
 * the next. The file's own afterEach hooks (closing sockets, stopping nodes) run before the flush:
 * vitest runs afterEach hooks last-registered first, and this one is registered at the top.
 *
 * ```ts
 * const redis = redisPerFile({ persist: true });
 * it('…', async () => { const node = await startClusterNode(redis.url); … });
 * ```
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startRedis, type TestRedis } from './redis-server.ts';

/** The file's redis-server (see the module comment); its members are usable inside tests and hooks. */
export function redisPerFile(options: { persist?: boolean } = {}): TestRedis {
  let current: TestRedis | undefined;
  const started = (): TestRedis => {
    if (!current) throw new Error('redisPerFile: redis-server is started in beforeAll; use it inside a test or hook');
    return current;
  };
  beforeAll(async () => {
    current = await startRedis(options);
  });
  afterAll(async () => {
    await current?.stop();
  });
  afterEach(async () => {
    if (!current) return;
    const store = new Redis(current.url);
    try {
      await store.flushall();
    } finally {
      store.disconnect();
    }
  });
  return {
    get port() {
      return started().port;
    },
    get url() {
      return started().url;
    },
    restart: () => started().restart(),
    kill: () => started().kill(),
    start: () => started().start(),
    pause: () => started().pause(),
    resume: () => started().resume(),
    stop: () => started().stop(),
  };
}
