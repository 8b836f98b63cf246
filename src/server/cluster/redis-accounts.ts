/**
 * Accounts of a cluster, in Redis so that any node serves any user: `chatlab:accounts` (hash
 * name → scrypt hash, the same format as the SQLite store) and `chatlab:account-skeletons` (hash
 * name skeleton → name, so look-alike names are refused across the cluster as on one process).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { UnavailableError } from '../unavailable.ts';
import { AccountError, checkNewAccount, type AccountBook } from '../accounts.ts';
import { nameSkeleton } from '../name-skeleton.ts';
import { DEFAULT_SCRYPT_PARAMS, hashPassword, verifyPassword, type ScryptParams } from '../password.ts';

const ACCOUNTS = 'chatlab:accounts';
const SKELETONS = 'chatlab:account-skeletons';

/** ARGV: user, skeleton, hash. Creates the account unless the name or its skeleton is taken (atomic). */
const ADD = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return {'user', ARGV[1]} end
local similar = redis.call('HGET', KEYS[2], ARGV[2])
if similar then return {'skeleton', similar} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
return {'ok', ARGV[1]}`;

/** The cluster's account store (see the module comment). */
export class RedisAccounts implements AccountBook {
  /** Every account name, kept here so that {@link has} answers synchronously (other nodes announce theirs). */
  private readonly names = new Set<string>();
  private readonly decoy: string;

  constructor(
    private readonly redis: Redis,
    private readonly scrypt: ScryptParams = DEFAULT_SCRYPT_PARAMS,
    private readonly announce: (user: string) => void = () => {},
  ) {
    const { N, r, p } = scrypt;
    this.decoy = `scrypt$N=${N},r=${r},p=${p}$${randomBytes(16).toString('base64')}$${randomBytes(32).toString('base64')}`;
  }

  /** Loads every account name (once, at start). */
  async load(): Promise<void> {
    for (const name of await this.redis.hkeys(ACCOUNTS)) this.names.add(name);
  }

  /** Another node created an account. */
  learn(user: string): void {
    this.names.add(user);
  }

  async add(user: string, password: string): Promise<void> {
    checkNewAccount(user, password);
    if (this.names.has(user)) throw new AccountError('user_exists', `the user "${user}" already exists`, user);
    const hash = await hashPassword(password, this.scrypt);
    if (this.redis.status !== 'ready') throw new UnavailableError('the cluster store (Redis) is unreachable');
    const [outcome, name] = (await this.redis.eval(ADD, 2, ACCOUNTS, SKELETONS, user, nameSkeleton(user), hash)) as [string, string];
    if (outcome === 'user') throw new AccountError('user_exists', `the user "${user}" already exists`, user);
    if (outcome === 'skeleton') throw new AccountError('user_exists', `the name "${user}" is too similar to the existing user "${name}"`, name);
    this.names.add(user);
    this.announce(user);
  }

  async verify(user: string, password: string): Promise<boolean> {
    const stored = typeof user === 'string' ? await this.read(user) : null;
    if (stored === null) {
      // The same work as a real check, so an unknown name is not faster than a wrong password.
      await verifyPassword(String(password), this.decoy);
      return false;
    }
    this.names.add(user);
    return verifyPassword(password, stored);
  }

  private async read(user: string): Promise<string | null> {
    if (this.redis.status !== 'ready') throw new UnavailableError('the cluster store (Redis) is unreachable');
    try {
      return await this.redis.hget(ACCOUNTS, user);
    } catch (error) {
      throw new UnavailableError(`the cluster store (Redis) failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  has(user: string): boolean {
    return this.names.has(user);
  }
}
