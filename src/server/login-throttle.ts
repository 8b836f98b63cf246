import { SYSTEM_CLOCK, type Clock } from './clock.ts';
import { TokenBucket } from '../rate-limit/index.ts';
import type { ServerLimits } from './limits.ts';

/** Past this many remembered addresses, buckets that have refilled are forgotten. */
const SWEEP_ABOVE = 4_096;

/** One budget of attempts: a token bucket, the tokens held by attempts in progress, and who waits for them. */
class AttemptBudget {
  /** Tokens taken by attempts whose outcome is not known yet (each one comes back on success). */
  held = 0;
  private waiters: Array<() => void> = [];

  constructor(readonly bucket: TokenBucket) {}

  /** Whether an attempt must wait: no token now, but attempts in progress may give one back. */
  get mustWait(): boolean {
    return this.held > 0 && this.bucket.msUntilToken > 0;
  }

  /** Resolves once an attempt in progress has finished (then the caller checks again). */
  settled(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** An attempt in progress finished; `refunded`: its token came back. */
  finish(refunded: boolean): void {
    this.held = Math.max(0, this.held - 1);
    if (refunded) this.bucket.giveBack();
    // A refund frees one token: one waiter may use it. The last failure frees none, but the
    // waiters must stop waiting and be refused; while others are in progress they wait on.
    if (refunded) this.waiters.shift()?.();
    else if (this.held === 0) for (const wake of this.waiters.splice(0)) wake();
  }

  /** Whether it remembers nothing (full, nobody in progress or waiting): it can be dropped. */
  get idle(): boolean {
    return this.held === 0 && this.waiters.length === 0 && this.bucket.isFull;
  }
}

/**
 * Throttles password and name guessing. Every login and registration RESERVES an attempt (a token
 * from its connection's budget and from its address's budget) before any password is hashed or
 * checked, and gives it back only if it succeeds: successes cost nothing. So however many
 * attempts arrive at once, at most the budget reach the hasher. An attempt that finds the tokens
 * held by attempts still in progress waits for them (a class logging in at once from one address
 * is served in turn, not refused); one that finds the budget spent is refused at once. Every
 * `unknown_user` answer (a private `say` or `history` naming no account) is charged as a failed
 * attempt. Buckets refill continuously, the whole bucket in `loginAttemptWindowMs`.
 */
export class LoginThrottle {
  private readonly perConnection = new WeakMap<object, AttemptBudget>();
  private readonly perAddress = new Map<string, AttemptBudget>();

  constructor(
    private readonly limits: Pick<ServerLimits, 'loginAttemptsPerConnection' | 'loginAttemptsPerAddress' | 'loginAttemptWindowMs'>,
    private readonly clock: Pick<Clock, 'monotonic'> = SYSTEM_CLOCK,
  ) {}

  /** How long `connection` (from `address`) must wait before its next attempt; 0 = it may try now. */
  waitMs(connection: object, address: string): number {
    const own = this.perConnection.get(connection)?.bucket.msUntilToken ?? 0;
    const shared = this.perAddress.get(address)?.bucket.msUntilToken ?? 0;
    return Math.max(own, shared);
  }

  /**
   * Takes one attempt from both budgets, before the work it pays for; resolves with 0 when it did
   * (the caller must then call {@link settle}), or with how long to wait when either budget is spent
   * (nothing taken). While the tokens are held by attempts in progress, it waits for them first.
   */
  async reserve(connection: object, address: string): Promise<number> {
    const own = this.connectionBudget(connection);
    const shared = this.addressBudget(address);
    for (;;) {
      const blocking = own.mustWait ? own : shared.mustWait ? shared : undefined;
      if (!blocking) break;
      await blocking.settled();
    }
    const waitMs = Math.max(own.bucket.msUntilToken, shared.bucket.msUntilToken);
    if (waitMs > 0) return waitMs;
    own.bucket.take();
    shared.bucket.take();
    own.held++;
    shared.held++;
    return 0;
  }

  /** Ends an attempt {@link reserve} let through: a success gets its token back, a failure keeps it spent. */
  settle(connection: object, address: string, succeeded: boolean): void {
    this.perConnection.get(connection)?.finish(succeeded);
    this.perAddress.get(address)?.finish(succeeded);
  }

  /** Records a failed attempt that was not reserved (takes one token from each budget). */
  failed(connection: object, address: string): void {
    this.connectionBudget(connection).bucket.take();
    this.addressBudget(address).bucket.take();
  }

  /** Number of addresses remembered (a recent attempt; for tests and stats). */
  get addressCount(): number {
    return this.perAddress.size;
  }

  private connectionBudget(connection: object): AttemptBudget {
    let budget = this.perConnection.get(connection);
    if (!budget) this.perConnection.set(connection, (budget = this.budget(this.limits.loginAttemptsPerConnection)));
    return budget;
  }

  private addressBudget(address: string): AttemptBudget {
    let budget = this.perAddress.get(address);
    if (!budget) {
      if (this.perAddress.size >= SWEEP_ABOVE) this.sweep();
      this.perAddress.set(address, (budget = this.budget(this.limits.loginAttemptsPerAddress)));
    }
    return budget;
  }

  private budget(attempts: number): AttemptBudget {
    return new AttemptBudget(new TokenBucket(attempts / (this.limits.loginAttemptWindowMs / 1000), attempts, this.clock));
  }

  private sweep(): void {
    for (const [address, budget] of this.perAddress) if (budget.idle) this.perAddress.delete(address);
  }
}
