import {
  CLUSTER_NODES,
  type ClusterNode,
  clusterNominalPorts,
  type Lesson,
  type LessonServer,
  NOMINAL_REDIS_PORT,
  type PortRename,
  runScenario,
  type ScenarioNode,
  startLessonCluster,
  startLessonServer,
  type Terminal,
} from '../runtime/index.ts';
import { renderTranscripts, type RunPorts } from './transcript.ts';

/** Something that sits between the users and the server (the inspector), for one run. */
export interface Middlebox {
  /** Where the users connect. */
  port: number;
  /** Stops it once the run is over (the inspector writes its trace then). */
  stop(): Promise<void>;
}

/** Puts a middlebox in front of a server; a cluster lesson calls it once per node, naming the node. */
export type MiddleboxFactory = (target: { host: string; port: number }, node?: ClusterNode) => Promise<Middlebox>;

/** A finished scripted run of a lesson. */
export interface RecordedRun {
  terminals: Terminal[];
  ports: RunPorts;
  /** The README's "what you should see" section for this run. */
  transcripts: string;
}

/** The servers of one run: the lesson server, or a cluster lesson's nodes and their Redis. */
interface RunServers {
  servers: LessonServer[];
  /** Ports shown as their README values besides the first server's (cluster: Redis). */
  more: PortRename[];
  stop(): Promise<void>;
}

async function startServers(lesson: Lesson): Promise<RunServers> {
  if (!lesson.cluster) {
    const server = await startLessonServer(lesson);
    return { servers: [server], more: [], stop: () => server.stop() };
  }
  const cluster = await startLessonCluster(lesson);
  return { servers: cluster.nodes, more: [{ actual: cluster.redis.port, nominal: NOMINAL_REDIS_PORT }], stop: () => cluster.stop() };
}

/**
 * Plays a lesson's scenario from start to end: starts its server on a free port (a cluster
 * lesson: its Redis and one server per node), optionally puts a middlebox (the inspector) in
 * front of each, runs the scripted users, then stops everything. The scenarios end with every
 * user gone, so the run (and its trace) is complete.
 */
export async function recordRun(lesson: Lesson, options: { middlebox?: MiddleboxFactory; timeoutMs?: number } = {}): Promise<RecordedRun> {
  const { servers, more, stop } = await startServers(lesson);
  const middleboxes: Middlebox[] = [];
  try {
    const entries: { server: LessonServer; port: number }[] = [];
    for (const [index, server] of servers.entries()) {
      const node = lesson.cluster ? CLUSTER_NODES[index] : undefined;
      const middlebox = options.middlebox ? await options.middlebox({ host: server.host, port: server.port }, node) : undefined;
      if (middlebox) middleboxes.push(middlebox);
      entries.push({ server, port: middlebox?.port ?? server.port });
    }
    const [first, ...others] = entries as [{ server: LessonServer; port: number }, ...{ server: LessonServer; port: number }[]];
    const nodes: ScenarioNode[] = others.map(({ server, port }, index) => {
      const name = CLUSTER_NODES[index + 1] as ClusterNode;
      const crash = async (): Promise<void> => {
        server.child.kill('SIGKILL');
        await server.exited;
      };
      return { name, terminal: server.terminal, port, serverPort: server.port, nominal: clusterNominalPorts(name), crash };
    });
    const run = await runScenario({
      lesson,
      port: first.port,
      server: first.server.terminal,
      serverPort: first.server.port,
      nodes,
      more,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
    const renames = nodes.flatMap((node): PortRename[] => [
      { actual: node.serverPort, nominal: node.nominal.server, side: 'server' },
      { actual: node.port, nominal: node.nominal.inspector, side: 'users' },
    ]);
    const ports: RunPorts = { server: first.server.port, users: first.port, ...(renames.length || more.length ? { more: [...renames, ...more] } : {}) };
    // Freeze the transcripts before stopping anything: what is printed then is not part of the run.
    const transcripts = renderTranscripts(run.terminals, ports);
    await run.stop();
    return { terminals: run.terminals, ports, transcripts };
  } finally {
    await Promise.all(middleboxes.map((middlebox) => middlebox.stop()));
    await stop();
  }
}
