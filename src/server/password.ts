import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt cost parameters; they are stored with every hash, so they can change over time. */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. Memory used is 128 × N × r bytes. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelisation. */
  p: number;
}

/** The default cost: N=2^14, r=8, p=1 (16 MiB, about 40 ms on a laptop core). */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 16_384, r: 8, p: 1 });

const KEY_BYTES = 32;
const SALT_BYTES = 16;
const SCHEME = 'scrypt';

function derive(password: string, salt: Buffer, params: ScryptParams, keyBytes: number): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    // The async scrypt runs on libuv's thread pool, so a login never blocks the event loop.
    scrypt(password.normalize('NFC'), salt, keyBytes, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/**
 * Hashes a password with a fresh random salt. The result is self-describing:
 * `scrypt$N=16384,r=8,p=1$<salt base64>$<key base64>`.
 */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  checkScryptParams(params);
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params, KEY_BYTES);
  return `${SCHEME}$N=${params.N},r=${params.r},p=${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** A stored hash taken apart. */
export interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

/**
 * Parses a hash made by {@link hashPassword}.
 * @throws Error when the text is not such a hash.
 */
export function parseHash(stored: string): ParsedHash {
  const match = /^scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!match) throw new Error('not a chatlab scrypt password hash');
  const params = { N: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  checkScryptParams(params);
  const key = Buffer.from(match[5] as string, 'base64');
  if (key.length < 16) throw new Error('password hash is too short');
  return { params, salt: Buffer.from(match[4] as string, 'base64'), key };
}

/**
 * Checks a password against a stored hash in constant time (for a given hash).
 * A malformed stored hash counts as a mismatch, never as a crash.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  let parsed: ParsedHash;
  try {
    parsed = parseHash(stored);
  } catch {
    return false;
  }
  const key = await derive(password, parsed.salt, parsed.params, parsed.key.length);
  return timingSafeEqual(key, parsed.key);
}

/** @throws RangeError when the scrypt parameters are unusable. */
export function checkScryptParams({ N, r, p }: ScryptParams): void {
  const powerOfTwo = Number.isSafeInteger(N) && N > 1 && N <= 2 ** 24 && (N & (N - 1)) === 0;
  if (!powerOfTwo || !Number.isSafeInteger(r) || r < 1 || !Number.isSafeInteger(p) || p < 1) {
    throw new RangeError(`bad scrypt parameters N=${N} r=${r} p=${p} (N must be a power of two from 2 to 2^24; r, p ≥ 1)`);
  }
}
