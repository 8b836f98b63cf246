/**
 * Several server processes, one chat: a node's clustered hub, its Redis backplane and shared
 * accounts. Loaded only by `chatlab server --redis` (the plain server never imports it).
 */
export { createClusterServer, type ClusterServer, type ClusterServerOptions } from './cluster-server.ts';
export { ClusterHub, ClusterRecipients, RemoteMember, type Backplane, type OutgoingHeader } from './cluster-hub.ts';
export { RedisBackplane, BackplaneUnavailableError, BUS_CHANNEL, COMMAND_TIMEOUT_MS, type RedisBackplaneOptions } from './redis-backplane.ts';
export { RedisAccounts } from './redis-accounts.ts';
export { RedisHistory, MSGID_KEY, type RedisHistoryOptions } from './redis-history.ts';
export { DeferringHistory } from './deferring-history.ts';
export { OutageSpool, SpoolError, DEFAULT_SPOOL_FILE, SPOOL_MAX_MESSAGES, SPOOL_MAX_BYTES, type OutageSpoolOptions, type SpoolEntry, type SpooledMessage } from './outage-spool.ts';
export { SpoolFlusher, FLUSH_BATCH, type FlushChannel } from './spool-flusher.ts';
export { SharedLoginThrottle } from './shared-login-throttle.ts';
export { SharedConnectionCount, type CountingNode } from './shared-connection-count.ts';
export { DEFAULT_LEASE_MS, HEARTBEATS_PER_LEASE } from './defaults.ts';
