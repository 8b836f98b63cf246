/**
 * History and the offline private-message queue of a cluster, in Redis, so that any node serves
 * any user: `since`, `history` paging, the replay after login and after `join`, and a private
 * message queued on one node delivered at the recipient's next login on any node.
 *
 * Keys (all under `chatlab:`):
 * - `msgid`: the one counter of the cluster (INCR): msgids never reused, increasing across nodes;
 * - `history:room:<room>`: a stream per room, entry id `<msgid>-0`;
 * - `history:pair:<a>:<b>` (names in code-point order): a stream per private conversation;
 * - `history:user:<user>`: a stream of every private message the user sent or received (what the
 *   replay after login reads);
 * - `history:queue:<user>`: the private messages waiting for an offline user, until delivered.
 *
 * A message is recorded by ONE Lua script: the id and every entry it makes (room, or pair + both
 * users + queue) are written atomically, and nothing names the msgid before Redis has answered.
 * A node issues a user's records one after another without waiting (pipelined `say`s overlap), so
 * Redis must run them in the order they were issued: the script is sent whole with EVAL every time,
 * never by its SHA (EVALSHA). EVALSHA fails with NOSCRIPT after Redis restarted or flushed its
 * script cache, and ioredis then sends that command again as EVAL, behind records issued after it,
 * which may already have run (the script loaded again by a retry, or by another node): their
 * msgids would come before it. With EVAL there is no retry and no NOSCRIPT; the price is the
 * script's ~0.5 KB more on the Redis link per message (see bench/README.md).
 * Retention is by count, as in SQLite: `XADD … MAXLEN <retainPerConversation>` on the room, pair
 * and user streams; the queue is never trimmed (a waiting message is never deleted undelivered).
 */
import type { Redis } from 'ioredis';
import { compareCodePoints } from '../../protocol/index.ts';
import type { MessageStore, NewMessage, StoredMessage } from '../message-store.ts';
import { UnavailableError } from '../unavailable.ts';

/** The cluster's msgid counter. */
export const MSGID_KEY = 'chatlab:msgid';
const PREFIX = 'chatlab:history:';

/**
 * KEYS: the counter, then the streams to append to (the queue last when ARGV[3] is '1').
 * ARGV: floor (the highest msgid this node knows of), retain (0 keeps all), queued ('1'/'0'),
 * then the entry's field/value pairs. The counter is raised past the floor first: if Redis lost
 * its data (restarted without AOF), ids still do not go back to ones the nodes have handed out.
 */
const RECORD = `
local id = redis.call('INCR', KEYS[1])
local floor = tonumber(ARGV[1])
if id <= floor then
  id = floor + 1
  redis.call('SET', KEYS[1], id)
end
local entry = {}
for i = 4, #ARGV do entry[#entry + 1] = ARGV[i] end
local sid = id .. '-0'
local retain = tonumber(ARGV[2])
local queued = ARGV[3] == '1'
for i = 2, #KEYS do
  if retain > 0 and not (queued and i == #KEYS) then
    redis.call('XADD', KEYS[i], 'MAXLEN', retain, sid, unpack(entry))
  else
    redis.call('XADD', KEYS[i], sid, unpack(entry))
  end
end
return id`;

/** Options of {@link RedisHistory}. */
export interface RedisHistoryOptions {
  /** Messages kept per room, per private pair and per user's private index (0 keeps all). */
  retainPerConversation?: number;
}

type StreamEntry = [id: string, fields: string[]];

/** The cluster's message store (see the module comment). Every method answers with a promise. */
export class RedisHistory implements MessageStore {
  private readonly retain: number;
  /** The highest msgid this node recorded or read: the floor of the next id (see {@link RECORD}). */
  private highest = 0;

  constructor(
    private readonly redis: Redis,
    options: RedisHistoryOptions = {},
  ) {
    this.retain = Math.max(0, Math.floor(options.retainPerConversation ?? 0));
  }

  async record(message: NewMessage): Promise<number> {
    const keys = message.room !== undefined ? [roomKey(message.room)] : privateKeys(message.from, message.to as string, !message.delivered);
    const fields = ['ts', String(message.ts), 'from', message.from, ...(message.room !== undefined ? ['room', message.room] : ['to', message.to as string]), 'text', message.text];
    const queued = message.room === undefined && !message.delivered ? '1' : '0';
    // Issued in this turn, before any await: records run in Redis in the order record() was called.
    const msgid = Number(await this.call(() => this.redis.eval(RECORD, keys.length + 1, MSGID_KEY, ...keys, this.highest, this.retain, queued, ...fields)));
    this.saw(msgid);
    return msgid;
  }

  roomTail(room: string, limit: number, after = 0): Promise<StoredMessage[]> {
    return this.tail(roomKey(room), limit, after);
  }

  roomPage(room: string, before: number, limit: number): Promise<StoredMessage[]> {
    return this.page(roomKey(room), before, limit);
  }

  privateTail(user: string, limit: number, after = 0): Promise<StoredMessage[]> {
    return this.tail(userKey(user), limit, after);
  }

  conversationPage(a: string, b: string, before: number, limit: number): Promise<StoredMessage[]> {
    return this.page(pairKey(a, b), before, limit);
  }

  async undelivered(user: string, limit: number): Promise<StoredMessage[]> {
    if (limit <= 0) return [];
    const entries = await this.call(() => this.redis.xrange(queueKey(user), '-', '+', 'COUNT', limit));
    return this.toMessages(entries as StreamEntry[]).map((message) => ({ ...message, queued: true }));
  }

  async markDelivered(user: string, msgids: readonly number[]): Promise<void> {
    if (msgids.length === 0) return;
    await this.call(() => this.redis.xdel(queueKey(user), ...msgids.map(streamId)));
  }

  /** Nothing to write: every message is committed before its msgid is known. */
  close(): void {}

  /** The newest `limit` entries with msgid > `after`, oldest first. */
  private async tail(key: string, limit: number, after: number): Promise<StoredMessage[]> {
    if (limit <= 0) return [];
    const entries = await this.call(() => this.redis.xrevrange(key, '+', streamId(after + 1), 'COUNT', limit));
    return this.toMessages((entries as StreamEntry[]).reverse());
  }

  /** The newest `limit` entries with msgid < `before`, oldest first. */
  private async page(key: string, before: number, limit: number): Promise<StoredMessage[]> {
    if (limit <= 0 || before <= 1) return [];
    const entries = await this.call(() => this.redis.xrevrange(key, streamId(before - 1), '-', 'COUNT', limit));
    return this.toMessages((entries as StreamEntry[]).reverse());
  }

  /** Runs one command; an unreachable store becomes an {@link UnavailableError} (Redis's own error replies stay bugs). */
  private async call<T>(command: () => Promise<T>): Promise<T> {
    if (this.redis.status !== 'ready') throw new UnavailableError('the cluster store (Redis) is unreachable');
    try {
      return await command();
    } catch (error) {
      if (error instanceof Error && error.name === 'ReplyError') throw error;
      throw new UnavailableError(`the cluster store (Redis) failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private toMessages(entries: readonly StreamEntry[]): StoredMessage[] {
    const messages = entries.map(([id, fields]) => toMessage(id, fields));
    const last = messages.at(-1);
    if (last) this.saw(last.msgid);
    return messages;
  }

  private saw(msgid: number): void {
    if (msgid > this.highest) this.highest = msgid;
  }
}

function toMessage(id: string, fields: readonly string[]): StoredMessage {
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i] as string, fields[i + 1] as string);
  const room = values.get('room');
  const to = values.get('to');
  return {
    msgid: Number.parseInt(id, 10),
    ts: Number(values.get('ts')),
    from: values.get('from') ?? '',
    ...(room !== undefined && { room }),
    ...(to !== undefined && { to }),
    text: values.get('text') ?? '',
  };
}

/** The stream entry id of a msgid. */
function streamId(msgid: number): string {
  return `${msgid}-0`;
}

function roomKey(room: string): string {
  return `${PREFIX}room:${room}`;
}

function userKey(user: string): string {
  return `${PREFIX}user:${user}`;
}

function queueKey(user: string): string {
  return `${PREFIX}queue:${user}`;
}

function pairKey(a: string, b: string): string {
  const [first, second] = compareCodePoints(a, b) <= 0 ? [a, b] : [b, a];
  return `${PREFIX}pair:${first}:${second}`;
}

/** The streams a private message goes to: its pair, both users' indexes, and the queue if it waits. */
function privateKeys(from: string, to: string, queued: boolean): string[] {
  return [pairKey(from, to), userKey(from), userKey(to), ...(queued ? [queueKey(to)] : [])];
}
