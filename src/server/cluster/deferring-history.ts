/**
 * A cluster node's message store: Redis ({@link RedisHistory} or any {@link MessageStore}), and,
 * while Redis cannot record, the node's spool. A message Redis cannot record (unreachable) is kept
 * in the spool (committed to disk) and answered {@link DEFERRED}: the core relays it at once to the
 * users of this node and answers `ok` with `deferred`; the {@link SpoolFlusher} records it and
 * relays it to the other nodes once Redis is back. If the spool cannot keep it either (full, or
 * its file cannot be written), the record fails as before: `internal`, nothing stored, nothing sent.
 *
 * Order: once a message is in the spool, every later one goes there too, behind it, until the
 * spool is empty again, so the other nodes get one sender's messages in the order they were said.
 * A record that was already on its way to Redis when an earlier one was deferred is the exception
 * (it may be stored first): only when Redis comes back within one round trip of failing.
 * Reads (history, replays) go to Redis alone: a deferred message is not in them until recorded.
 *
 * Once: every record carries a token unique in the cluster (`<incarnation>:<counter>`), kept in
 * its spool row if it is deferred. A record whose answer was lost ({@link OutcomeUnknownError}:
 * it was sent, then the connection broke or the command timed out) may have been committed; its
 * row is marked uncertain, and the flusher's record looks for the token first (see
 * `redis-history.ts`), so the message is not stored twice.
 */
import { DEFERRED, isPending, type Awaitable, type MessageStore, type NewMessage, type Recorded, type StoredMessage } from '../message-store.ts';
import type { Hub } from '../hub.ts';
import { OutcomeUnknownError, UnavailableError } from '../unavailable.ts';
import type { OutageSpool } from './outage-spool.ts';
import type { SpoolFlusher } from './spool-flusher.ts';

/** The store a cluster node's core uses (see the module comment). */
export class DeferringHistory implements MessageStore {
  /** Records asked for so far: the counter of their tokens. */
  private tokens = 0;

  /** @param tokenPrefix this node's incarnation, unique in the cluster: the first part of every token. */
  constructor(
    /** The shared store it records in while that answers (Redis). */
    readonly store: MessageStore,
    private readonly spool: OutageSpool,
    private readonly flusher: SpoolFlusher,
    private readonly hub: Hub,
    private readonly tokenPrefix: string,
  ) {}

  record(message: NewMessage): Awaitable<Recorded> {
    const tokened: NewMessage & { token: string } = { ...message, token: `${this.tokenPrefix}:${++this.tokens}` };
    if (this.spool.holds || this.flusher.busy) return this.defer(tokened, undefined);
    const recorded = this.store.record(tokened);
    if (!isPending(recorded)) return recorded;
    return recorded.then(undefined, (error: unknown) => {
      if (!(error instanceof UnavailableError)) throw error;
      return this.defer(tokened, error);
    });
  }

  /** Keeps `message` in the spool (behind what it holds), or fails with `cause` if it cannot. */
  private defer(message: NewMessage & { token: string }, cause: UnavailableError | undefined): Promise<Recorded> {
    const target = message.to !== undefined ? this.hub.member(message.to) : undefined;
    const uncertain = cause instanceof OutcomeUnknownError;
    if (!this.spool.add({ ...message, uncertain, deliveredHere: target !== undefined && target.node === undefined })) {
      return Promise.reject(cause ?? new UnavailableError(`the cluster store (Redis) has not recorded this server's ${this.spool.size} earlier messages yet, and no more can wait`));
    }
    // Redis may be back already (the spool was being flushed): this one is recorded behind the others.
    void this.flusher.flush();
    return Promise.resolve(DEFERRED);
  }

  roomTail(room: string, limit: number, after?: number): Awaitable<StoredMessage[]> {
    return this.store.roomTail(room, limit, after);
  }

  roomPage(room: string, before: number, limit: number): Awaitable<StoredMessage[]> {
    return this.store.roomPage(room, before, limit);
  }

  privateTail(user: string, limit: number, after?: number): Awaitable<StoredMessage[]> {
    return this.store.privateTail(user, limit, after);
  }

  conversationPage(a: string, b: string, before: number, limit: number): Awaitable<StoredMessage[]> {
    return this.store.conversationPage(a, b, before, limit);
  }

  undelivered(user: string, limit: number): Awaitable<StoredMessage[]> {
    return this.store.undelivered(user, limit);
  }

  markDelivered(user: string, msgids: readonly number[]): Awaitable<void> {
    return this.store.markDelivered(user, msgids);
  }

  close(): void {
    this.flusher.close();
    this.store.close();
    this.spool.close();
  }
}
