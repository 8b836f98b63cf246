import { describe, expect, it } from 'vitest';
import { AccountStore } from './accounts.ts';
import { importAccounts, parseAccountLines, type ImportProgress } from './account-import.ts';

const CHEAP = { N: 2, r: 1, p: 1 };

describe('parseAccountLines', () => {
  it('reads name:password lines, skipping blanks and comments, the password after the first colon', () => {
    expect(parseAccountLines('# comment\nalice:wonderland\n\nbob:a:b:c:d\r\n')).toEqual({
      entries: [
        { line: 2, user: 'alice', password: 'wonderland' },
        { line: 4, user: 'bob', password: 'a:b:c:d' },
      ],
      failures: [],
    });
  });

  it('reports every bad line by number and keeps the good ones', () => {
    const { entries, failures } = parseAccountLines('alice:wonderland\nnocolon\nbad!:password1\nshort:12345\nalice:again123\ncarol:caroline');
    expect(entries.map((entry) => entry.user)).toEqual(['alice', 'carol']);
    expect(failures).toEqual([
      { line: 2, message: 'expected name:password (no colon)' },
      { line: 3, message: '"bad!" is not a user name: 1–32 characters of A–Z a–z 0–9 _ -' },
      { line: 4, user: 'short', message: 'the password of "short" is 5 characters; a password is 6–1024' },
      { line: 5, user: 'alice', message: 'user "alice" is already on line 1' },
    ]);
  });
});

describe('importAccounts', () => {
  it('creates every account in batches, reporting progress, and the passwords work', async () => {
    const store = new AccountStore({ scrypt: CHEAP });
    const text = Array.from({ length: 1_000 }, (_, i) => `user${i}:password${i}`).join('\n');
    const progress: ImportProgress[] = [];
    const result = await importAccounts(store, text, { batchSize: 300, onProgress: (p) => progress.push(p) });
    expect(result).toMatchObject({ added: 1_000, failures: [] });
    expect(progress.map(({ done, total, added }) => [done, total, added])).toEqual([
      [300, 1_000, 300],
      [600, 1_000, 600],
      [900, 1_000, 900],
      [1_000, 1_000, 1_000],
    ]);
    expect(store.list()).toHaveLength(1_000);
    expect(await store.verify('user999', 'password999')).toBe(true);
    expect(await store.verify('user999', 'password998')).toBe(false);
    expect(store.storedHash('user0')).toMatch(/^scrypt\$N=2,r=1,p=1\$/);
    store.close();
  });

  it('skips names already taken, with their line, and adds the rest', async () => {
    const store = new AccountStore({ scrypt: CHEAP });
    await store.add('bob', 'builder');
    const result = await importAccounts(store, 'alice:wonderland\nbob:other-password\ncarol:caroline\nx\n');
    expect(result.added).toBe(2);
    expect(result.failures).toEqual([
      { line: 2, user: 'bob', message: 'the user "bob" already exists' },
      { line: 4, message: 'expected name:password (no colon)' },
    ]);
    expect(await store.verify('bob', 'builder')).toBe(true);
    expect(store.list()).toEqual(['alice', 'bob', 'carol']);
    store.close();
  });

  it('refuses look-alikes of existing names and of names earlier in the same file', async () => {
    const store = new AccountStore({ scrypt: CHEAP });
    await store.add('alice', 'wonderland');
    const result = await importAccounts(store, 'A1ice:password1\nbob-0:password2\nB0B_O:password3\n');
    expect(result.added).toBe(1);
    expect(result.failures).toEqual([
      { line: 1, user: 'A1ice', message: 'the name "A1ice" is too similar to the existing user "alice"' },
      { line: 3, user: 'B0B_O', message: 'the name "B0B_O" is too similar to the existing user "bob-0"' },
    ]);
    expect(store.list()).toEqual(['alice', 'bob-0']);
    store.close();
  });
});
