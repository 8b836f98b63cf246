import { TokenBucket } from './token-bucket.ts';
import type { ServerLimits } from './limits.ts';

/** Past this many remembered addresses, buckets that have refilled are forgotten. */
const SWEEP_ABOVE = 4_096;

/**
 * Throttles password guessing: every failed login (and every registration of a taken name) takes a
 * token from its connection's bucket and from its address's bucket; while either is empty, further
 * attempts are refused before any password is checked (no scrypt work either). Buckets refill
 * continuously, the whole bucket in `loginAttemptWindowMs`.
 */
export class LoginThrottle {
  private readonly perConnection = new WeakMap<object, TokenBucket>();
  private readonly perAddress = new Map<string, TokenBucket>();

  constructor(
    private readonly limits: Pick<ServerLimits, 'loginAttemptsPerConnection' | 'loginAttemptsPerAddress' | 'loginAttemptWindowMs'>,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** How long `connection` (from `address`) must wait before its next attempt; 0 = it may try now. */
  waitMs(connection: object, address: string): number {
    const own = this.perConnection.get(connection)?.msUntilToken ?? 0;
    const shared = this.perAddress.get(address)?.msUntilToken ?? 0;
    return Math.max(own, shared);
  }

  /** Records a failed attempt. */
  failed(connection: object, address: string): void {
    let own = this.perConnection.get(connection);
    if (!own) this.perConnection.set(connection, (own = this.bucket(this.limits.loginAttemptsPerConnection)));
    own.take();
    let shared = this.perAddress.get(address);
    if (!shared) {
      if (this.perAddress.size >= SWEEP_ABOVE) this.sweep();
      this.perAddress.set(address, (shared = this.bucket(this.limits.loginAttemptsPerAddress)));
    }
    shared.take();
  }

  /** Number of addresses with a recent failure (for tests and stats). */
  get addressCount(): number {
    return this.perAddress.size;
  }

  private bucket(attempts: number): TokenBucket {
    return new TokenBucket(attempts / (this.limits.loginAttemptWindowMs / 1000), attempts, this.now);
  }

  private sweep(): void {
    for (const [address, bucket] of this.perAddress) if (bucket.isFull) this.perAddress.delete(address);
  }
}
