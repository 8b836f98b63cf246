import { relative } from 'node:path';
import type { Writable } from 'node:stream';
import { startInspector, type Inspector } from '../../inspector/index.ts';
import { lessonNumberLabel, loadAccounts, type Lesson } from './catalogue.ts';
import { LESSON_HOST, startLessonServer, type LessonServer } from './processes.ts';
import { runScenario, type ScenarioRun } from './scenario.ts';
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
  server: LessonServer;
  inspector: Inspector;
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
    inspector = await startInspector({
      listen: { port: options.inspectPort },
      target: { host: server.host, port: server.port },
      ...(lesson.transport === 'udp' ? { transport: 'udp' as const } : {}),
      view: 'plain',
      output: options.output,
      color: options.color,
      ...(options.fragment && lesson.transport !== 'udp' ? { faults: { fragment: options.fragment } } : {}),
    });
  } catch (error) {
    await server.stop();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new LessonPortBusyError('--inspect-port', `${LESSON_HOST}:${options.inspectPort}`);
    throw error;
  }
  const print = (line: string): void => inspector.plain?.print(line);
  const show = (terminal: Terminal): void => terminal.onLine((line) => print(prefixed(terminal, line, options.color)));

  let run: ScenarioRun | undefined;
  let playing: Promise<void> | undefined;
  return {
    server,
    inspector,
    play() {
      playing ??= (async () => {
        for (const line of server.terminal.lines) print(prefixed(server.terminal, line, options.color));
        show(server.terminal);
        if (options.users === false) return;
        run = await runScenario({
          lesson,
          port: inspector.address.port,
          server: server.terminal,
          serverPort: server.port,
          onTerminal: show,
          ...(options.paceMs ? { paceMs: options.paceMs } : {}),
        });
        await inspector.idle();
      })();
      return playing;
    },
    async stop() {
      await playing?.catch(() => undefined);
      await run?.stop();
      await inspector.stop();
      await server.stop();
    },
  };
}

/** The command a learner types to join a running lesson with their own client. */
export function joinCommand(lesson: Lesson, port: number): string {
  if (!lesson.client) return `nc 127.0.0.1 ${port}`;
  const [user, password] = Object.entries(loadAccounts()).at(-1) ?? ['dave', 'davesecret'];
  return `cd ${relative(process.cwd(), lesson.dir) || '.'} && CHATLAB_USER=${user} CHATLAB_PASSWORD=${password} PORT=${port} ${commandLine(lesson.client)}`;
}
