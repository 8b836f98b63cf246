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
 * A message is recorded by a Lua script that takes its id and writes every entry it makes (room,
 * or pair + both users + queue) atomically, and nothing names the msgid before Redis has answered.
 * Records are **group-committed** ({@link GroupCommit}): one script call is in flight per node, and
 * the records asked for meanwhile go together in the next call, which records them in the order
 * they were asked for (one `INCR` per message, each message's entries with its id; the whole batch
 * atomic) and answers every msgid. At low load a record goes alone at the end of its event-loop
 * turn, one round trip as before; under load a batch holds what was asked for during one round
 * trip. A batch is bounded by {@link MAX_RECORD_BATCH} messages and {@link MAX_RECORD_BATCH_BYTES}
 * bytes of message data (far under Redis's `proto-max-bulk-len`, 512 MB per argument, and its
 * 1 GB query buffer); what waits is bounded by the says in flight (64 per connection, then its
 * socket pauses). A batch that fails (Redis away) fails every record in it.
 *
 * Order: Redis runs one connection's commands in the order they were sent. Batches leave in the
 * order their records were asked for, so msgids increase in record() call order (the core issues a
 * connection's says in frame order). Every read and write of this store first sends the records
 * asked for before it ({@link GroupCommit.sendNow}), so a read still sees every record this node
 * asked for before it, exactly as when each record went alone. The script is sent whole with EVAL
 * every time, never by its SHA (EVALSHA). EVALSHA fails with NOSCRIPT after Redis restarted or
 * flushed its script cache, and ioredis then sends that command again as EVAL, behind commands sent
 * after it, which may already have run (a forced batch, or a record of another node): their msgids
 * would come before it. With EVAL there is no retry and no NOSCRIPT; the script's ~1.4 KB is paid
 * once per batch, not once per message (see bench/README.md).
 * Retention is by count, as in SQLite: `XADD … MAXLEN <retainPerConversation>` on the room, pair
 * and user streams; the queue is never trimmed (a waiting message is never deleted undelivered).
 */
import type { Redis } from 'ioredis';
import { compareCodePoints } from '../../protocol/index.ts';
import type { MessageStore, NewMessage, StoredMessage } from '../message-store.ts';
import { OutcomeUnknownError, UnavailableError } from '../unavailable.ts';
import { GroupCommit } from './group-commit.ts';

/** The cluster's msgid counter. */
export const MSGID_KEY = 'chatlab:msgid';
const PREFIX = 'chatlab:history:';

/** Messages one record script call carries at most. */
export const MAX_RECORD_BATCH = 256;
/** Bytes of message data (texts, names, keys) one record script call carries at most; a bigger message goes alone. */
export const MAX_RECORD_BATCH_BYTES = 1024 * 1024;

/**
 * How many of the newest entries of a message's room or pair stream are searched for its token
 * when an earlier record of it may have been committed ({@link NewMessage.uncertain}). The search
 * runs inside the record script and holds Redis (single-threaded) while it reads: 1,000 entries
 * cost about 1.6 ms of Redis time (measured on a laptop-class core, 40-byte texts), paid only by
 * a record whose first answer was lost. The earlier record is normally among the newest few (it
 * ran at most a command timeout plus a reconnection before the search); 1,000 leaves room for
 * what a busy room's other nodes record meanwhile. An earlier record pushed further down is not
 * found, and the message is stored twice (see docs/clustering.md).
 */
export const TOKEN_SEARCH_DEPTH = 1_000;

/**
 * Records a batch of messages, in order. KEYS: the counter, then each message's streams in turn
 * (its room or pair first, its queue last when it is queued). ARGV: floor (the highest msgid this
 * node knows of), retain (0 keeps all), search depth, then per message: its number of streams,
 * queued ('1'/'0'), uncertain ('1'/'0'), token ('' for none), ts, from, 'room' or 'to', the room
 * or the recipient, text. Answers the msgids, in order. An uncertain message is first looked for
 * by its token among the newest entries of its first stream: found, its msgid is answered and
 * nothing is written (its first record wrote every entry, atomically). The counter is raised past
 * the floor first: if Redis lost its data (restarted without AOF), ids still do not go back to
 * ones the nodes have handed out.
 */
const RECORD = `
local floor = tonumber(ARGV[1])
local retain = tonumber(ARGV[2])
local depth = tonumber(ARGV[3])
local ids = {}
local k = 2
local a = 4
local function find(key, token)
  local entries = redis.call('XREVRANGE', key, '+', '-', 'COUNT', depth)
  for _, entry in ipairs(entries) do
    local fields = entry[2]
    if fields[#fields] == token and fields[#fields - 1] == 'tok' then
      return tonumber(string.match(entry[1], '^%d+'))
    end
  end
  return nil
end
while a <= #ARGV do
  local streams = tonumber(ARGV[a])
  local queued = ARGV[a + 1] == '1'
  local token = ARGV[a + 3]
  local last = k + streams - 1
  local id = nil
  if ARGV[a + 2] == '1' and token ~= '' then
    id = find(KEYS[k], token)
  end
  if not id then
    id = redis.call('INCR', KEYS[1])
    if id <= floor then
      id = floor + 1
      redis.call('SET', KEYS[1], id)
    end
    local sid = id .. '-0'
    local fields = {'ts', ARGV[a + 4], 'from', ARGV[a + 5], ARGV[a + 6], ARGV[a + 7], 'text', ARGV[a + 8]}
    if token ~= '' then
      -- Last: the search above reads it there.
      fields[#fields + 1] = 'tok'
      fields[#fields + 1] = token
    end
    for i = k, last do
      if retain > 0 and not (queued and i == last) then
        redis.call('XADD', KEYS[i], 'MAXLEN', retain, sid, unpack(fields))
      else
        redis.call('XADD', KEYS[i], sid, unpack(fields))
      end
    end
  end
  ids[#ids + 1] = id
  k = last + 1
  a = a + 9
end
return ids`;

/** One message as the record script takes it (see {@link RECORD}). */
interface RecordRequest {
  keys: string[];
  /** Its streams, queued, uncertain, token, ts, from, 'room' or 'to', the room or recipient, text. */
  args: string[];
  /** Bytes it adds to a batch (for {@link MAX_RECORD_BATCH_BYTES}). */
  bytes: number;
}

/** Options of {@link RedisHistory}. */
export interface RedisHistoryOptions {
  /** Messages kept per room, per private pair and per user's private index (0 keeps all). */
  retainPerConversation?: number;
}

type StreamEntry = [id: string, fields: string[]];

/** How ioredis refuses a command it did not send (no connection, and no offline queue). */
const NOT_SENT = /enableOfflineQueue/;

/** The cluster's message store (see the module comment). Every method answers with a promise. */
export class RedisHistory implements MessageStore {
  private readonly retain: number;
  /** The highest msgid this node recorded or read: the floor of the next id (see {@link RECORD}). */
  private highest = 0;
  /** The records asked for and not answered yet, sent in batches (see the module comment). */
  private readonly records = new GroupCommit<RecordRequest, number>(this.recordBatch.bind(this), recordSize, {
    maxItems: MAX_RECORD_BATCH,
    maxBytes: MAX_RECORD_BATCH_BYTES,
  });

  constructor(
    private readonly redis: Redis,
    options: RedisHistoryOptions = {},
  ) {
    this.retain = Math.max(0, Math.floor(options.retainPerConversation ?? 0));
  }

  /** Record script calls made so far (each records a batch of messages). */
  get recordBatches(): number {
    return this.records.batches;
  }

  record(message: NewMessage): Promise<number> {
    const keys = message.room !== undefined ? [roomKey(message.room)] : privateKeys(message.from, message.to as string, !message.delivered);
    const queued = message.room === undefined && !message.delivered ? '1' : '0';
    const target = message.room !== undefined ? ['room', message.room] : ['to', message.to as string];
    const args = [String(keys.length), queued, message.uncertain === true ? '1' : '0', message.token ?? '', String(message.ts), message.from, ...target, message.text];
    return this.records.add({ keys, args, bytes: byteLength(keys) + byteLength(args) });
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
    this.records.sendNow();
    const entries = await this.call(() => this.redis.xrange(queueKey(user), '-', '+', 'COUNT', limit));
    return this.toMessages(entries as StreamEntry[]).map((message) => ({ ...message, queued: true }));
  }

  async markDelivered(user: string, msgids: readonly number[]): Promise<void> {
    if (msgids.length === 0) return;
    this.records.sendNow();
    await this.call(() => this.redis.xdel(queueKey(user), ...msgids.map(streamId)));
  }

  /** Nothing to write: every message is committed before its msgid is known. */
  close(): void {}

  /** The newest `limit` entries with msgid > `after`, oldest first. */
  private async tail(key: string, limit: number, after: number): Promise<StoredMessage[]> {
    if (limit <= 0) return [];
    this.records.sendNow();
    const entries = await this.call(() => this.redis.xrevrange(key, '+', streamId(after + 1), 'COUNT', limit));
    return this.toMessages((entries as StreamEntry[]).reverse());
  }

  /** The newest `limit` entries with msgid < `before`, oldest first. */
  private async page(key: string, before: number, limit: number): Promise<StoredMessage[]> {
    if (limit <= 0 || before <= 1) return [];
    this.records.sendNow();
    const entries = await this.call(() => this.redis.xrevrange(key, streamId(before - 1), '-', 'COUNT', limit));
    return this.toMessages((entries as StreamEntry[]).reverse());
  }

  /** Records one batch with one script call (see {@link RECORD}); answers its msgids in order. */
  private async recordBatch(batch: readonly RecordRequest[]): Promise<number[]> {
    const keys = [MSGID_KEY, ...batch.flatMap((request) => request.keys)];
    const args = batch.flatMap((request) => request.args);
    const msgids = ((await this.call(() => this.redis.eval(RECORD, keys.length, ...keys, this.highest, this.retain, TOKEN_SEARCH_DEPTH, ...args))) as unknown[]).map(Number);
    for (const msgid of msgids) this.saw(msgid);
    return msgids;
  }

  /**
   * Runs one command; an unreachable store becomes an {@link UnavailableError} (Redis's own error
   * replies stay bugs): an {@link OutcomeUnknownError} once the command may have been sent (its
   * answer lost with the connection, or timed out), a plain one when it was known not to be.
   */
  private async call<T>(command: () => Promise<T>): Promise<T> {
    if (this.redis.status !== 'ready') throw new UnavailableError('the cluster store (Redis) is unreachable');
    try {
      return await command();
    } catch (error) {
      if (error instanceof Error && error.name === 'ReplyError') throw error;
      const reason = `the cluster store (Redis) failed: ${error instanceof Error ? error.message : String(error)}`;
      throw error instanceof Error && NOT_SENT.test(error.message) ? new UnavailableError(reason) : new OutcomeUnknownError(reason);
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

/** The size of one record in a batch (see {@link MAX_RECORD_BATCH_BYTES}). */
function recordSize(request: RecordRequest): number {
  return request.bytes;
}

function byteLength(strings: readonly string[]): number {
  let bytes = 0;
  for (const string of strings) bytes += Buffer.byteLength(string);
  return bytes;
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
