import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { DatabaseError, MIGRATIONS, SCHEMA_VERSION, openDatabase } from './database.ts';

const dir = mkdtempSync(join(tmpdir(), 'chatlab-db-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('openDatabase', () => {
  it('creates the schema, records its version, and uses WAL for files', () => {
    const path = join(dir, 'fresh.db');
    const db = openDatabase(path);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all()).toContain('users');
    db.close();
    const again = openDatabase(path); // reopening migrates nothing and keeps the data
    expect(again.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    again.close();
  });

  it('opens a throwaway in-memory database', () => {
    const db = openDatabase(':memory:');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('explains a missing directory in one line', () => {
    const path = join(dir, 'no', 'such', 'dir', 'chat.db');
    expect(() => openDatabase(path)).toThrow(DatabaseError);
    expect(() => openDatabase(path)).toThrow(/directory .* does not exist/);
  });

  it('explains a file that is not a database in one line', () => {
    const path = join(dir, 'corrupt.db');
    writeFileSync(path, 'this is definitely not a SQLite database\n'.repeat(200));
    expect(() => openDatabase(path)).toThrow(`cannot use database "${path}": the file is not a SQLite database (or it is corrupt)`);
  });

  it('explains a directory given as the file', () => {
    expect(() => openDatabase(dir)).toThrow(/is a directory/);
  });

  it('refuses a database from a newer chatlab', () => {
    const path = join(dir, 'future.db');
    const future = new Database(path);
    future.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    future.close();
    expect(() => openDatabase(path)).toThrow(/newer than this chatlab understands/);
  });

  it('migrates an older database holding look-alike names: all keep working, the oldest holds the name', () => {
    const path = join(dir, 'lookalikes.db');
    const old = new Database(path);
    for (const migration of MIGRATIONS.slice(0, 4)) old.exec(migration);
    old.pragma('user_version = 4');
    const insert = old.prepare('INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)');
    insert.run('a1ice', 'x', 2);
    insert.run('alice', 'x', 1);
    insert.run('Alice', 'x', 1);
    insert.run('bob', 'x', 3);
    old.close();
    const db = openDatabase(path);
    const skeletons = db.prepare('SELECT name, skeleton FROM users ORDER BY name').all();
    expect(skeletons).toEqual([
      { name: 'Alice', skeleton: 'allce' }, // oldest (created_at 1), then first by name
      { name: 'a1ice', skeleton: null },
      { name: 'alice', skeleton: null },
      { name: 'bob', skeleton: 'bob' },
    ]);
    expect(() => db.prepare("INSERT INTO users (name, password_hash, created_at, skeleton) VALUES ('ALICE', 'x', 4, 'allce')").run()).toThrow(/UNIQUE/);
    db.close();
  });
});
