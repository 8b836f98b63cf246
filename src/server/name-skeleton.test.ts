import { describe, expect, it } from 'vitest';
import { openDatabase } from './database.ts';
import { nameSkeleton, nameSkeletonSql } from './name-skeleton.ts';

describe('nameSkeleton', () => {
  it('folds case, 1/i/l, 0/o and -/_, and nothing else', () => {
    expect(['alice', 'Alice', 'a1ice', 'AIICE', 'aLiCe'].map(nameSkeleton)).toEqual(['allce', 'allce', 'allce', 'allce', 'allce']);
    expect(nameSkeleton('B0b-o_x')).toBe('bob_o_x');
    expect(nameSkeleton('carol')).not.toBe(nameSkeleton('caro1e'));
  });

  it('the SQL form gives the same skeleton for every character a name may hold', () => {
    const db = openDatabase(':memory:');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
    const names = [alphabet, ...[...alphabet].map((c) => `x${c}y`)];
    const inSql = db.prepare<[string], string>(`SELECT ${nameSkeletonSql('?')}`).pluck();
    for (const name of names) expect(inSql.get(name), name).toBe(nameSkeleton(name));
    db.close();
  });
});
