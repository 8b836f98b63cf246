import Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { nameSkeletonSql } from './name-skeleton.ts';

/** The server's SQLite handle (better-sqlite3). */
export type ChatDatabase = Database.Database;

/** A database that cannot be used; `message` is the one line to show (no stack trace needed). */
export class DatabaseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseError';
  }
}

/**
 * The schema, one migration per version. `PRAGMA user_version` records how many have run, so a
 * later feature (history, offline private messages, rooms) appends a migration and old databases
 * are brought up to date on open. Never edit a migration that has shipped; add a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: accounts. Names are case-sensitive, as in the protocol; the hash is self-describing.
  `CREATE TABLE users (
     name          TEXT PRIMARY KEY NOT NULL,
     password_hash TEXT NOT NULL,
     created_at    INTEGER NOT NULL
   ) STRICT`,
  // 2: message history. `msgid` is assigned by the server (strictly increasing); a room message has
  // `room`, a private one `recipient`; `delivered` = 0 marks a private message waiting for its
  // offline recipient. No foreign key to users: history outlives a removed account.
  `CREATE TABLE messages (
     msgid     INTEGER PRIMARY KEY,
     ts        INTEGER NOT NULL,
     sender    TEXT NOT NULL,
     room      TEXT,
     recipient TEXT,
     text      TEXT NOT NULL,
     delivered INTEGER NOT NULL DEFAULT 1,
     CHECK ((room IS NULL) <> (recipient IS NULL))
   ) STRICT;
   CREATE INDEX messages_by_room ON messages (room, msgid) WHERE room IS NOT NULL;
   CREATE INDEX messages_by_sender ON messages (sender, msgid) WHERE recipient IS NOT NULL;
   CREATE INDEX messages_by_recipient ON messages (recipient, msgid) WHERE recipient IS NOT NULL;
   CREATE INDEX messages_undelivered ON messages (recipient, msgid) WHERE delivered = 0`,
  // 3: one private conversation (sender → recipient) in msgid order, so retention can find a
  // pair's oldest rows and delete them without scanning everything either user ever sent.
  `CREATE INDEX messages_by_pair ON messages (sender, recipient, msgid) WHERE recipient IS NOT NULL`,
  // 4: the highest msgid ever written, raised in the same transaction as each batch of messages,
  // so a msgid is never handed out twice even after retention deleted the newest rows. (Chosen
  // over AUTOINCREMENT: that needs SQLite to assign ids at insert time, one synchronous insert per
  // message, and adding it to an existing table means copying the whole table.)
  `CREATE TABLE counters (
     name  TEXT PRIMARY KEY NOT NULL,
     value INTEGER NOT NULL
   ) STRICT;
   INSERT INTO counters (name, value) SELECT 'last_msgid', COALESCE(MAX(msgid), 0) FROM messages`,
  // 5: look-alike names (see name-skeleton.ts): each account's skeleton, unique. Accounts an older
  // chatlab let in with the same skeleton all keep working: the oldest (then the first by name)
  // holds the skeleton, the others get NULL (which a unique index allows any number of times),
  // so none can be the model of a new look-alike either.
  `ALTER TABLE users ADD COLUMN skeleton TEXT;
   UPDATE users SET skeleton = ${nameSkeletonSql('name')};
   WITH ranked AS (
     SELECT name, ROW_NUMBER() OVER (PARTITION BY skeleton ORDER BY created_at, name) AS rank FROM users
   )
   UPDATE users SET skeleton = NULL WHERE name IN (SELECT name FROM ranked WHERE rank > 1);
   CREATE UNIQUE INDEX users_by_skeleton ON users (skeleton)`,
];

/** The schema version this code writes and understands. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Where ':memory:' means a throwaway database that lives as long as the server. */
export const MEMORY_DATABASE = ':memory:';

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /**
   * Open only a database that already exists (default false: create it). Commands that only read
   * or remove must not leave an empty database behind a mistyped name; ':memory:' is refused too,
   * as it would always be empty.
   */
  mustExist?: boolean;
}

/**
 * Opens (creating if needed, unless `mustExist`) the server's database and migrates it to
 * {@link SCHEMA_VERSION}. Files use WAL journaling so readers never wait for the writer.
 * @throws DatabaseError with a one-line explanation when the path cannot be used.
 */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): ChatDatabase {
  const label = path === MEMORY_DATABASE ? 'the in-memory database' : `database "${path}"`;
  const mustExist = options.mustExist ?? false;
  if (mustExist && path === MEMORY_DATABASE) {
    throw new DatabaseError(`--db ${MEMORY_DATABASE} is a throwaway database that lives inside one server process: name a database file`);
  }
  if (path !== MEMORY_DATABASE) checkPath(path);
  if (mustExist && !existsSync(path)) throw missingDatabase(path);
  let db: ChatDatabase | undefined;
  try {
    // fileMustExist also covers a file removed between the check above and this open.
    db = new Database(path, { fileMustExist: mustExist });
    // Reading the schema forces SQLite to read the header: a file that is not a database fails here.
    if (path !== MEMORY_DATABASE) db.pragma('journal_mode = WAL');
    // In WAL mode, NORMAL syncs at checkpoints, not at every commit: history commits once per
    // event-loop turn, and an fsync each time would stall the relay. A crash of the process loses
    // nothing committed; a power cut may lose the last commits (see docs/architecture.md).
    if (path !== MEMORY_DATABASE) db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 2000');
    migrate(db, label);
    return db;
  } catch (error) {
    try {
      db?.close();
    } catch {
      // Already unusable; the original error is what matters.
    }
    if (error instanceof DatabaseError) throw error;
    throw new DatabaseError(`cannot use ${label}: ${explain(error)}`, { cause: error });
  }
}

function missingDatabase(path: string): DatabaseError {
  return new DatabaseError(`no database "${path}": the file does not exist (check the name; "chatlab users add <name> --db ${path}" creates it)`);
}

function checkPath(path: string): void {
  const directory = dirname(resolve(path));
  if (!existsSync(directory)) {
    throw new DatabaseError(`cannot use database "${path}": the directory ${directory} does not exist`);
  }
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new DatabaseError(`cannot use database "${path}": it is a directory, not a file`);
  }
}

function migrate(db: ChatDatabase, label: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new DatabaseError(`cannot use ${label}: its schema version is ${version}, newer than this chatlab understands (${SCHEMA_VERSION}); upgrade chatlab`);
  }
  if (version === SCHEMA_VERSION) return;
  db.transaction(() => {
    for (let next = version; next < SCHEMA_VERSION; next++) db.exec(MIGRATIONS[next] as string);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

function explain(error: unknown): string {
  const code = (error as { code?: string }).code;
  switch (code) {
    case 'SQLITE_NOTADB':
      return 'the file is not a SQLite database (or it is corrupt)';
    case 'SQLITE_CORRUPT':
      return 'the database file is corrupt';
    case 'SQLITE_CANTOPEN':
    case 'EACCES':
      return 'the file cannot be opened (check that it exists and that you may read and write it)';
    case 'SQLITE_READONLY':
      return 'the database is read-only (check the file and directory permissions)';
    case 'SQLITE_BUSY':
      return 'the database is locked by another process';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
