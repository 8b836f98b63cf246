import net from 'node:net';
import type { Lesson } from './catalogue.ts';
import { startLessonServer, type LessonServer } from './processes.ts';
import { startRedisServer, type RedisServer } from './redis-server.ts';
import { NOMINAL_SERVER_PORT } from './ports.ts';
import { listenRelay, splice, track, type Relay, type RelayTarget } from './relay.ts';

/** The nodes of a cluster lesson (lesson 14), by the name each gets in NODE_ID and its terminal. */
export const CLUSTER_NODES = ['A', 'B'] as const;

/** One node's name. */
export type ClusterNode = (typeof CLUSTER_NODES)[number];

/** A cluster lesson running: its own redis-server and one lesson server per node. */
export interface LessonCluster {
  redis: RedisServer;
  /** The nodes, in {@link CLUSTER_NODES} order. */
  nodes: LessonServer[];
  /** Stops the nodes, then Redis. */
  stop(): Promise<void>;
}

/**
 * The ports a README shows for a node: node A's server on 7070 and its inspector on 7071, as in
 * every lesson; node B's on 7072 and 7073.
 */
export function clusterNominalPorts(node: ClusterNode): { server: number; inspector: number } {
  const server = NOMINAL_SERVER_PORT + 2 * CLUSTER_NODES.indexOf(node);
  return { server, inspector: server + 1 };
}

/** The port a README shows for the lessons' Redis: its default. */
export const NOMINAL_REDIS_PORT = 6379;

/** The terminal name of a node's server: `server A`. */
export function nodeTerminalName(node: ClusterNode): string {
  return `server ${node}`;
}

/**
 * Starts a cluster lesson: a redis-server of its own (a free port, nothing on disk), then the
 * lesson's server (or its broken copy, `file`) once per node, with `REDIS_URL` and `NODE_ID` set,
 * each on a free port (or on `ports`, in node order). `env` is added to every node's environment
 * (a test's shorter `LEASE_MS`).
 */
export async function startLessonCluster(lesson: Lesson, options: { file?: string; env?: Record<string, string>; ports?: readonly number[] } = {}): Promise<LessonCluster> {
  const redis = await startRedisServer();
  const nodes: LessonServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
    await redis.stop();
  };
  try {
    for (const [index, node] of CLUSTER_NODES.entries()) {
      nodes.push(
        await startLessonServer(lesson, {
          ...(options.file ? { file: options.file } : {}),
          port: options.ports?.[index] ?? 0,
          name: nodeTerminalName(node),
          env: { REDIS_URL: redis.url, NODE_ID: node, ...options.env },
        }),
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { redis, nodes, stop };
}

/**
 * A TCP load balancer in miniature, as HAProxy's `balance roundrobin` or nginx's `stream` module
 * would be in front of real nodes: each new connection goes to the next target in turn, and its
 * bytes are passed on untouched. The verifier checks a cluster lesson through it, so its users
 * land on different nodes and every rule (presence, relay, already_online) is checked across them.
 */
export function startRoundRobin(targets: readonly RelayTarget[]): Promise<Relay> {
  if (targets.length === 0) throw new Error('startRoundRobin needs at least one target');
  const sockets = new Set<net.Socket>();
  let next = 0;
  const server = net.createServer({ allowHalfOpen: true }, function forward(client) {
    const target = targets[next % targets.length] as RelayTarget;
    next += 1;
    track(sockets, client);
    splice(client, track(sockets, net.connect({ host: target.host, port: target.port, allowHalfOpen: true })));
  });
  return listenRelay(server, sockets);
}
