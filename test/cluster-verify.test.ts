/**
 * `chatlab verify` against a 2-node cluster: a tiny round-robin TCP balancer in front of node A
 * and node B sends the verifier's connections alternately to each, so every check that involves
 * two users runs across nodes.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCliProcess } from '../test-support/cli-process.ts';
import { startClusterNode, type TestClusterNode } from '../test-support/cluster-node.ts';
import { startRedis, type TestRedis } from '../test-support/redis-server.ts';

let redis: TestRedis;
let nodes: TestClusterNode[] = [];
let balancer: Server;
let balancerPort: number;

beforeAll(async () => {
  redis = await startRedis();
  nodes = [await startClusterNode(redis.url, 'A'), await startClusterNode(redis.url, 'B')];
  const ports = nodes.map((node) => node.port);
  let next = 0;
  balancer = createServer((client: Socket) => {
    const upstream = createConnection({ host: '127.0.0.1', port: ports[next++ % ports.length] as number });
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve) => balancer.listen(0, '127.0.0.1', resolve));
  balancerPort = (balancer.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => (balancer ? balancer.close(() => resolve()) : resolve()));
  await Promise.all(nodes.map((node) => node.stop()));
  await redis?.stop();
});

// Every group, private and history included: history and the offline private-message queue live
// in Redis, so a replay or a page on node B holds what was said through node A.
it('passes the whole verifier (steps 1–10 and every extension group) through a round-robin balancer over two nodes', { timeout: 60_000 }, async () => {
  const run = startCliProcess(['verify', '--target', `127.0.0.1:${balancerPort}`], {}, 50_000);
  const code = await run.exited;
  const report = run.stdout.join('\n');
  expect({ code, failed: run.stdout.filter((line) => line.includes('✗')) }, `${report}\n${run.stderr.join('\n')}`).toEqual({ code: 0, failed: [] });
  expect(report).toMatch(/^All \d+ checks of steps 1–10 \+ extensions 11–17 passed .*Extensions checked: register, who, ping, private, rooms, history, files\./m);
});
