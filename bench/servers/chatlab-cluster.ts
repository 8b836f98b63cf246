/**
 * A chatlab cluster as one benchmark target: a redis-server, the accounts u0…u<N-1> made once in
 * it, and `nodes` node processes (bench/servers/chatlab-node.ts), each pinned with taskset to one
 * of the server CPUs in turn. The fan-out ladder spreads its clients over the nodes (client i on
 * node i mod nodes); the CPU and memory it reports are those of every node and Redis together.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RedisAccounts } from '../../src/server/cluster/index.ts';
import { freePort } from '../../src/verify/index.ts';
import { BENCH_PASSWORD, chatlabDialect } from '../lib/dialects.ts';
import { spawnServer, type ServerProcess } from '../lib/server-process.ts';
import { REPO_ROOT, nodeTs, type BenchServer } from './index.ts';

/** A cluster of `nodes` chatlab nodes over one Redis; `serverCpus` are the CPUs to spread them over. */
export function chatlabCluster(nodes: number, serverCpus: readonly number[]): BenchServer {
  return {
    id: `chatlab-cluster-${nodes}`,
    description: `${nodes} chatlab node${nodes > 1 ? 's' : ''} over one redis-server${serverCpus.length > 0 ? ` on CPU ${[...new Set(serverCpus)].join(',')}` : ''}`,
    dialect: chatlabDialect,
    unavailable() {
      const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
      return found.error ? 'redis-server is not installed (apt-get install -y redis-server); skipped' : null;
    },
    async start({ clients, profileDir }) {
      const started: ServerProcess[] = [];
      const stopAll = async (): Promise<void> => {
        for (const proc of started.reverse()) await proc.stop();
      };
      try {
        const redisPort = await freePort();
        const cpuOf = (i: number): number | undefined => (serverCpus.length > 0 ? serverCpus[i % serverCpus.length] : undefined);
        started.push(
          await spawnServer({
            name: 'redis-server',
            command: 'redis-server',
            args: ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
            cpu: cpuOf(nodes),
            port: redisPort,
            ready: /Ready to accept connections/,
          }),
        );
        const url = `redis://127.0.0.1:${redisPort}`;
        await createAccounts(url, clients);
        for (let i = 0; i < nodes; i++) {
          started.push(
            await spawnServer({
              name: `chatlab node ${i}`,
              ...nodeTs(join(REPO_ROOT, 'bench/servers/chatlab-node.ts'), profileDir),
              cwd: REPO_ROOT,
              env: { ...process.env, BENCH_CLIENTS: String(clients), BENCH_REDIS: url, BENCH_NODE_ID: `n${i}` },
              cpu: cpuOf(i),
              ready: /^READY (\d+)\b/,
              readyTimeoutMs: 60_000,
            }),
          );
        }
      } catch (error) {
        await stopAll();
        throw error;
      }
      const [redis, ...nodeProcs] = started as [ServerProcess, ...ServerProcess[]];
      const first = nodeProcs[0] as ServerProcess;
      const sum = (values: Array<number | null>): number | null => (values.includes(null) ? null : (values as number[]).reduce((a, b) => a + b, 0));
      return {
        name: `${nodes}-node cluster`,
        pid: first.pid,
        host: first.host,
        port: first.port,
        ports: nodeProcs.map((proc) => proc.port),
        readyLine: `READY ${first.port} ${nodes} node(s) on ports ${nodeProcs.map((proc) => proc.port).join(',')} + redis-server ${redis.port}`,
        cpuMs: () => sum(started.map((proc) => proc.cpuMs())),
        memoryMiB: () => {
          const each = started.map((proc) => proc.memoryMiB());
          if (each.includes(null)) return null;
          return { rss: each.reduce((a, m) => a + (m?.rss ?? 0), 0), peak: each.reduce((a, m) => a + (m?.peak ?? 0), 0) };
        },
        recentOutput: () => started.map((proc) => `${proc.name}:\n${proc.recentOutput()}`).join('\n'),
        stop: stopAll,
      };
    },
  };
}

/** Makes the accounts u0…u<n-1> in the cluster's Redis, at a negligible scrypt cost (not what is measured). */
async function createAccounts(url: string, clients: number): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true });
  try {
    await redis.connect();
    const accounts = new RedisAccounts(redis, { N: 16, r: 1, p: 1 });
    for (let first = 0; first < clients; first += 200) {
      const batch = [];
      for (let i = first; i < Math.min(clients, first + 200); i++) batch.push(accounts.add(`u${i}`, BENCH_PASSWORD));
      await Promise.all(batch);
    }
  } finally {
    redis.disconnect();
  }
}
