/**
 * Login throttling per address across the nodes of a cluster. Each node keeps its own
 * {@link LoginThrottle} (per connection, and per address on this node, with attempts in progress
 * held); on top of it, every failed attempt also spends a token of the address's bucket in Redis
 * (`chatlab:throttle:<address>`, refilled like the local one), and an attempt is refused on any
 * node while that shared bucket is empty. So guessing from one address through N nodes gets the
 * budget of one server, give or take the attempts in flight at that moment (at most the local
 * budget of each node).
 */
import type { Redis } from 'ioredis';
import type { ServerLimits } from '../limits.ts';
import { LoginThrottle } from '../login-throttle.ts';

/**
 * ARGV: capacity, tokens per ms, take (1: spend one), ttl ms. Refills, spends, and returns the ms
 * until a token is there (0: one is there now). Redis's clock, so every node agrees.
 */
const BUCKET = `
local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cap = tonumber(ARGV[1]) local rate = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or cap
local at = tonumber(state[2]) or now
tokens = math.min(cap, tokens + (now - at) * rate)
if ARGV[3] == '1' then tokens = math.max(0, tokens - 1) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if tokens >= 1 then return 0 end
return math.ceil((1 - tokens) / rate)`;

type ThrottleLimits = Pick<ServerLimits, 'loginAttemptsPerConnection' | 'loginAttemptsPerAddress' | 'loginAttemptWindowMs'>;

/** The cluster's login throttle (see the module comment). */
export class SharedLoginThrottle extends LoginThrottle {
  /** The last shared wait heard per address, for the synchronous {@link waitMs} (forgotten when 0). */
  private readonly sharedWait = new Map<string, { until: number }>();

  constructor(
    private readonly redis: Redis,
    private readonly shared: ThrottleLimits,
  ) {
    super(shared);
  }

  override waitMs(connection: object, address: string): number {
    const known = this.sharedWait.get(address);
    const shared = known ? Math.max(0, known.until - Date.now()) : 0;
    return Math.max(super.waitMs(connection, address), shared);
  }

  override async reserve(connection: object, address: string): Promise<number> {
    // While Redis is away the node's own throttle still holds (and logins are refused anyway).
    const shared = await this.bucket(address, false).catch(() => 0);
    if (shared > 0) return shared;
    return super.reserve(connection, address);
  }

  override settle(connection: object, address: string, succeeded: boolean): void {
    super.settle(connection, address, succeeded);
    if (!succeeded) void this.bucket(address, true).catch(ignore);
  }

  override failed(connection: object, address: string): void {
    super.failed(connection, address);
    void this.bucket(address, true).catch(ignore);
  }

  private async bucket(address: string, take: boolean): Promise<number> {
    const { loginAttemptsPerAddress: capacity, loginAttemptWindowMs: windowMs } = this.shared;
    const wait = Number(await this.redis.eval(BUCKET, 1, `chatlab:throttle:${address}`, capacity, capacity / windowMs, take ? '1' : '0', windowMs * 2));
    if (wait > 0) this.sharedWait.set(address, { until: Date.now() + wait });
    else this.sharedWait.delete(address);
    return wait;
  }
}

function ignore(): void {}
