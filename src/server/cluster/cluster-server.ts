/**
 * Starts a {@link ChatServer} as one node of a cluster over Redis: connects first (one clear error
 * when Redis cannot be reached), then builds the server around the clustered hub and the shared
 * accounts, history and offline queue. The plain server never imports this module (nor ioredis).
 */
import { ChatServer, type ChatServerOptions } from '../chat-server.ts';
import type { ServerLimits } from '../limits.ts';
import { ClusterHub } from './cluster-hub.ts';
import { SharedConnectionCount } from './shared-connection-count.ts';
import { SharedLoginThrottle } from './shared-login-throttle.ts';
import { RedisAccounts } from './redis-accounts.ts';
import { RedisHistory } from './redis-history.ts';
import { RedisBackplane, type RedisBackplaneOptions } from './redis-backplane.ts';
import { DEFAULT_LEASE_MS, DEFAULT_SPOOL_FILE, HEARTBEATS_PER_LEASE } from './defaults.ts';
import { DeferringHistory } from './deferring-history.ts';
import { OutageSpool } from './outage-spool.ts';
import { SpoolFlusher } from './spool-flusher.ts';

/** Options of {@link createClusterServer}: the server's own, plus where Redis is. */
export interface ClusterServerOptions extends Omit<ChatServerOptions, 'cluster'> {
  /** Redis and this node (see {@link RedisBackplaneOptions}). */
  redis: RedisBackplaneOptions;
  /**
   * The SQLite file where the messages said while Redis is away wait to be recorded (see
   * `outage-spool.ts`). Default {@link DEFAULT_SPOOL_FILE} in the current directory, shared by
   * every node started there: a node started again there records what a killed one left.
   */
  spool?: string;
}

/** A cluster node not started yet: the server, and its backplane (for stats and tests). */
export interface ClusterServer {
  server: ChatServer;
  backplane: RedisBackplane;
  /** The shared account store (add accounts through it before or after start). */
  accounts: RedisAccounts;
}

/**
 * Connects to Redis, loads who is online on the other nodes, and makes the server (call
 * `server.start()` next; `server.stop()` leaves the cluster).
 * @throws BackplaneUnavailableError when Redis cannot be reached; SpoolError when the spool file cannot be used.
 */
export async function createClusterServer(options: ClusterServerOptions): Promise<ClusterServer> {
  const { redis, spool: spoolPath, ...serverOptions } = options;
  const hub = new ClusterHub();
  let accounts: RedisAccounts | undefined;
  const backplane = await RedisBackplane.connect(hub, redis, (user) => accounts?.learn(user));
  accounts = new RedisAccounts(backplane.redis, options.scrypt, (user) => backplane.announceAccount(user));
  const leaseMs = redis.leaseMs ?? DEFAULT_LEASE_MS;
  let opened: OutageSpool | undefined;
  try {
    opened = OutageSpool.open({ path: spoolPath ?? DEFAULT_SPOOL_FILE, owner: backplane.incarnation, leaseMs, log: (line) => backplane.log(line) });
    await accounts.load();
  } catch (error) {
    opened?.close();
    await backplane.close();
    throw error;
  }
  const spool = opened;
  const throttle = (limits: ServerLimits): SharedLoginThrottle => new SharedLoginThrottle(backplane.redis, limits);
  const history = (limits: ServerLimits): DeferringHistory => {
    const store = new RedisHistory(backplane.redis, { retainPerConversation: limits.historyRetainPerConversation });
    const flusher = new SpoolFlusher(spool, store, hub, backplane, Math.max(50, Math.floor(leaseMs / HEARTBEATS_PER_LEASE)));
    backplane.onRecovered(() => void flusher.flush());
    // What a node that is gone left in a shared spool file (claimed now, or once its lease ran out).
    void flusher.flush();
    return new DeferringHistory(store, spool, flusher, hub, backplane.incarnation);
  };
  const addresses = new SharedConnectionCount(backplane);
  backplane.onRestored(() => addresses.reset());
  const server = new ChatServer({ ...serverOptions, cluster: { hub, accounts, throttle, history, addresses, transferPrefix: `${backplane.incarnation}.`, close: () => backplane.close() } });
  return { server, backplane, accounts };
}
