import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AccountError, AccountStore } from './accounts.ts';

const CHEAP = { N: 1024, r: 8, p: 1 };
const dir = mkdtempSync(join(tmpdir(), 'chatlab-accounts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('AccountStore', () => {
  it('adds, verifies, lists (sorted) and removes accounts', async () => {
    const store = new AccountStore({ scrypt: CHEAP });
    await store.add('bob', 'builder');
    await store.add('alice', 'wonderland');
    expect(store.list()).toEqual(['alice', 'bob']);
    expect(await store.verify('alice', 'wonderland')).toBe(true);
    expect(await store.verify('alice', 'builder')).toBe(false);
    expect(await store.verify('Alice', 'wonderland')).toBe(false); // names are case-sensitive
    expect(await store.verify('nobody', 'wonderland')).toBe(false);
    expect(store.remove('bob')).toBe(true);
    expect(store.remove('bob')).toBe(false);
    expect(store.list()).toEqual(['alice']);
    store.close();
  });

  it('stores a salted scrypt hash, never the clear text (not even in the file)', async () => {
    const path = join(dir, 'hash.db');
    const store = new AccountStore({ db: path, scrypt: CHEAP });
    await store.add('alice', 'wonderland-secret');
    expect(store.storedHash('alice')).toMatch(/^scrypt\$N=1024,r=8,p=1\$/);
    store.close();
    for (const file of [path, `${path}-wal`]) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch {
        continue; // the WAL may have been checkpointed away
      }
      expect(bytes.includes('wonderland-secret')).toBe(false);
    }
    const reopened = new AccountStore({ db: path });
    expect(await reopened.verify('alice', 'wonderland-secret')).toBe(true);
    reopened.close();
  });

  it('refuses a taken name with user_exists, even when two adds race', async () => {
    const store = new AccountStore({ scrypt: CHEAP });
    await store.add('alice', 'wonderland');
    await expect(store.add('alice', 'other')).rejects.toMatchObject({ code: 'user_exists' });
    const race = await Promise.allSettled([store.add('bob', 'one'), store.add('bob', 'two')]);
    expect(race.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = race.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(AccountError);
    expect(rejected.reason.code).toBe('user_exists');
    store.close();
  });

  it('refuses malformed names and passwords', async () => {
    const store = new AccountStore({ scrypt: CHEAP });
    await expect(store.add('no spaces', 'password')).rejects.toMatchObject({ code: 'bad_request' });
    await expect(store.add('x'.repeat(33), 'password')).rejects.toMatchObject({ code: 'bad_request' });
    await expect(store.add('alice', '')).rejects.toMatchObject({ code: 'bad_request' });
    store.close();
  });

  it('spends about the same time on an unknown user as on a wrong password', async () => {
    const store = new AccountStore(); // the real cost, so the difference would be visible
    await store.add('alice', 'wonderland');
    const median = async (check: () => Promise<boolean>) => {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const start = performance.now();
        expect(await check()).toBe(false);
        times.push(performance.now() - start);
      }
      return times.sort((a, b) => a - b)[1] as number;
    };
    const wrongPassword = await median(() => store.verify('alice', 'nope'));
    const unknownUser = await median(() => store.verify('nobody', 'nope'));
    // Without the decoy check an unknown user would answer ~100× faster; allow generous noise.
    expect(unknownUser).toBeGreaterThan(wrongPassword * 0.3);
    store.close();
  });

  it('refuses a look-alike of an existing name, saying which one, and logs in by the exact name only', async () => {
    const store = new AccountStore({ scrypt: CHEAP });
    await store.add('alice', 'wonderland');
    for (const name of ['Alice', 'a1ice', 'ALICE', 'aIice']) {
      const error = await store.add(name, 'other-pw').catch((caught: unknown) => caught);
      expect(error, name).toBeInstanceOf(AccountError);
      expect(error).toMatchObject({ code: 'user_exists', existing: 'alice', message: `the name "${name}" is too similar to the existing user "alice"` });
    }
    // Two look-alikes racing through the hashing: the unique index settles it.
    const results = await Promise.allSettled([store.add('bob-x', 'pw-one'), store.add('B0B_X', 'pw-two')]);
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(store.list()).toHaveLength(2);
    expect(await store.verify('Alice', 'wonderland')).toBe(false);
    store.close();
  });

  it('checks unknown users against a decoy with the cost of the newest stored hash', async () => {
    const path = join(dir, 'decoy.db');
    const first = new AccountStore({ db: path, scrypt: CHEAP });
    const params = (hash: string) =>
      /^scrypt\$(N=\d+,r=\d+,p=\d+)\$[^$]+\$([^$]+)$/
        .exec(hash)
        ?.slice(1)
        .map((part, i) => (i === 1 ? Buffer.from(part, 'base64').length : part));
    expect(params(first.decoyHash())).toEqual(['N=1024,r=8,p=1', 32]); // no account yet: its own cost
    await first.add('alice', 'wonderland');
    first.close();
    // A store configured with another cost still checks unknown users at the cost stored hashes have…
    const second = new AccountStore({ db: path, scrypt: { N: 2048, r: 4, p: 1 } });
    expect(params(second.decoyHash())).toEqual(['N=1024,r=8,p=1', 32]);
    // …and follows the newest hash once it adds one.
    await second.add('bob', 'builder');
    expect(params(second.decoyHash())).toEqual(['N=2048,r=4,p=1', 32]);
    second.close();
  });
});
