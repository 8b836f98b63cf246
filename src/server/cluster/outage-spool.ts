/**
 * A cluster node's spool: the messages it could not record in Redis (Redis away), kept on disk in
 * a SQLite file until they are recorded, so that an `ok` with `deferred` survives the node being
 * killed. One file may be shared by every node started in one directory (SQLite serialises their
 * writes): each row names the node that wrote it (`origin`) and the node that is to record it
 * (`owner`, the same at first). A node renews a lease in the file while it owns rows; the rows of
 * a node whose lease ran out (killed, or stopped before Redis came back) are claimed by the next
 * node that looks, in one transaction, so two nodes never record the same row.
 *
 * Each row keeps the token its message was (or will be) recorded with (see `redis-history.ts`),
 * and whether a record of it may have been committed already (`uncertain`): its first record's
 * answer was lost, or it was being flushed (`sent`) by a node that is gone. Such a row is recorded
 * with a search for its token first, so it is stored once.
 *
 * The file is created at the first deferred message, not at start-up: a node that never saw an
 * outage leaves nothing behind. A file that exists at start-up is opened at once (a node killed
 * there may have left rows).
 */
import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { NewMessage } from '../message-store.ts';

export { DEFAULT_SPOOL_FILE } from './defaults.ts';
/** Messages one node may hold in the spool at most; one more is refused (`internal`, nothing sent). */
export const SPOOL_MAX_MESSAGES = 10_000;
/** Bytes of text (UTF-8) one node may hold in the spool at most. */
export const SPOOL_MAX_BYTES = 16 * 1024 * 1024;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  origin    TEXT NOT NULL,
  owner     TEXT NOT NULL,
  ts        INTEGER NOT NULL,
  sender    TEXT NOT NULL,
  room      TEXT,
  recipient TEXT,
  text      TEXT NOT NULL,
  delivered INTEGER NOT NULL,
  bytes     INTEGER NOT NULL,
  token     TEXT NOT NULL,
  sent      INTEGER NOT NULL DEFAULT 0,
  uncertain INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS messages_by_owner ON messages (owner, seq);
CREATE TABLE IF NOT EXISTS owners (
  owner   TEXT PRIMARY KEY NOT NULL,
  expires INTEGER NOT NULL
) STRICT;`;

/** The spool file cannot be used; `message` is one line (the path and why). */
export class SpoolError extends Error {}

/** A message to keep: what the store was asked to record, and whether its private recipient has it. */
export interface SpoolEntry extends NewMessage {
  /** A private message whose recipient is on this node and got it already (room messages: unused). */
  deliveredHere: boolean;
  /** The token it is recorded with (see {@link NewMessage.token}). */
  token: string;
  /** A record of it was sent and its answer lost: it may be stored already. */
  uncertain: boolean;
}

/** A message read back from the spool, in the order it was kept. */
export interface SpooledMessage {
  seq: number;
  ts: number;
  from: string;
  room?: string;
  to?: string;
  text: string;
  /** A private message its recipient got live from the node that kept it. */
  deliveredHere: boolean;
  /** Kept by this node (its users had it live), not claimed from a node that is gone. */
  own: boolean;
  /** The token it is recorded with. */
  token: string;
  /** It may be stored already (its token is then searched for first). */
  uncertain: boolean;
}

/** Options of {@link OutageSpool.open}. */
export interface OutageSpoolOptions {
  /** The SQLite file (see {@link DEFAULT_SPOOL_FILE}). */
  path: string;
  /** This node's name in the file (its incarnation). */
  owner: string;
  /** How long the node's claim on its rows lasts without renewal, in ms. */
  leaseMs: number;
  maxMessages?: number;
  maxBytes?: number;
  /** Where failures to write are reported (one line each). */
  log?: (line: string) => void;
}

type Row = {
  seq: number;
  origin: string;
  ts: number;
  sender: string;
  room: string | null;
  recipient: string | null;
  text: string;
  delivered: number;
  token: string;
  uncertain: number;
};

/** The spool of one node (see the module comment). */
export class OutageSpool {
  private db: Database.Database | undefined;
  /** This node's rows and their text bytes, counted here so `holds` costs nothing per message. */
  private rows = 0;
  private bytes = 0;
  private renewedAt = 0;
  private readonly maxMessages: number;
  private readonly maxBytes: number;

  private constructor(private readonly options: OutageSpoolOptions) {
    this.maxMessages = options.maxMessages ?? SPOOL_MAX_MESSAGES;
    this.maxBytes = options.maxBytes ?? SPOOL_MAX_BYTES;
  }

  /**
   * Checks that the spool can be used: an existing file is opened (it may hold a dead node's
   * rows), a missing one only checked for (its directory must be writable).
   * @throws SpoolError with one line saying why.
   */
  static open(options: OutageSpoolOptions): OutageSpool {
    const spool = new OutageSpool(options);
    const { path } = options;
    if (existsSync(path)) {
      if (statSync(path).isDirectory()) throw new SpoolError(`cannot use spool "${path}": it is a directory, not a file`);
      spool.connect();
    } else {
      const directory = dirname(resolve(path));
      try {
        accessSync(directory, constants.W_OK);
      } catch {
        throw new SpoolError(`cannot use spool "${path}": ${existsSync(directory) ? `the directory ${directory} is not writable` : `the directory ${directory} does not exist`}`);
      }
    }
    return spool;
  }

  /** Whether this node holds rows not recorded yet (a new message must then wait behind them). */
  get holds(): boolean {
    return this.rows > 0;
  }

  /** This node's rows now. */
  get size(): number {
    return this.rows;
  }

  /**
   * Keeps a message, committed to the file before this returns. False (nothing kept; said in the
   * log) when this node's bound is reached or the file cannot be written.
   */
  add(entry: SpoolEntry): boolean {
    const bytes = Buffer.byteLength(entry.text);
    if (this.rows >= this.maxMessages || this.bytes + bytes > this.maxBytes) return false;
    try {
      const db = this.connect();
      const { owner, leaseMs } = this.options;
      db.transaction(() => {
        this.writeLease(db, Date.now() + leaseMs);
        db.prepare('INSERT INTO messages (origin, owner, ts, sender, room, recipient, text, delivered, bytes, token, uncertain) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
          owner,
          owner,
          entry.ts,
          entry.from,
          entry.room ?? null,
          entry.to ?? null,
          entry.text,
          entry.deliveredHere ? 1 : 0,
          bytes,
          entry.token,
          entry.uncertain ? 1 : 0,
        );
      }).immediate();
    } catch (error) {
      this.log(`chatlab cluster: cannot write to spool "${this.options.path}": ${error instanceof Error ? error.message : String(error)}`);
      return false;
    }
    this.rows++;
    this.bytes += bytes;
    return true;
  }

  /**
   * Takes over the rows of every node whose lease in the file ran out, atomically (one
   * transaction: another node claiming at the same time gets none of them). Returns how many.
   * A row that node was flushing ({@link markSent}) may be stored already: it becomes uncertain.
   */
  claimOrphans(): number {
    const db = this.db;
    if (!db) return 0;
    const now = Date.now();
    const { owner } = this.options;
    const claimed = db
      .transaction(() => {
        const { changes } = db
          .prepare('UPDATE messages SET owner = ?, uncertain = max(uncertain, sent) WHERE owner <> ? AND owner NOT IN (SELECT owner FROM owners WHERE expires > ?)')
          .run(owner, owner, now);
        db.prepare('DELETE FROM owners WHERE owner <> ? AND expires <= ?').run(owner, now);
        if (changes > 0) this.writeLease(db, now + this.options.leaseMs);
        return changes;
      })
      .immediate();
    if (claimed > 0) this.recount();
    return claimed;
  }

  /** This node's oldest `limit` rows, in the order they were kept. */
  oldest(limit: number): SpooledMessage[] {
    if (!this.db || this.rows === 0) return [];
    const rows = this.db
      .prepare('SELECT seq, origin, ts, sender, room, recipient, text, delivered, token, uncertain FROM messages WHERE owner = ? ORDER BY seq LIMIT ?')
      .all(this.options.owner, limit) as Row[];
    return rows.map((row) => ({
      seq: row.seq,
      ts: row.ts,
      from: row.sender,
      ...(row.room !== null && { room: row.room }),
      ...(row.recipient !== null && { to: row.recipient }),
      text: row.text,
      deliveredHere: row.delivered === 1,
      own: row.origin === this.options.owner,
      token: row.token,
      uncertain: row.uncertain === 1,
    }));
  }

  /**
   * Notes that records of these rows (this node's, from {@link oldest}) are about to be sent: if
   * this node dies before deleting them, the node that claims them searches for their tokens.
   */
  markSent(messages: readonly SpooledMessage[]): void {
    const first = messages[0];
    const last = messages.at(-1);
    if (!this.db || !first || !last) return;
    this.db.prepare('UPDATE messages SET sent = 1 WHERE owner = ? AND seq BETWEEN ? AND ? AND sent = 0').run(this.options.owner, first.seq, last.seq);
  }

  /** Notes that a record of this row was sent and its answer lost: the next one searches for its token. */
  markUncertain(message: SpooledMessage): void {
    if (!this.db || message.uncertain) return;
    this.db.prepare('UPDATE messages SET uncertain = 1 WHERE seq = ? AND owner = ?').run(message.seq, this.options.owner);
  }

  /** Deletes a row once Redis recorded it. */
  remove(message: SpooledMessage): void {
    if (!this.db) return;
    const { changes } = this.db.prepare('DELETE FROM messages WHERE seq = ? AND owner = ?').run(message.seq, this.options.owner);
    if (changes === 0) return;
    this.rows--;
    this.bytes -= Buffer.byteLength(message.text);
    if (this.rows === 0) this.db.prepare('DELETE FROM owners WHERE owner = ?').run(this.options.owner);
  }

  /** Renews this node's lease on its rows (called a few times per lease while it holds any). */
  renew(): void {
    if (!this.db || this.rows === 0) return;
    const now = Date.now();
    if (now - this.renewedAt < this.options.leaseMs / 4) return;
    try {
      this.writeLease(this.db, now + this.options.leaseMs);
      // Another node may have claimed them (this one was paused longer than its lease).
      this.recount();
    } catch (error) {
      this.log(`chatlab cluster: cannot renew the lease in spool "${this.options.path}": ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Whether the file holds rows of other nodes (perhaps to claim once their lease runs out). */
  hasOthers(): boolean {
    if (!this.db) return false;
    return this.db.prepare('SELECT 1 FROM messages WHERE owner <> ? LIMIT 1').get(this.options.owner) !== undefined;
  }

  /**
   * Closes the file. Rows this node still holds (Redis still away) are left to whichever node
   * looks next: its lease ends now, so they are claimed at once, not a lease later.
   */
  close(): void {
    const db = this.db;
    if (!db) return;
    this.db = undefined;
    try {
      if (this.rows > 0) this.writeLease(db, 0);
      else db.prepare('DELETE FROM owners WHERE owner = ?').run(this.options.owner);
    } catch {
      // The lease then runs out by itself.
    }
    db.close();
  }

  private connect(): Database.Database {
    if (this.db) return this.db;
    const { path } = this.options;
    let db: Database.Database | undefined;
    try {
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      // As the SQLite history: a killed process loses nothing committed (a power cut may lose the last commits).
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 2000');
      db.exec(SCHEMA);
    } catch (error) {
      db?.close();
      throw new SpoolError(`cannot use spool "${path}": ${error instanceof Error ? error.message : String(error)}`);
    }
    this.db = db;
    this.recount();
    return db;
  }

  private writeLease(db: Database.Database, expires: number): void {
    db.prepare('INSERT INTO owners (owner, expires) VALUES (?, ?) ON CONFLICT (owner) DO UPDATE SET expires = excluded.expires').run(this.options.owner, expires);
    this.renewedAt = Date.now();
  }

  private recount(): void {
    const { rows, bytes } = (this.db as Database.Database).prepare('SELECT count(*) AS rows, total(bytes) AS bytes FROM messages WHERE owner = ?').get(this.options.owner) as {
      rows: number;
      bytes: number;
    };
    this.rows = rows;
    this.bytes = bytes;
  }

  private log(line: string): void {
    (this.options.log ?? ((text: string) => process.stderr.write(`${text}\n`)))(line);
  }
}
