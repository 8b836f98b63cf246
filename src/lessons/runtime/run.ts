import { relative } from 'node:path';
import type { Writable } from 'node:stream';
import { startInspector, type Inspector } from '../../inspector/index.ts';
import { lessonNumberLabel, loadAccounts, type Lesson } from './catalogue.ts';
import { LESSON_HOST, startLessonServer, type LessonServer } from './processes.ts';
import { CLUSTER_NODES, clusterNominalPorts, startLessonCluster, type LessonCluster } from './cluster.ts';
import { runScenario, type ScenarioNode, type ScenarioRun } from './scenario.ts';
import { paint } from '../../terminal/index.ts';
import type { Terminal, TranscriptLine } from './terminal.ts';
import { commandLine } from './tracks.ts';

/** Options of {@link runLesson}. */
export interface RunLessonOptions {
  /** The lesson server's port (0 = any free port). */
  port: number;
  /** The inspector's port, where the users connect (0 = any free port). */
  inspectPort: number;
  /** Run the lesson's broken copy instead of its server. */
  broken?: boolean;
  /** Inspector fault: re-chunk forwarded bytes into pieces of at most this many bytes. */
  fragment?: number;
  /** Play the scripted users (default true). */
  users?: boolean;
  /** Pause before each scripted action, so the run can be followed live (default 0). */
  paceMs?: number;
  /** Where everything is printed. */
  output: Writable;
  color: boolean;
}

/** A lesson running behind the inspector. */
export interface RunningLesson {
  /** The lesson server (a cluster lesson: its node A). */
  server: LessonServer;
  /** The inspector in front of it, drawing the live diagram. */
  inspector: Inspector;
  /** What else runs, one line each (a cluster lesson: node B behind its own inspector, and Redis). */
  notes: string[];
  /**
   * Shows the server's output so far, then plays the scripted users (if any) and resolves when
   * they are done; rejects if one of them did not see what it expected.
   */
  play(): Promise<void>;
  /** Stops the users, the inspector and the server. */
  stop(): Promise<void>;
}

/**
 * A port `chatlab lesson run` was told to use is taken: which one, and the flag that chose it,
 * so the learner knows what to change.
 */
export class LessonPortBusyError extends Error {
  constructor(
    /** The flag that picked the port: `--port` (the lesson server) or `--inspect-port` (the inspector). */
    readonly flag: '--port' | '--inspect-port',
    /** The address that is taken, `host:port`. */
    readonly address: string,
  ) {
    super(`${address} is already in use (${flag})`);
    this.name = 'LessonPortBusyError';
  }
}

const PREFIX_WIDTH = 8;

function prefixed(terminal: Terminal, line: TranscriptLine, color: boolean): string {
  const name = terminal.name.padStart(PREFIX_WIDTH).slice(-PREFIX_WIDTH);
  const text = line.kind === 'in' ? `> ${line.text}` : line.text;
  const out = `${name} │ ${text}`;
  return paint(line.kind === 'in' ? 'yellow' : 'dim', out, color);
}

/**
 * `chatlab lesson run`: starts a lesson's server, puts the inspector in front of it with its live
 * text diagram, then plays the lesson's scripted users through the inspector. What every
 * terminal prints (the server's, each user's) is woven into the diagram, prefixed with its name,
 * so the new step is seen as it happens, on the wire and on the screens.
 */
export async function runLesson(lesson: Lesson, options: RunLessonOptions): Promise<RunningLesson> {
  const file = options.broken ? lesson.broken?.file : lesson.server;
  if (!file) throw new Error(`lesson ${lessonNumberLabel(lesson)} has no broken version`);
  if (lesson.cluster) return runClusterLesson(lesson, file, options);
  let server: LessonServer;
  try {
    server = await startLessonServer(lesson, { port: options.port, file });
  } catch (error) {
    // The lesson server is a child process: its listen error only shows in what it printed.
    if (options.port !== 0 && /EADDRINUSE/.test((error as Error).message)) throw new LessonPortBusyError('--port', `${LESSON_HOST}:${options.port}`);
    throw error;
  }
  let inspector: Inspector;
  try {
    inspector = await startLiveInspector(lesson, server, options);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return playing(lesson, options, { server, inspector, nodes: [], notes: [], stop: () => server.stop() });
}

/** The inspector with the live diagram, in front of `server` on `--inspect-port`. */
async function startLiveInspector(lesson: Lesson, server: LessonServer, options: RunLessonOptions): Promise<Inspector> {
  try {
    return await startInspector({
      listen: { port: options.inspectPort },
      target: { host: server.host, port: server.port },
      ...(lesson.transport === 'udp' ? { transport: 'udp' as const } : {}),
      view: 'plain',
      output: options.output,
      color: options.color,
      ...(options.fragment && lesson.transport !== 'udp' ? { faults: { fragment: options.fragment } } : {}),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new LessonPortBusyError('--inspect-port', `${LESSON_HOST}:${options.inspectPort}`);
    throw error;
  }
}

/**
 * A cluster lesson (lesson 14): its own redis-server, node A on `--port` behind the live
 * inspector on `--inspect-port`, node B two ports up (7072) behind a silent inspector (7073).
 * The diagram draws node A's wire; every terminal, node B's included, is woven into it.
 */
async function runClusterLesson(lesson: Lesson, file: string, options: RunLessonOptions): Promise<RunningLesson> {
  const up = (port: number): number => (port === 0 ? 0 : port + 2);
  let cluster: LessonCluster;
  try {
    cluster = await startLessonCluster(lesson, { file, ports: [options.port, up(options.port)] });
  } catch (error) {
    if (options.port !== 0 && /EADDRINUSE/.test((error as Error).message)) throw new LessonPortBusyError('--port', `${LESSON_HOST}:${options.port} or ${up(options.port)}`);
    throw error;
  }
  const [server, nodeB] = cluster.nodes as [LessonServer, LessonServer];
  const started: Inspector[] = [];
  try {
    const inspector = await startLiveInspector(lesson, server, options);
    started.push(inspector);
    const silent = await startInspector({ listen: { port: up(options.inspectPort) }, target: { host: nodeB.host, port: nodeB.port }, view: 'none' });
    started.push(silent);
    const node: ScenarioNode = {
      name: CLUSTER_NODES[1],
      terminal: nodeB.terminal,
      port: silent.address.port,
      serverPort: nodeB.port,
      nominal: clusterNominalPorts(CLUSTER_NODES[1]),
      crash: async () => {
        nodeB.child.kill('SIGKILL');
        await nodeB.exited;
      },
    };
    const notes = [
      `node B listening on ${nodeB.host}:${nodeB.port}, behind an inspector on ${silent.address.host}:${silent.address.port} (not drawn here)`,
      `both nodes share Redis at ${cluster.redis.url}`,
    ];
    const stop = async (): Promise<void> => {
      await silent.stop();
      await cluster.stop();
    };
    return playing(lesson, options, { server, inspector, nodes: [node], notes, stop });
  } catch (error) {
    await Promise.all(started.map((inspector) => inspector.stop()));
    await cluster.stop();
    throw error;
  }
}

/** What {@link playing} runs the users against: the servers, the live inspector, and how to stop the rest. */
interface Stage {
  server: LessonServer;
  inspector: Inspector;
  /** A cluster lesson's further nodes, each behind its own inspector. */
  nodes: ScenarioNode[];
  notes: string[];
  /** Stops everything but the live inspector. */
  stop(): Promise<void>;
}

/** The running lesson: plays the scripted users through the live inspector, weaving every terminal into its diagram. */
function playing(lesson: Lesson, options: RunLessonOptions, stage: Stage): RunningLesson {
  const { server, inspector, nodes } = stage;
  const print = (line: string): void => inspector.plain?.print(line);
  const show = (terminal: Terminal): void => terminal.onLine((line) => print(prefixed(terminal, line, options.color)));

  let run: ScenarioRun | undefined;
  let played: Promise<void> | undefined;
  return {
    server,
    inspector,
    notes: stage.notes,
    play() {
      played ??= (async () => {
        for (const terminal of [server.terminal, ...nodes.map((node) => node.terminal)]) {
          for (const line of terminal.lines) print(prefixed(terminal, line, options.color));
          show(terminal);
        }
        if (options.users === false) return;
        run = await runScenario({
          lesson,
          port: inspector.address.port,
          server: server.terminal,
          serverPort: server.port,
          nodes,
          onTerminal: show,
          ...(options.paceMs ? { paceMs: options.paceMs } : {}),
        });
        await inspector.idle();
      })();
      return played;
    },
    async stop() {
      await played?.catch(() => undefined);
      await run?.stop();
      await inspector.stop();
      await stage.stop();
    },
  };
}

/** The command a learner types to join a running lesson with their own client. */
export function joinCommand(lesson: Lesson, port: number): string {
  if (!lesson.client) return `nc 127.0.0.1 ${port}`;
  const [user, password] = Object.entries(loadAccounts()).at(-1) ?? ['dave', 'davesecret'];
  return `cd ${relative(process.cwd(), lesson.dir) || '.'} && CHATLAB_USER=${user} CHATLAB_PASSWORD=${password} PORT=${port} ${commandLine(lesson.client)}`;
}
