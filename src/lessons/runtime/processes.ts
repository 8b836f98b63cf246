import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Lesson } from './catalogue.ts';
import { Terminal } from './terminal.ts';
import { commandLine, programCommand } from './tracks.ts';

/** Where every lesson server listens (they bind 127.0.0.1 only). */
export const LESSON_HOST = '127.0.0.1';

/** A running program of a lesson (its server or a client) with its terminal. */
export interface LessonProcess {
  terminal: Terminal;
  child: ChildProcess;
  /** Resolves with the exit code (or the signal's name) once the program has ended. */
  exited: Promise<number | string>;
  /** Ends the program (SIGTERM, then SIGKILL if it lingers) and waits for it. */
  stop(): Promise<void>;
}

/** A lesson server that printed its `listening on 127.0.0.1:<port>` line. */
export interface LessonServer extends LessonProcess {
  host: string;
  port: number;
}

/** Starts `node <file>` (`python3 <file>` for a `.py`) in a lesson's folder; its stdout and stderr feed a {@link Terminal}. */
export function startNodeProgram(lesson: Lesson, file: string, terminal: Terminal, env: Record<string, string>): LessonProcess {
  const [interpreter = process.execPath] = programCommand(file);
  const child = spawn(interpreter, [join(lesson.dir, file)], {
    cwd: lesson.dir,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (text: string) => terminal.write(text));
  child.stderr.on('data', (text: string) => terminal.write(text));
  // A child that has exited makes writes to its stdin fail with EPIPE: that is not our error.
  child.stdin.on('error', () => {});
  const exited = new Promise<number | string>((resolve) => {
    child.on('close', (code, signal) => {
      terminal.end();
      resolve(code ?? signal ?? 'unknown');
    });
    child.on('error', (error) => {
      terminal.write(`${error.message}\n`);
      terminal.end();
      resolve('spawn failed');
    });
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
    await exited;
    clearTimeout(timer);
  };
  return { terminal, child, exited, stop };
}

/**
 * Starts a lesson's server (or its broken copy) with `PORT` (and `env`) in the environment and
 * resolves once it prints `listening on 127.0.0.1:<port>`. `port` 0 lets the system pick a free
 * port. `name` names its terminal (default `server`; a cluster lesson has one per node).
 * Rejects, with what the server printed, if it exits or stays silent for `timeoutMs`.
 */
export async function startLessonServer(lesson: Lesson, options: { port?: number; file?: string; timeoutMs?: number; env?: Record<string, string>; name?: string } = {}): Promise<LessonServer> {
  const file = options.file ?? lesson.server;
  const port = options.port ?? 0;
  // The command shown above the transcript names the variables a learner sets besides PORT.
  const shown = Object.entries(options.env ?? {})
    .map(([key, value]) => `${key}=${value} `)
    .join('');
  const terminal = new Terminal(options.name ?? 'server', `${shown}${commandLine(file)}`);
  const program = startNodeProgram(lesson, file, terminal, { ...options.env, PORT: String(port), HOST: LESSON_HOST });
  const timeoutMs = options.timeoutMs ?? 10_000;
  try {
    const actualPort = await new Promise<number>((resolve, reject) => {
      const find = (): boolean => {
        for (const line of terminal.printed) {
          const match = /^listening on 127\.0\.0\.1:(\d+)$/.exec(line);
          if (match) {
            resolve(Number(match[1]));
            return true;
          }
        }
        return false;
      };
      if (find()) return;
      const timer = setTimeout(() => reject(new Error(`did not print "listening on 127.0.0.1:<port>" within ${timeoutMs} ms`)), timeoutMs);
      terminal.onLine(() => {
        if (find()) clearTimeout(timer);
      });
      void program.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`exited (${code}) before listening`));
      });
    });
    return { ...program, host: LESSON_HOST, port: actualPort };
  } catch (error) {
    await program.stop();
    const output = terminal.printed.map((line) => `    ${line}`).join('\n') || '    (nothing)';
    throw new Error(`lesson ${lesson.slug}: ${file} ${(error as Error).message}. It printed:\n${output}`);
  }
}
