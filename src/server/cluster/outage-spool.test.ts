import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutageSpool, SpoolError, type OutageSpoolOptions, type SpoolEntry } from './outage-spool.ts';

let dir: string;
const opened: OutageSpool[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chatlab-spool-test-'));
});
afterEach(() => {
  for (const spool of opened.splice(0)) spool.close();
  rmSync(dir, { recursive: true, force: true });
});

function spool(owner: string, options: Partial<OutageSpoolOptions> = {}): OutageSpool {
  const made = OutageSpool.open({ path: join(dir, 'spool.db'), owner, leaseMs: 60_000, log: () => {}, ...options });
  opened.push(made);
  return made;
}

let tokens = 0;

function lobby(text: string): SpoolEntry {
  return { ts: 1, from: 'alice', room: 'lobby', text, delivered: true, deliveredHere: false, token: `A/1:${++tokens}`, uncertain: false };
}

describe('OutageSpool', () => {
  it('creates its file at the first message only, and gives its rows back in order', () => {
    const a = spool('A/1');
    expect(existsSync(join(dir, 'spool.db'))).toBe(false);
    expect(a.add(lobby('one'))).toBe(true);
    expect(a.add({ ts: 2, from: 'alice', to: 'bob', text: 'two', delivered: true, deliveredHere: true, token: 'A/1:two', uncertain: true })).toBe(true);
    expect(existsSync(join(dir, 'spool.db'))).toBe(true);
    const rows = a.oldest(10);
    expect(rows).toEqual([
      { seq: expect.any(Number), ts: 1, from: 'alice', room: 'lobby', text: 'one', deliveredHere: false, own: true, token: expect.stringMatching(/^A\/1:\d+$/), uncertain: false },
      { seq: expect.any(Number), ts: 2, from: 'alice', to: 'bob', text: 'two', deliveredHere: true, own: true, token: 'A/1:two', uncertain: true },
    ]);
    a.remove(rows[0]!);
    expect(a.oldest(10).map((row) => row.text)).toEqual(['two']);
    a.remove(rows[1]!);
    expect(a.holds).toBe(false);
  });

  it('refuses a message over its bounds (messages, then bytes), keeping nothing of it', () => {
    const few = spool('A/1', { maxMessages: 2 });
    expect(few.add(lobby('1'))).toBe(true);
    expect(few.add(lobby('2'))).toBe(true);
    expect(few.add(lobby('3'))).toBe(false);
    expect(few.oldest(10).map((row) => row.text)).toEqual(['1', '2']);
    const small = spool('B/1', { maxBytes: 5 });
    expect(small.add(lobby('é€'))).toBe(true); // 5 bytes in UTF-8
    expect(small.add(lobby('x'))).toBe(false);
  });

  it("leaves a live node's rows alone; a node stopped with rows left gives them up at once, to one claimer only", () => {
    const a = spool('A/1');
    a.add(lobby('kept by A'));
    const b = spool('B/1');
    const c = spool('C/1');
    expect(b.claimOrphans()).toBe(0);
    a.close();
    expect(b.claimOrphans()).toBe(1);
    expect(c.claimOrphans()).toBe(0);
    expect(b.oldest(10)).toEqual([expect.objectContaining({ text: 'kept by A', own: false })]);
    expect(c.oldest(10)).toEqual([]);
  });

  it('lets a node started again claim the rows of one that was killed, once its lease ran out', () => {
    const killed = spool('A/1', { leaseMs: 0 }); // its lease is over at once, as if it stopped renewing it
    killed.add(lobby('said before the crash'));
    const again = spool('A/2');
    expect(again.claimOrphans()).toBe(1);
    expect(again.oldest(10).map((row) => row.text)).toEqual(['said before the crash']);
    expect(again.holds).toBe(true);
  });

  it('keeps a token per row; a row its dead owner was flushing (sent) is claimed uncertain, the others certain', () => {
    const killed = spool('A/1', { leaseMs: 0 });
    killed.add(lobby('being flushed'));
    killed.add(lobby('waiting'));
    killed.markSent(killed.oldest(1));
    const again = spool('A/2');
    expect(again.claimOrphans()).toBe(2);
    const rows = again.oldest(10);
    expect(rows.map(({ text, uncertain }) => ({ text, uncertain }))).toEqual([
      { text: 'being flushed', uncertain: true },
      { text: 'waiting', uncertain: false },
    ]);
    again.markUncertain(rows[1]!);
    expect(again.oldest(10).map((row) => row.uncertain)).toEqual([true, true]);
  });

  it('says in one line why a path cannot be used', () => {
    expect(() => spool('A/1', { path: join(dir, 'missing', 'spool.db') })).toThrow(
      new SpoolError(`cannot use spool "${join(dir, 'missing', 'spool.db')}": the directory ${join(dir, 'missing')} does not exist`),
    );
    expect(() => spool('A/1', { path: dir })).toThrow(SpoolError);
  });
});
