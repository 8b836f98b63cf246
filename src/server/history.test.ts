import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './database.ts';
import { HistoryStore } from './history.ts';

const dir = mkdtempSync(join(tmpdir(), 'chatlab-historystore-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const say = (from: string, text: string, where: { room?: string; to?: string }, delivered = true) => ({ ts: 1, from, text, delivered, ...where });

describe('HistoryStore', () => {
  it('hands out increasing msgids at once and writes the rows in one batch at the end of the turn', async () => {
    const db = openDatabase(':memory:');
    const store = new HistoryStore(db);
    const count = () => db.prepare('SELECT COUNT(*) FROM messages').pluck().get();
    expect([store.record(say('alice', 'a', { room: 'lobby' })), store.record(say('bob', 'b', { room: 'lobby' }))]).toEqual([1, 2]);
    expect(count()).toBe(0); // not yet written…
    await new Promise((resolve) => setImmediate(resolve));
    expect(count()).toBe(2); // …written after this turn
    store.record(say('alice', 'c', { room: 'lobby' }));
    expect(store.roomTail('lobby', 10).map((m) => m.text)).toEqual(['a', 'b', 'c']); // reads see pending rows
    store.close();
    db.close();
  });

  it('keeps msgids increasing across a reopen, and marks private messages delivered once', () => {
    const path = join(dir, 'h.db');
    let db = openDatabase(path);
    let store = new HistoryStore(db);
    store.record(say('alice', 'hi', { room: 'lobby' }));
    const queued = store.record(say('alice', 'psst', { to: 'bob' }, false));
    store.close();
    db.close();

    db = openDatabase(path);
    store = new HistoryStore(db);
    expect(store.upcomingMsgid).toBe(queued + 1);
    expect(store.undelivered('bob', 10)).toEqual([{ msgid: queued, ts: 1, from: 'alice', to: 'bob', text: 'psst', queued: true }]);
    store.markDelivered('bob', [queued]);
    expect(store.undelivered('bob', 10)).toEqual([]);
    expect(store.privateTail('bob', 10).map((m) => m.text)).toEqual(['psst']);
    expect(store.privateTail('alice', 10).map((m) => m.text)).toEqual(['psst']);
    expect(store.privateTail('carol', 10)).toEqual([]);
    expect(store.conversationPage('bob', 'alice', Number.MAX_SAFE_INTEGER, 10).map((m) => m.msgid)).toEqual([queued]);
    store.close();
    db.close();
  });

  it('pages and tails respect their bounds', () => {
    const db = openDatabase(':memory:');
    const store = new HistoryStore(db);
    for (let i = 1; i <= 6; i++) store.record(say('alice', `m${i}`, { room: i % 2 ? 'odd' : 'even' }));
    expect(store.roomTail('odd', 2).map((m) => m.text)).toEqual(['m3', 'm5']);
    expect(store.roomTail('odd', 10, 3).map((m) => m.text)).toEqual(['m5']);
    expect(store.roomPage('even', 6, 10).map((m) => m.text)).toEqual(['m2', 'm4']);
    expect(store.roomTail('odd', 0)).toEqual([]);
    store.close();
    db.close();
  });

  it('never hands out a msgid twice, even once the newest rows were deleted', () => {
    const path = join(dir, 'hwm.db');
    let db = openDatabase(path);
    let store = new HistoryStore(db);
    for (let i = 0; i < 5; i++) store.record(say('alice', `m${i}`, { room: 'lobby' }));
    store.close();
    db.exec('DELETE FROM messages WHERE msgid > 2'); // as retention or a manual clean-up may
    db.close();
    db = openDatabase(path);
    store = new HistoryStore(db);
    expect(store.upcomingMsgid).toBe(6);
    store.close();
    db.close();
  });

  it('with a scheduler, commits in its before-output hook instead of a timer of its own', async () => {
    const db = openDatabase(':memory:');
    const hooks: Array<() => void> = [];
    let wakes = 0;
    const store = new HistoryStore(db, { scheduler: { beforeOutput: (hook) => hooks.push(hook), wake: () => void wakes++ } });
    const count = () => db.prepare('SELECT COUNT(*) FROM messages').pluck().get();
    store.record(say('alice', 'a', { room: 'lobby' }));
    expect(wakes).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(count()).toBe(0); // no timer of its own: the scheduler decides when
    for (const hook of hooks) hook();
    expect(count()).toBe(1);
    store.close();
    db.close();
  });

  it('keeps the rows pending when their transaction fails, so the next commit still has them', () => {
    const db = openDatabase(':memory:');
    const store = new HistoryStore(db, { scheduler: { beforeOutput: () => {}, wake: () => {} } });
    store.record(say('alice', 'kept', { room: 'lobby' }));
    db.exec(`CREATE TRIGGER refuse BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'disk full, say'); END`);
    expect(() => store.flush()).toThrow(/disk full/);
    db.exec('DROP TRIGGER refuse');
    expect(store.roomTail('lobby', 10).map((m) => m.text)).toEqual(['kept']);
    store.close();
    db.close();
  });
});
