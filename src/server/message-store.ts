/**
 * What the protocol rules need from a message store: history (replay, paging, `since`) and the
 * offline private-message queue. One process keeps them in SQLite (`HistoryStore`), and
 * answers at once; a cluster node keeps them in Redis (`RedisHistory`), and answers with promises.
 * The core follows the `Hub.admit` pattern: a plain value is used in the same turn (the
 * single-process fast path stays synchronous), a promise is awaited.
 */

/** A message as history keeps it: a room message has `room`, a private one `to`. */
export interface StoredMessage {
  msgid: number;
  ts: number;
  from: string;
  room?: string;
  to?: string;
  text: string;
  /** A private message that was waiting for its offline recipient (only in `undelivered`). */
  queued?: boolean;
}

/** What {@link MessageStore.record} needs: the message and whether its recipient has it already. */
export interface NewMessage {
  ts: number;
  from: string;
  room?: string;
  to?: string;
  text: string;
  /** False for a private message whose recipient is offline: it waits for the next login. */
  delivered: boolean;
  /**
   * A name of this record unique in the cluster (`<incarnation>:<counter>`), stored with the
   * message so that a record whose answer was lost can be recognised (a cluster's store; one
   * process ignores it).
   */
  token?: string;
  /** An earlier record of this `token` may have been committed: look for it first, and answer its msgid if found. */
  uncertain?: boolean;
}

/** A value now (one process) or later (a shared store). */
export type Awaitable<T> = T | Promise<T>;

/**
 * What {@link MessageStore.record} gives for a message it could not record now but kept, durably,
 * to record later (a cluster node while Redis is away: see `cluster/deferring-history.ts`). It
 * has no msgid yet; the users of this node get it at once, the others once it is recorded.
 */
export const DEFERRED = 'deferred';

/** A recorded message's msgid, or {@link DEFERRED}. */
export type Recorded = number | typeof DEFERRED;

/** Where messages are recorded and read back (see the module comment). */
export interface MessageStore {
  /**
   * Records a message and gives its msgid, never reused and increasing. A promise resolves once
   * the message is committed; it rejects with an `UnavailableError` when the store cannot be
   * reached (nothing recorded). A store that keeps such a message aside to record it later gives
   * {@link DEFERRED} instead (always as a promise, so answers stay in order).
   */
  record(message: NewMessage): Awaitable<Recorded>;
  /** The last `limit` messages of a room with msgid > `after`, oldest first. */
  roomTail(room: string, limit: number, after?: number): Awaitable<StoredMessage[]>;
  /** The last `limit` messages of a room with msgid < `before`, oldest first. */
  roomPage(room: string, before: number, limit: number): Awaitable<StoredMessage[]>;
  /** The last `limit` private messages `user` sent or received with msgid > `after`, oldest first. */
  privateTail(user: string, limit: number, after?: number): Awaitable<StoredMessage[]>;
  /** The last `limit` private messages between `a` and `b` with msgid < `before`, oldest first. */
  conversationPage(a: string, b: string, before: number, limit: number): Awaitable<StoredMessage[]>;
  /** Up to `limit` private messages still waiting for `user`, oldest first, flagged `queued`. */
  undelivered(user: string, limit: number): Awaitable<StoredMessage[]>;
  /** Marks messages of `user`'s queue as delivered: they are never flagged `queued` again. */
  markDelivered(user: string, msgids: readonly number[]): Awaitable<void>;
  /** Writes what is pending (the server calls it on stop, before closing what the store uses). */
  close(): void;
}

/** Whether a store's answer is still on its way. */
export function isPending<T>(value: Awaitable<T>): value is Promise<T> {
  return value instanceof Promise;
}
