/**
 * One node of a chatlab cluster as a benchmark target, in its own process:
 * `node --import tsx bench/servers/chatlab-node.ts` with env BENCH_REDIS (the Redis URL),
 * BENCH_NODE_ID, BENCH_CLIENTS (for the connection limits) and optional PORT. The accounts
 * u0…u<N-1> are already in Redis (made once by bench/servers/chatlab-cluster.ts). Prints
 * `READY <port> …` once it listens; SIGTERM stops it. The limits raised are those of
 * bench/servers/chatlab.ts, for the same reasons; the message path keeps the server's defaults.
 */
import { createClusterServer } from '../../src/server/cluster/index.ts';

const clients = Number(process.env.BENCH_CLIENTS ?? 1000);
const UNLIMITED = 1_000_000_000;
const limits = {
  maxConnections: clients + 100,
  maxConnectionsPerAddress: clients + 100,
  rateLimitPerSecond: UNLIMITED,
  rateLimitBurst: UNLIMITED,
  loginAttemptsPerConnection: UNLIMITED,
  loginAttemptsPerAddress: UNLIMITED,
};
const { server } = await createClusterServer({
  host: process.env.HOST ?? '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  db: ':memory:',
  limits,
  scrypt: { N: 16, r: 1, p: 1 },
  redis: { url: process.env.BENCH_REDIS as string, nodeId: process.env.BENCH_NODE_ID },
});
const { port } = await server.start();
process.stdout.write(`READY ${port} node ${process.env.BENCH_NODE_ID}; limits raised as bench/servers/chatlab.ts; db :memory:\n`);
process.on('SIGTERM', () => {
  void server.stop().then(() => process.exit(0));
});
