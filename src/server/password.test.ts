import { describe, expect, it } from 'vitest';
import { DEFAULT_SCRYPT_PARAMS, hashPassword, parseHash, verifyPassword } from './password.ts';

const CHEAP = { N: 1024, r: 8, p: 1 };

describe('scrypt password hashes', () => {
  it('stores parameters, a random salt and the key — never the password', async () => {
    const hash = await hashPassword('wonderland', CHEAP);
    expect(hash).toMatch(/^scrypt\$N=1024,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(hash).not.toContain('wonderland');
    const parsed = parseHash(hash);
    expect(parsed.params).toEqual(CHEAP);
    expect(parsed.salt).toHaveLength(16);
    expect(parsed.key).toHaveLength(32);
  });

  it('salts every hash differently', async () => {
    const [a, b] = await Promise.all([hashPassword('same', CHEAP), hashPassword('same', CHEAP)]);
    expect(a).not.toBe(b);
  });

  it('verifies the right password only', async () => {
    const hash = await hashPassword('wonderland 👋', CHEAP);
    expect(await verifyPassword('wonderland 👋', hash)).toBe(true);
    expect(await verifyPassword('wonderland', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('verifies with the parameters stored in the hash, whatever the current default', async () => {
    const hash = await hashPassword('builder', { N: 2048, r: 4, p: 2 });
    expect(await verifyPassword('builder', hash)).toBe(true);
    expect(DEFAULT_SCRYPT_PARAMS).toEqual({ N: 16384, r: 8, p: 1 });
  });

  it('treats a malformed stored hash as a mismatch, not a crash', async () => {
    for (const stored of ['', 'wonderland', 'scrypt$N=1000,r=8,p=1$AAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'scrypt$N=1024,r=8,p=1$AAAA$AAAA']) {
      expect(await verifyPassword('wonderland', stored)).toBe(false);
    }
  });

  it('rejects unusable parameters', async () => {
    await expect(hashPassword('x', { N: 1000, r: 8, p: 1 })).rejects.toThrow(RangeError);
    await expect(hashPassword('x', { N: 1024, r: 0, p: 1 })).rejects.toThrow(RangeError);
  });
});
