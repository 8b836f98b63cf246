/**
 * Starts one in-process node of a cluster for a test: a real {@link ChatServer} on a free port of
 * 127.0.0.1, joined to the Redis at `url`, with the test accounts in the shared store (added once,
 * by whichever node comes first) and a cheap scrypt cost.
 *
 * ```ts
 * const redis = await startRedis();
 * const a = await startClusterNode(redis.url, 'A');
 * const b = await startClusterNode(redis.url, 'B');
 * const alice = await a.login('alice');
 * ```
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { createClusterServer, type ClusterServer } from '../src/server/cluster/index.ts';
import { AccountError, type ServerLimits } from '../src/server/index.ts';
import type { RawFrame } from '../src/protocol/index.ts';
import { TEST_SCRYPT, TEST_USERS } from './chat-server.ts';
import { FrameSocket } from './frame-socket.ts';

/** A running cluster node and shortcuts to talk to it. */
export interface TestClusterNode extends ClusterServer {
  port: number;
  /** Opens a raw connection and takes `hello`. */
  connect(label?: string): Promise<FrameSocket>;
  /** Connects, logs in, takes `welcome`; rejects if the login fails. */
  login(user: string, password?: string): Promise<FrameSocket & { welcome: RawFrame }>;
  /** Stops the node (every test must call it). */
  stop(): Promise<void>;
}

/**
 * Starts a node named `nodeId` (lease `leaseMs`, short by default so tests of dead nodes stay fast);
 * what the backplane reports goes to `log` (default: nowhere). Its spool of messages deferred
 * while Redis is away is `spool` (default: a file of its own in a temporary directory, removed
 * when the node stops).
 */
export async function startClusterNode(
  url: string,
  nodeId: string,
  leaseMs = 1_000,
  limits: Partial<ServerLimits> = {},
  log: (line: string) => void = () => {},
  spool?: string,
): Promise<TestClusterNode> {
  const spoolDir = spool === undefined ? mkdtempSync(join(tmpdir(), 'chatlab-spool-')) : undefined;
  const removeSpoolDir = (): void => {
    if (spoolDir !== undefined) rmSync(spoolDir, { recursive: true, force: true });
  };
  let cluster: ClusterServer;
  try {
    cluster = await createClusterServer({ port: 0, scrypt: TEST_SCRYPT, limits, redis: { url, nodeId, leaseMs, log }, spool: spool ?? join(spoolDir as string, 'spool.db') });
  } catch (error) {
    removeSpoolDir();
    throw error;
  }
  await Promise.all(Object.entries(TEST_USERS).map(([user, password]) => addOnce(cluster, user, password)));
  const { port } = await cluster.server.start();
  const connect = async (label = nodeId): Promise<FrameSocket> => {
    const socket = await FrameSocket.connect(port, { label: label });
    await socket.next('hello');
    return socket;
  };
  return {
    ...cluster,
    port,
    connect,
    async login(user, password = TEST_USERS[user]) {
      const socket = await connect(`${user}@${nodeId}`);
      socket.send({ type: 'login', user, password });
      const answer = await socket.next(['welcome', 'error']);
      if (answer.type !== 'welcome') throw new Error(`login of ${user} on ${nodeId} failed: ${JSON.stringify(answer)}`);
      return Object.assign(socket, { welcome: answer });
    },
    async stop() {
      await cluster.server.stop();
      removeSpoolDir();
    },
  };
}

async function addOnce(cluster: ClusterServer, user: string, password: string | undefined): Promise<void> {
  try {
    await cluster.accounts.add(user, password ?? '');
  } catch (error) {
    if (!(error instanceof AccountError && error.code === 'user_exists')) throw error;
  }
}

/**
 * The nodes and sockets a test file's tests open, put in these lists: after each test the sockets
 * are destroyed and the nodes stopped. Call it at the top of the file, after `redisPerFile` (so
 * this cleanup runs before Redis is emptied).
 *
 * ```ts
 * const redis = redisPerFile();
 * const { nodes, sockets } = stoppedAfterEach();
 * ```
 */
export function stoppedAfterEach(): { nodes: TestClusterNode[]; sockets: FrameSocket[] } {
  const nodes: TestClusterNode[] = [];
  const sockets: FrameSocket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await Promise.all(nodes.splice(0).map((node) => node.stop()));
  });
  return { nodes, sockets };
}
