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

/** Options of {@link createClusterServer}: the server's own, plus where Redis is. */
export interface ClusterServerOptions extends Omit<ChatServerOptions, 'cluster'> {
  /** Redis and this node (see {@link RedisBackplaneOptions}). */
  redis: RedisBackplaneOptions;
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
 * @throws BackplaneUnavailableError when Redis cannot be reached.
 */
export async function createClusterServer(options: ClusterServerOptions): Promise<ClusterServer> {
  const { redis, ...serverOptions } = options;
  const hub = new ClusterHub();
  let accounts: RedisAccounts | undefined;
  const backplane = await RedisBackplane.connect(hub, redis, (user) => accounts?.learn(user));
  accounts = new RedisAccounts(backplane.redis, options.scrypt, (user) => backplane.announceAccount(user));
  try {
    await accounts.load();
  } catch (error) {
    await backplane.close();
    throw error;
  }
  const throttle = (limits: ServerLimits): SharedLoginThrottle => new SharedLoginThrottle(backplane.redis, limits);
  const history = (limits: ServerLimits): RedisHistory => new RedisHistory(backplane.redis, { retainPerConversation: limits.historyRetainPerConversation });
  const addresses = new SharedConnectionCount(backplane);
  backplane.onRestored(() => addresses.reset());
  const server = new ChatServer({ ...serverOptions, cluster: { hub, accounts, throttle, history, addresses, transferPrefix: `${backplane.incarnation}.`, close: () => backplane.close() } });
  return { server, backplane, accounts };
}
