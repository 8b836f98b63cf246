/** Cluster defaults the CLI shows without loading the cluster (nor ioredis). */

/** Default lease of a node: its users go offline elsewhere at most this long (+ one heartbeat) after it dies. */
export const DEFAULT_LEASE_MS = 3_000;
/** How many heartbeats a lease spans: a node renews it every leaseMs / HEARTBEATS_PER_LEASE. */
export const HEARTBEATS_PER_LEASE = 3;
/**
 * Where a cluster node keeps the messages said while Redis is away until they are stored (a SQLite
 * file, see `outage-spool.ts`), unless told otherwise: in the directory the node was started in.
 */
export const DEFAULT_SPOOL_FILE = 'chatlab-spool.db';
