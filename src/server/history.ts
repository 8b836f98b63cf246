import type { ChatDatabase } from './database.ts';
import type { MessageStore, NewMessage, StoredMessage } from './message-store.ts';

export type { NewMessage, StoredMessage } from './message-store.ts';
import type { FlushScheduler } from './outbox.ts';

interface Row {
  msgid: number;
  ts: number;
  sender: string;
  room: string | null;
  recipient: string | null;
  text: string;
}

const COLUMNS = 'msgid, ts, sender, room, recipient, text';
/** The `counters` row holding the highest msgid ever written (see {@link HistoryStore}). */
const LAST_MSGID = 'last_msgid';

/** Options of a {@link HistoryStore}. */
export interface HistoryOptions {
  /** Messages kept per room and per private pair; older delivered ones are deleted (0 keeps all). */
  retainPerConversation?: number;
  /**
   * The server's output scheduler: the turn's batch is then committed by its before-output hook,
   * i.e. before any frame of the turn (an `ok` with the msgid, a relay) is written. Without one
   * (a store used alone) the batch is committed in a `setImmediate` of its own.
   */
  scheduler?: Pick<FlushScheduler, 'beforeOutput' | 'wake'>;
}

/** A conversation that got messages since the last prune: a room, or a private pair. */
type Conversation = { room: string } | { a: string; b: string };

/** A prune pass runs at most this often by time (ms)... */
const PRUNE_INTERVAL_MS = 1_000;
/** ...or once the inserts since the last pass reach this share of the retention, whichever comes first. */
const PRUNE_SHARE = 0.1;

/**
 * Message history in SQLite (the `messages` table). `msgid`s are handed out in memory, so the
 * live `message` carries its id at once; the rows themselves are written in ONE transaction per
 * event-loop turn, which keeps SQLite off the relay's hot path. With the server's
 * {@link FlushScheduler} that transaction runs before the turn's first socket write (see
 * {@link HistoryOptions.scheduler}), so nothing that names a msgid leaves the process before its
 * row is committed: a crash loses only messages nobody was told about. Every read writes what is
 * pending first, so nothing recorded is ever missing from an answer.
 *
 * msgids are never reused: the highest one ever written is kept in the `counters` table, in the
 * same transaction as the rows, so neither retention (which deletes rows) nor a crash (which
 * loses uncommitted ones, never shown to anyone) makes a later message take an earlier id.
 *
 * Retention: the conversations a batch touched are remembered, and in the same transaction as
 * a batch, at most once a second or once a tenth of the retention has been inserted, each of
 * them is cut back to its newest `retainPerConversation` rows (two index lookups per
 * conversation). So a conversation may briefly hold up to a tenth more; undelivered private
 * messages are never deleted.
 */
export class HistoryStore implements MessageStore {
  private nextMsgid: number;
  private pending: NewMessage[] = [];
  private pendingIds: number[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private readonly statements;
  private readonly writeBatch: () => void;
  private readonly retain: number;
  private readonly pruneEvery: number;
  private touched = new Map<string, Conversation>();
  private readonly scheduler: HistoryOptions['scheduler'];
  private insertsSincePrune = 0;
  private lastPruneAt = 0;

  constructor(
    private readonly db: ChatDatabase,
    options: HistoryOptions = {},
  ) {
    this.retain = Math.max(0, Math.floor(options.retainPerConversation ?? 0));
    this.pruneEvery = Math.max(1, Math.ceil(this.retain * PRUNE_SHARE));
    const last = db.prepare<[], number>(`SELECT MAX(COALESCE((SELECT MAX(msgid) FROM messages), 0), COALESCE((SELECT value FROM counters WHERE name = '${LAST_MSGID}'), 0))`).pluck().get();
    this.nextMsgid = (last ?? 0) + 1;
    this.statements = {
      raiseLastMsgid: db.prepare<[number]>(`UPDATE counters SET value = MAX(value, ?) WHERE name = '${LAST_MSGID}'`),
      insert: db.prepare<[number, number, string, string | null, string | null, string, number]>(
        'INSERT INTO messages (msgid, ts, sender, room, recipient, text, delivered) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      roomTail: db.prepare<[string, number, number], Row>(`SELECT ${COLUMNS} FROM messages WHERE room = ? AND msgid > ? ORDER BY msgid DESC LIMIT ?`),
      roomPage: db.prepare<[string, number, number], Row>(`SELECT ${COLUMNS} FROM messages WHERE room = ? AND msgid < ? ORDER BY msgid DESC LIMIT ?`),
      privateTail: db.prepare<[string, number, string, number, number], Row>(
        `SELECT ${COLUMNS} FROM (
           SELECT ${COLUMNS} FROM messages WHERE sender = ? AND recipient IS NOT NULL AND msgid > ?
           UNION ALL
           SELECT ${COLUMNS} FROM messages WHERE recipient = ? AND msgid > ?
         ) ORDER BY msgid DESC LIMIT ?`,
      ),
      conversationPage: db.prepare<[string, string, number, string, string, number, number], Row>(
        `SELECT ${COLUMNS} FROM (
           SELECT ${COLUMNS} FROM messages WHERE sender = ? AND recipient = ? AND msgid < ?
           UNION ALL
           SELECT ${COLUMNS} FROM messages WHERE sender = ? AND recipient = ? AND msgid < ?
         ) ORDER BY msgid DESC LIMIT ?`,
      ),
      undelivered: db.prepare<[string, number], Row>(`SELECT ${COLUMNS} FROM messages WHERE recipient = ? AND delivered = 0 ORDER BY msgid LIMIT ?`),
      markDelivered: db.prepare<[number]>('UPDATE messages SET delivered = 1 WHERE msgid = ?'),
      // The (retain + 1)-th newest msgid of a conversation: it and everything older may go.
      roomCutoff: db.prepare<[string, number], number>('SELECT msgid FROM messages WHERE room = ? ORDER BY msgid DESC LIMIT 1 OFFSET ?').pluck(),
      roomPrune: db.prepare<[string, number]>('DELETE FROM messages WHERE room = ? AND msgid <= ? AND delivered = 1'),
      pairCutoff: db
        .prepare<[string, string, string, string, number], number>(
          `SELECT msgid FROM messages WHERE sender = ? AND recipient = ?
           UNION ALL
           SELECT msgid FROM messages WHERE sender = ? AND recipient = ?
           ORDER BY msgid DESC LIMIT 1 OFFSET ?`,
        )
        .pluck(),
      pairPrune: db.prepare<[string, string, number]>('DELETE FROM messages WHERE sender = ? AND recipient = ? AND msgid <= ? AND delivered = 1'),
    };
    const insertAll = db.transaction((rows: NewMessage[], ids: number[]) => {
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i] as NewMessage;
        this.statements.insert.run(ids[i] as number, row.ts, row.from, row.room ?? null, row.to ?? null, row.text, row.delivered ? 1 : 0);
        if (this.retain > 0) this.touch(row);
      }
      this.statements.raiseLastMsgid.run(ids[ids.length - 1] as number);
      if (this.retain > 0 && this.pruneDue()) this.prune();
    });
    this.writeBatch = () => {
      // If the transaction fails (disk full, database locked) it throws with the rows still
      // pending: nothing naming them may be written while they are not stored.
      insertAll(this.pending, this.pendingIds);
      this.pending = [];
      this.pendingIds = [];
    };
    this.scheduler = options.scheduler;
    this.scheduler?.beforeOutput(this.commitTurn);
  }

  /** The before-output hook: commits the turn's batch (nothing to do once the database is closed). */
  private readonly commitTurn = (): void => {
    // Runs before every socket write: the common case (nothing pending) must cost a length test.
    if (this.pending.length > 0 && this.db.open) this.writeBatch();
  };

  /** Remembers the conversation of a written row for the next prune pass. */
  private touch(row: NewMessage): void {
    this.insertsSincePrune++;
    if (row.room !== undefined) {
      this.touched.set(`#${row.room}`, { room: row.room });
      return;
    }
    const [a, b] = [row.from, row.to as string].sort() as [string, string];
    this.touched.set(`@${a}\n${b}`, { a, b });
  }

  private pruneDue(): boolean {
    return this.insertsSincePrune >= this.pruneEvery || Date.now() - this.lastPruneAt >= PRUNE_INTERVAL_MS;
  }

  /** Cuts every touched conversation back to its newest {@link retain} rows, undelivered ones kept. */
  private prune(): void {
    const { roomCutoff, roomPrune, pairCutoff, pairPrune } = this.statements;
    for (const conversation of this.touched.values()) {
      if ('room' in conversation) {
        const cutoff = roomCutoff.get(conversation.room, this.retain);
        if (cutoff !== undefined) roomPrune.run(conversation.room, cutoff);
        continue;
      }
      const { a, b } = conversation;
      const cutoff = pairCutoff.get(a, b, b, a, this.retain);
      if (cutoff === undefined) continue;
      pairPrune.run(a, b, cutoff);
      pairPrune.run(b, a, cutoff);
    }
    this.touched.clear();
    this.insertsSincePrune = 0;
    this.lastPruneAt = Date.now();
  }

  /** The msgid the next recorded message will get. */
  get upcomingMsgid(): number {
    return this.nextMsgid;
  }

  /** Records a message and returns its msgid at once; the row is written at the end of this turn. */
  record(message: NewMessage): number {
    const msgid = this.nextMsgid++;
    this.pending.push(message);
    this.pendingIds.push(msgid);
    if (this.scheduler) this.scheduler.wake();
    else
      this.scheduled ??= setImmediate(() => {
        this.scheduled = undefined;
        this.commitTurn();
      });
    return msgid;
  }

  /** Writes every pending message now (one transaction). */
  flush(): void {
    if (this.pending.length === 0) return;
    this.writeBatch();
  }

  /** Writes what is pending and stops the timer; call before closing the database. */
  close(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.db.open) this.flush();
  }

  /** The last `limit` messages of a room with msgid > `after`, oldest first. */
  roomTail(room: string, limit: number, after = 0): StoredMessage[] {
    if (limit <= 0) return [];
    this.flush();
    return toMessages(this.statements.roomTail.all(room, after, limit).reverse());
  }

  /** The last `limit` messages of a room with msgid < `before`, oldest first. */
  roomPage(room: string, before: number, limit: number): StoredMessage[] {
    this.flush();
    return toMessages(this.statements.roomPage.all(room, before, limit).reverse());
  }

  /** The last `limit` private messages `user` sent or received with msgid > `after`, oldest first. */
  privateTail(user: string, limit: number, after = 0): StoredMessage[] {
    if (limit <= 0) return [];
    this.flush();
    return toMessages(this.statements.privateTail.all(user, after, user, after, limit).reverse());
  }

  /** The last `limit` private messages between `a` and `b` with msgid < `before`, oldest first. */
  conversationPage(a: string, b: string, before: number, limit: number): StoredMessage[] {
    this.flush();
    return toMessages(this.statements.conversationPage.all(a, b, before, b, a, before, limit).reverse());
  }

  /** Up to `limit` private messages still waiting for `user`, oldest first, flagged `queued`. */
  undelivered(user: string, limit: number): StoredMessage[] {
    this.flush();
    return toMessages(this.statements.undelivered.all(user, limit)).map((message) => ({ ...message, queued: true }));
  }

  /** Marks private messages (of `_user`'s queue) as delivered: they are never flagged `queued` again. */
  markDelivered(_user: string, msgids: readonly number[]): void {
    if (msgids.length === 0) return;
    this.db.transaction(() => {
      for (const msgid of msgids) this.statements.markDelivered.run(msgid);
    })();
  }
}

function toMessages(rows: Row[]): StoredMessage[] {
  return rows.map((row) => ({
    msgid: row.msgid,
    ts: row.ts,
    from: row.sender,
    ...(row.room !== null && { room: row.room }),
    ...(row.recipient !== null && { to: row.recipient }),
    text: row.text,
  }));
}
