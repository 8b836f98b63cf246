/**
 * Connections per address across the nodes of a cluster (`maxConnectionsPerAddress` for the whole
 * cluster, as on one server). Each node mirrors its own open connections in Redis, one hash per
 * node incarnation (`chatlab:conns:<incarnation>`, address → count); before a node greets a
 * connection, one script sums that address over the nodes whose lease is alive and counts it in,
 * or says it is over the limit. A dead node's hash goes with its lease (the reaper deletes it).
 *
 * While Redis is away (or does not answer within {@link ADMIT_WAIT_MS}: a connection must not
 * wait for its `hello` without bound) the node falls back to its own count (the server's local
 * rule still holds), and says so once in the log; when Redis is back (the backplane's
 * `onRestored`) the node writes its true counts again.
 */
import type { Redis } from 'ioredis';
import type { AddressCount } from '../chat-server.ts';

/** ARGV: incarnation, address, limit. 1 counted in, 0 over the limit, -1 this node holds no lease (fenced). */
const ADMIT = `
local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return -1 end
local total = 0
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')) do
  if node ~= ARGV[1] then total = total + tonumber(redis.call('HGET', 'chatlab:conns:' .. node, ARGV[2]) or '0') end
end
total = total + tonumber(redis.call('HGET', 'chatlab:conns:' .. ARGV[1], ARGV[2]) or '0')
if total >= tonumber(ARGV[3]) then return 0 end
redis.call('HINCRBY', 'chatlab:conns:' .. ARGV[1], ARGV[2], 1)
return 1`;

/** ARGV: incarnation, address. Counts one connection out (never below zero; only a leased node's hash). */
const RELEASE = `
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local key = 'chatlab:conns:' .. ARGV[1]
if redis.call('HINCRBY', key, ARGV[2], -1) <= 0 then redis.call('HDEL', key, ARGV[2]) end
return 1`;

/** ARGV: incarnation, then address, count pairs. Makes the node's hash say exactly that. */
const RESET = `
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local key = 'chatlab:conns:' .. ARGV[1]
redis.call('DEL', key)
for i = 2, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
return 1`;

const NODES_KEY = 'chatlab:nodes';

/** Most ms a connection waits for the count across nodes before the node's own count decides. */
export const ADMIT_WAIT_MS = 1_000;

/** Where the counter finds the node's current incarnation and reports (a {@link RedisBackplane}). */
export interface CountingNode {
  readonly redis: Redis;
  readonly incarnation: string;
  log(line: string): void;
}

/** The cluster's count of connections per address (see the module comment). */
export class SharedConnectionCount implements AddressCount {
  /** This node's connections counted in, by address: what its hash in Redis must say. */
  private readonly local = new Map<string, number>();
  /** Whether the fallback to the node's own count was already reported (once per outage). */
  private fallingBack = false;

  constructor(private readonly node: CountingNode) {}

  async admit(address: string, limit: number): Promise<boolean> {
    let result: unknown;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ADMIT_WAIT_MS} ms`)), ADMIT_WAIT_MS);
    });
    try {
      // A late answer still counted it there: its release then evens it out.
      result = await Promise.race([this.node.redis.eval(ADMIT, 1, NODES_KEY, this.node.incarnation, address, limit), late]);
    } catch (error) {
      this.fallBack(error);
      result = -1;
    } finally {
      clearTimeout(timer);
    }
    if (result === 0) return false;
    if (result === 1) this.fallingBack = false;
    // Counted in Redis, or only here (fenced, or Redis away): the next reset writes it there.
    this.local.set(address, (this.local.get(address) ?? 0) + 1);
    return true;
  }

  release(address: string): void {
    const left = (this.local.get(address) ?? 1) - 1;
    if (left > 0) this.local.set(address, left);
    else this.local.delete(address);
    this.node.redis.eval(RELEASE, 1, NODES_KEY, this.node.incarnation, address).catch(ignore);
  }

  /** Writes this node's true counts to its hash (after an outage or a new incarnation). */
  async reset(): Promise<void> {
    const pairs = [...this.local].flatMap(([address, count]) => [address, count]);
    await this.node.redis.eval(RESET, 1, NODES_KEY, this.node.incarnation, ...pairs);
    this.fallingBack = false;
  }

  private fallBack(error: unknown): void {
    if (this.fallingBack) return;
    this.fallingBack = true;
    const why = error instanceof Error ? error.message : String(error);
    this.node.log(`chatlab cluster: cannot count connections per address across nodes (${why}); counting this node's only until Redis is back`);
  }
}

function ignore(): void {}
