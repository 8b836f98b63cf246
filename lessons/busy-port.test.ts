// Every lesson server a learner can start (the Node ones, their broken copies, and the Python
// twin of each) on a port another program holds: one line on stderr naming the port, exit
// status 1, no stack trace; the Node line word for word the Python one. Real processes on a port
// really taken (a TCP listener, or a bound UDP socket for lesson 15). Lesson 14's nodes join
// Redis before they listen, so its files run against a redis-server of this file's own.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTrack, type Lesson, LESSON_HOST, listLessons, programCommand } from '../src/lessons/runtime/index.ts';
import { holdPort } from '../test-support/held-port.ts';
import { within } from '../test-support/promises.ts';
import { startRedis, type TestRedis } from '../test-support/redis-server.ts';

/** Most ms a server may take to give up on a taken port (it exits as soon as it tries). */
const EXIT_MS = 10_000;

/** What a program printed, and how it ended. */
interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a lesson program in its folder with `env` until it exits. */
function runToExit(lesson: Lesson, file: string, env: Record<string, string>): Promise<Ended> {
  const [interpreter = process.execPath] = programCommand(file);
  const child = spawn(interpreter, [join(lesson.dir, file)], { cwd: lesson.dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const ended: Ended = { code: null, stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (text: string) => void (ended.stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => void (ended.stderr += text));
  const exited = new Promise<Ended>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ ...ended, code }));
  });
  return within(exited, EXIT_MS, () => {
    child.kill('SIGKILL');
    return `${file} of ${lesson.slug} still running on a taken port; it printed:\n${ended.stdout}${ended.stderr}`;
  });
}

/** Every server file of a lesson a learner runs: its server, and its broken copy if it keeps one. */
function serverFiles(lesson: Lesson): string[] {
  return [lesson.server, ...(lesson.broken ? [lesson.broken.file] : [])];
}

/** Checks a lesson's Node server files, and their Python twins, on a taken port. */
function describeTakenPort(lessons: Lesson[], env: () => Record<string, string> = () => ({})): void {
  for (const lesson of lessons) {
    const python = inTrack(lesson, 'python');
    serverFiles(lesson).forEach((file, i) => {
      const twin = python && serverFiles(python)[i];
      it(`${lesson.slug}: ${file}${twin ? ` (and ${twin})` : ''} says in one line that the port is busy, and exits 1`, async () => {
        const held = await holdPort(lesson.transport === 'udp' ? 'udp' : 'tcp');
        try {
          const runs = await Promise.all([file, ...(twin ? [twin] : [])].map((program) => runToExit(lesson, program, { ...env(), PORT: String(held.port) })));
          for (const run of runs) {
            expect(run.stderr, `stdout was:\n${run.stdout}`).toBe(`port ${held.port} is busy: address already in use ${LESSON_HOST}:${held.port} (EADDRINUSE)\n`);
            expect(run.code).toBe(1);
            // No stack trace: not on stderr (above), nor in what it printed before.
            expect(run.stdout).not.toMatch(/^\s+at |Traceback|EADDRINUSE/m);
          }
        } finally {
          await held.release();
        }
      });
    });
  }
}

describe.concurrent('a lesson server on a port that is taken', () => {
  describeTakenPort(listLessons().filter((lesson) => !lesson.cluster));
});

describe.concurrent('a lesson 14 node on a port that is taken (once it has joined Redis)', () => {
  let redis: TestRedis | undefined;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  describeTakenPort(
    listLessons().filter((lesson) => lesson.cluster),
    () => ({ REDIS_URL: redis!.url }),
  );
});
