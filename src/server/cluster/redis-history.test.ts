import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { redisPerFile } from '../../../test-support/redis-per-file.ts';
import type { NewMessage } from '../message-store.ts';
import { RedisHistory, TOKEN_SEARCH_DEPTH } from './redis-history.ts';

const redis = redisPerFile();
let client: Redis;
let history: RedisHistory;

beforeEach(async () => {
  client = new Redis(redis.url, { lazyConnect: true });
  await client.connect();
  history = new RedisHistory(client);
});
afterEach(() => {
  client.disconnect();
});

function lobby(text: string, token: string, uncertain = false): NewMessage {
  return { ts: 1, from: 'alice', room: 'lobby', text, delivered: true, token, uncertain };
}

async function texts(key: string): Promise<string[]> {
  return ((await client.xrange(key, '-', '+')) as Array<[string, string[]]>).map(([, fields]) => fields[fields.indexOf('text') + 1] as string);
}

describe('RedisHistory records with tokens', () => {
  it('answers the msgid an uncertain record already has, writing nothing; a certain one is not searched', async () => {
    const first = await history.record(lobby('once', 'A/1:1'));
    expect(await history.record(lobby('once', 'A/1:1', true))).toBe(first);
    expect(await texts('chatlab:history:room:lobby')).toEqual(['once']);
    expect(await history.record(lobby('twice', 'A/1:1'))).toBeGreaterThan(first as number);
    expect(await texts('chatlab:history:room:lobby')).toEqual(['once', 'twice']);
  });

  it("finds a private message's token in its pair's stream, and writes none of its entries again (queue included)", async () => {
    const message: NewMessage = { ts: 1, from: 'bob', to: 'alice', text: 'psst', delivered: false, token: 'B/1:7' };
    const first = await history.record(message);
    expect(await history.record({ ...message, uncertain: true })).toBe(first);
    for (const key of ['pair:alice:bob', 'user:alice', 'user:bob', 'queue:alice']) expect(await texts(`chatlab:history:${key}`)).toEqual(['psst']);
  });

  it(`searches the newest ${TOKEN_SEARCH_DEPTH} entries of the stream, no further`, async () => {
    const first = await history.record(lobby('early', 'A/1:early'));
    const others = (count: number, from: number): Array<Promise<unknown>> => Array.from({ length: count }, (_, i) => history.record(lobby(`other ${from + i}`, `B/1:${from + i}`)));
    await Promise.all(others(TOKEN_SEARCH_DEPTH - 1, 0));
    expect(await history.record(lobby('early', 'A/1:early', true))).toBe(first);
    await Promise.all(others(1, TOKEN_SEARCH_DEPTH));
    expect(await history.record(lobby('early', 'A/1:early', true))).toBeGreaterThan(first as number);
    expect((await texts('chatlab:history:room:lobby')).filter((text) => text === 'early')).toHaveLength(2);
  });
});
