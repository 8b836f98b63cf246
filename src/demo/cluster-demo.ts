/**
 * `chatlab demo --cluster`: the scripted chat on two nodes of one cluster, so one `say` is seen
 * crossing them. Loaded only for `--cluster` (it brings the cluster code and ioredis along), so
 * the plain demo never pays for them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, parse } from 'node:path';
import type { Writable } from 'node:stream';
import { gridWidth, PREFIX_WIDTH, startInspector, type Inspector, type SessionModel } from '../inspector/index.ts';
import { startRedisServer, type RedisServer } from '../lessons/runtime/index.ts';

/** What {@link runClusterDemo} throws when `redis-server` is not on PATH (the CLI says so in one line). */
export { RedisNotInstalledError } from '../lessons/runtime/index.ts';
import type { ChatServer } from '../server/index.ts';
import { createClusterServer } from '../server/cluster/index.ts';
import { colorEnabled } from '../terminal/index.ts';
import { caughtUp, DEMO_SCRYPT } from './demo.ts';
import { LabelledLines } from './labelled-lines.ts';
import { DEMO_ACCOUNTS, followAbort, runScenario, type DemoUser } from './scenario.ts';

/** Options of {@link runClusterDemo}. */
export interface ClusterDemoOptions {
  /** Pause between scenario actions, in ms (0 = as fast as possible). */
  paceMs: number;
  /** Where both diagrams, the narration and the end lines go (default stdout). */
  output?: Writable;
  /** Colours (default: when the output is a TTY). */
  color?: boolean;
  /** Also record each node's session: `<record>` becomes `<name>-a<ext>` and `<name>-b<ext>` beside it (see {@link clusterTraceFiles}). */
  record?: string;
  /** Stops the demo wherever it is (Ctrl-C, a signal); everything it started is stopped, Redis included. */
  signal?: AbortSignal;
}

/** The two nodes, by name. */
export type NodeName = 'A' | 'B';

/** What one node's inspector saw. */
export interface ClusterDemoNode {
  name: NodeName;
  model: SessionModel;
}

/** What the cluster demo showed. */
export interface ClusterDemoResult {
  nodes: ClusterDemoNode[];
  /** Each `say` that entered one node and reached users on the other, as a sentence ("alice's say on node A reached bob and carol on node B"). */
  crossings: string[];
  /** Both nodes saw all ten steps, and a `say` crossed each way. */
  allGreen: boolean;
  /** The signal stopped the demo before the script played out. */
  stopped: boolean;
}

/** Who connects through which node: alice on A, bob and carol on B, so every `say` and presence crosses. */
const NODE_OF: Record<DemoUser, NodeName> = { alice: 'A', bob: 'B', carol: 'B' };

/** The nodes, in the order they start. */
const NODE_NAMES = ['A', 'B'] as const;

/** Cells per lifeline column: narrower than the plain demo's (18), so two labelled diagrams fit 80 columns. */
const COLUMN_WIDTH = 14;

/** The terminal width the diagrams are cut to. */
const LINE_WIDTH = 80;

/** The trace files of `--record <file> --cluster`: `chat.jsonl` → `chat-a.jsonl`, `chat-b.jsonl`. */
export function clusterTraceFiles(record: string): Record<NodeName, string> {
  const { dir, name, ext } = parse(record);
  return { A: join(dir, `${name}-a${ext}`), B: join(dir, `${name}-b${ext}`) };
}

/**
 * Starts a throwaway redis-server, two cluster nodes A and B in this process (the demo accounts
 * in Redis) and an inspector in front of each, all on free ports of 127.0.0.1; plays the scripted
 * chat with alice through inspector A and bob and carol through inspector B; draws both plain
 * diagrams to one output, each line labelled `[A]` or `[B]`; ends with what each node saw and
 * which messages crossed. Everything started is stopped on the way out, Redis last.
 * @throws RedisNotInstalledError when redis-server is not on PATH.
 */
export async function runClusterDemo(options: ClusterDemoOptions): Promise<ClusterDemoResult> {
  const output = options.output ?? process.stdout;
  const color = options.color ?? colorEnabled(output as { isTTY?: boolean });
  const { stop, release } = followAbort(options.signal);
  let removeSpoolDir: (() => void) | undefined;
  const started: { redis?: RedisServer; servers: ChatServer[]; inspectors: Inspector[] } = { servers: [], inspectors: [] };
  try {
    // Out of reach of the terminal's Ctrl-C: it is stopped last, once the nodes have left it.
    const redis = await startRedisServer({ ownProcessGroup: true });
    started.redis = redis;
    // The spool (messages said while Redis is away) is created only if that happens; never here, but it needs a place.
    const spoolDir = mkdtempSync(join(tmpdir(), 'chatlab-demo-spool-'));
    // Removed at the end, or when the process exits under the demo (its output closed: `chatlab demo --cluster | head`).
    removeSpoolDir = () => rmSync(spoolDir, { recursive: true, force: true });
    process.once('exit', removeSpoolDir);
    const targets = await startNodes(redis.url, spoolDir, started.servers);
    const traces = options.record === undefined ? undefined : clusterTraceFiles(options.record);
    const starting = NODE_NAMES.map((name, index) => startNodeInspector(name, targets[index] as { host: string; port: number }, output, color, traces?.[name]));
    const settled = await Promise.allSettled(starting);
    for (const outcome of settled) if (outcome.status === 'fulfilled') started.inspectors.push(outcome.value);
    for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason;
    const nodes = NODE_NAMES.map((name, index) => ({ name, inspector: started.inspectors[index] as Inspector }));
    // One clock for both diagrams (each counts from its inspector's start, B's a little later), so
    // the times of interleaved [A] and [B] lines compare. No row is drawn before the first connection.
    const startT = Math.min(...nodes.map(({ inspector }) => inspector.model.startT ?? Infinity));
    for (const { inspector } of nodes) inspector.model.startT = startT;
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    output.write(introLines(redis, a.inspector, b.inspector).join('\n') + '\n');
    const inspectors = nodes.map((node) => node.inspector);
    const userTargets = Object.fromEntries(Object.entries(NODE_OF).map(([user, node]) => [user, (node === 'A' ? a : b).inspector.address]));
    try {
      await runScenario({
        host: a.inspector.address.host,
        port: a.inspector.address.port,
        targets: userTargets,
        paceMs: options.paceMs,
        signal: stop.signal,
        narrate: async (text) => {
          // Both diagrams show all the last action caused before the next one is told.
          await Promise.all(inspectors.map((inspector) => caughtUp(inspector, stop.signal)));
          await Promise.all(inspectors.map((inspector) => inspector.plain?.flushed()));
          output.write(`── ${text}\n`);
        },
      });
      // Let the last FINs and closes reach both diagrams before summing up.
      await Promise.all(nodes.map(({ name, inspector }) => inspector.waitFor((m) => m.counters.open === 0, 5_000, `every demo connection through node ${name} to close`, stop.signal)));
    } catch (error) {
      if (!stop.signal.aborted) throw error;
    }
    const seen = nodes.map(({ name, inspector }) => ({ name, model: inspector.model }));
    if (stop.signal.aborted) return { nodes: seen, crossings: [], allGreen: false, stopped: true };
    for (const inspector of inspectors) await inspector.stop();
    const [seenA, seenB] = seen as [ClusterDemoNode, ClusterDemoNode];
    const aToB = crossingsBetween(seenA, seenB);
    const bToA = crossingsBetween(seenB, seenA);
    const crossings = [...aToB, ...bToA];
    const crossedBothWays = aToB.length > 0 && bToA.length > 0;
    output.write(['', ...seen.map(stepsLine), ...crossingLines(crossings)].join('\n') + '\n');
    return { nodes: seen, crossings, allGreen: crossedBothWays && seen.every((node) => node.model.allStepsSeen), stopped: false };
  } finally {
    release();
    // One after the other: each prints its checklist as it stops (once), and they must not interleave.
    for (const inspector of started.inspectors) await inspector.stop().catch(() => undefined);
    await Promise.all(started.servers.map((server) => server.stop().catch(() => undefined)));
    await started.redis?.stop();
    if (removeSpoolDir) {
      process.off('exit', removeSpoolDir);
      removeSpoolDir();
    }
  }
}

/**
 * Creates and starts nodes A and B on free ports (each put in `servers` at once, to be stopped
 * whatever happens next) and answers where they listen. The demo accounts are added once,
 * through A; B reads them from Redis as it starts.
 */
async function startNodes(redisUrl: string, spoolDir: string, servers: ChatServer[]): Promise<Array<{ host: string; port: number }>> {
  const targets: Array<{ host: string; port: number }> = [];
  for (const name of NODE_NAMES) {
    const node = await createClusterServer({ host: '127.0.0.1', port: 0, scrypt: DEMO_SCRYPT, redis: { url: redisUrl, nodeId: name }, spool: join(spoolDir, `spool-${name}.db`) });
    servers.push(node.server);
    if (name === 'A') for (const { user, password } of DEMO_ACCOUNTS) await node.accounts.add(user, password);
    targets.push(await node.server.start());
  }
  return targets;
}

/** Where Redis, the nodes and their inspectors listen, who connects where, and how to stop. */
function introLines(redis: RedisServer, a: Inspector, b: Inspector): string[] {
  const where = (endpoint: { host: string; port: number }): string => `${endpoint.host}:${endpoint.port}`;
  return [
    'chatlab demo --cluster: two nodes, one chat, shared through Redis; Ctrl-C to stop',
    `  Redis   ${new URL(redis.url).host} (throwaway: nothing kept, removed at the end)`,
    `  node A  ${where(a.target)}, inspector [A] on ${where(a.address)}: alice`,
    `  node B  ${where(b.target)}, inspector [B] on ${where(b.address)}: bob, carol`,
  ];
}

/** Node `name`'s inspector, in front of `target`: its plain diagram goes to `output`, each line labelled `[name]`. */
function startNodeInspector(name: NodeName, target: { host: string; port: number }, output: Writable, color: boolean, record: string | undefined): Promise<Inspector> {
  const label = `[${name}] `;
  return startInspector({
    target,
    view: 'plain',
    output: new LabelledLines(label, output),
    color,
    record,
    // The widest diagram has three lifelines (the server, bob and carol on B).
    plainWidths: { columnWidth: COLUMN_WIDTH, summaryWidth: LINE_WIDTH - label.length - PREFIX_WIDTH - gridWidth({ ids: [0, 1, 2], columnWidth: COLUMN_WIDTH }) - 1 },
  });
}

/** "node A saw 10/10 steps: 1 2 3 4 5 6 7 8 9 10", or which ones it missed. */
function stepsLine({ name, model }: ClusterDemoNode): string {
  const seen = model.steps.filter((s) => s.seen).map((s) => s.step);
  const missed = model.steps.filter((s) => !s.seen).map((s) => s.step);
  return `node ${name} saw ${seen.length}/10 steps: ${seen.join(' ')}${missed.length > 0 ? ` (not ${missed.join(' ')})` : ''}`;
}

/** The end lines about the crossings: they are the point of the demo, so their absence is said too. */
function crossingLines(crossings: string[]): string[] {
  if (crossings.length === 0) return ['no say crossed the nodes: each node delivered only to its own users'];
  return ['the chat crossed the nodes, through Redis:', ...crossings.map((c) => `  ${c}`)];
}

/** The user a diagram row's connection belongs to, once logged in. */
function userOf(model: SessionModel, conn: number | undefined): string | undefined {
  return conn === undefined ? undefined : model.lifeline(conn)?.user;
}

/**
 * From the two diagrams: each user whose `say` entered node `from` (drawn there, client to server)
 * and the users on node `to` who received it as a `message` (drawn there, server to client).
 */
function crossingsBetween(from: ClusterDemoNode, to: ClusterDemoNode): string[] {
  const speakers = new Set<string>();
  for (const row of from.model.rows) {
    const frame = row.item?.kind === 'frame' ? row.item.frame : undefined;
    const user = userOf(from.model, row.conn);
    if (frame?.type === 'say' && row.dir === 'c2s' && user !== undefined) speakers.add(user);
  }
  const lines: string[] = [];
  for (const speaker of speakers) {
    const reached = new Set<string>();
    for (const row of to.model.rows) {
      const frame = row.item?.kind === 'frame' ? row.item.frame : undefined;
      const user = userOf(to.model, row.conn);
      if (frame?.type === 'message' && frame.from === speaker && row.dir === 's2c' && user !== undefined) reached.add(user);
    }
    if (reached.size > 0) lines.push(`${speaker}'s say on node ${from.name} reached ${listed([...reached])} on node ${to.name}`);
  }
  return lines;
}

/** "bob", "bob and carol", "alice, bob and carol". */
function listed(names: string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}
