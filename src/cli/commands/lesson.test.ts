/**
 * `chatlab lesson` as a learner runs it: real processes, a private check cache, free ports.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliCommand, runChatlab, type CliResult } from '../../../test-support/cli-process.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { findLesson, listLessons, type Lesson } from '../../lessons/runtime/index.ts';

/** `chatlab`: this run's build of the source (test-support/test-build.ts), what `npx chatlab lesson` runs from source. */
const [NODE, ...CHATLAB] = cliCommand() as [string, ...string[]];
const cache = mkdtempSync(join(tmpdir(), 'chatlab-lesson-cli-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));

/** Runs `chatlab …` to its end (bounded), with colours off and the private cache, in `cwd` (default: here). */
function chatlab(args: string[], timeoutMs = 30_000, cwd?: string): Promise<CliResult> {
  return runChatlab(args, { cacheDir: cache, timeoutMs, ...(cwd !== undefined && { cwd }) });
}

describe.concurrent('chatlab lesson', () => {
  it('check runs the verifier and remembers the result for list', async () => {
    const before = await chatlab(['lesson', 'list']);
    expect(before.code).toBe(0);
    expect(before.stdout.split('\n').filter((line) => /^\d\d {2}/.test(line))).toHaveLength(listLessons().length);
    expect(before.stdout).toMatch(/^01 {2}Listen: open a port +· not checked yet$/m);

    const check = await chatlab(['lesson', 'check', '1']);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain('✓  1 listen');
    expect(check.stdout).toMatch(/^lesson 01 01-listen: passes\n {2}server\.mjs: passes step 1 \(\d+ checks?\)$/m);
    expect(check.stdout).not.toContain('steps 1–1');

    const after = await chatlab(['lesson', 'list']);
    expect(after.stdout).toMatch(/^01 {2}Listen: open a port +✓ passes$/m);
    expect(after.stdout).toMatch(/^02 {2}Connect: a client opens a connection +· not checked yet$/m);
  });

  it('run plays the scripted users through the inspector', async () => {
    const { code, stdout, stderr } = await chatlab(['lesson', 'run', '3', '--port', '0', '--inspect-port', '0', '--once', '--pace', '0']);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^lesson 03 · Accept: a session per connection, and hello: server\.mjs listening on 127\.0\.0\.1:\d+, inspector on 127\.0\.0\.1:\d+ \(Ctrl-C to stop\)$/m);
    expect(stdout).toContain('   alice │ server sent: {"type":"hello","protocol":"chatlab/1"}');
    expect(stdout).toContain('  server │ #2 connected');
    expect(stdout).toMatch(/├─+ hello ─+▶│/);
    expect(stdout).toContain('10-step checklist');
  });

  it('run plays a cluster lesson on two nodes sharing a Redis of its own, and diff compares it with the lesson it builds on', async () => {
    const [{ code, stdout, stderr }, diff] = await Promise.all([chatlab(['lesson', 'run', '14', '--port', '0', '--inspect-port', '0', '--once', '--pace', '0']), chatlab(['lesson', 'diff', '14'])]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^node B listening on 127\.0\.0\.1:\d+, behind an inspector on 127\.0\.0\.1:\d+ \(not drawn here\)$/m);
    expect(stdout).toMatch(/^both nodes share Redis at redis:\/\/127\.0\.0\.1:\d+$/m);
    expect(stdout).toContain('server B │ bob says: and hello from node B');
    expect(stdout).toContain('   alice │ bob: and hello from node B');
    expect(stdout).toContain('server A │ bob was on B, which stopped answering: offline');
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('--- 10-disconnect/server.mjs\n+++ 14-two-servers/server.mjs');
  });

  it('show renders the README, diff colours nothing when NO_COLOR is set', async () => {
    const [show, diff] = await Promise.all([chatlab(['lesson', 'show', '04-login']), chatlab(['lesson', 'diff', '4', '--fix'])]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('# Lesson 04 · Login: reading frames from a byte stream');
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('--- 04-login/server-naive.mjs\n+++ 04-login/server.mjs');
    expect(diff.stdout).not.toContain('\u001b[');
  });

  it('run names the flag and the address of a port that is taken', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const [inspector, server] = await Promise.all([
        chatlab(['lesson', 'run', '3', '--port', '0', '--inspect-port', String(port), '--once', '--pace', '0']),
        chatlab(['lesson', 'run', '3', '--port', String(port), '--inspect-port', '0', '--once', '--pace', '0']),
      ]);
      expect(inspector).toMatchObject({ code: 1, stderr: `chatlab: 127.0.0.1:${port} is already in use: is another lesson running? Pick another --inspect-port (0 = any free port).\n` });
      expect(server).toMatchObject({ code: 1, stderr: `chatlab: 127.0.0.1:${port} is already in use: is another lesson running? Pick another --port (0 = any free port).\n` });
    } finally {
      busy.close();
    }
  });

  it("README's Replay it line runs in the lesson folder and shows the ports of the README's diagram", async () => {
    const lesson = findLesson(4) as Lesson;
    const readme = readFileSync(join(lesson.dir, 'README.md'), 'utf8');
    const replay = /Replay it in this folder: `npx chatlab ([^`]+)`/.exec(readme)?.[1];
    expect(replay, 'the Replay it line of lessons/04-login/README.md').toBe('inspect replay trace.jsonl');
    const { code, stdout, stderr } = await chatlab([...(replay as string).split(' '), '--plain'], 30_000, lesson.dir);
    expect(code, stderr).toBe(0);
    expect(readme).toContain('server<br/>127.0.0.1:7070');
    expect(stdout).toContain('server is listening on 127.0.0.1:7070 (it accepted a connection)');
  });

  it('run stops its server when the terminal closes (SIGHUP), as on Ctrl-C', async () => {
    const child = spawn(NODE, [...CHATLAB, 'lesson', 'run', '1', '--port', '0', '--inspect-port', '0', '--no-users'], { env: { ...process.env, CHATLAB_CACHE_DIR: cache, NO_COLOR: '1' } });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    let stdout = '';
    const serverPort = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner within 20 s: ${stdout}`)), 20_000);
      child.stdout.setEncoding('utf8').on('data', (text: string) => {
        stdout += text;
        const port = /listening on 127\.0\.0\.1:(\d+), inspector/.exec(stdout)?.[1];
        if (port && /Your turn:/.test(stdout)) {
          clearTimeout(timer);
          resolve(Number(port));
        }
      });
    });
    child.kill('SIGHUP');
    expect(await exited).toEqual({ code: 0, signal: null });
    // The lesson's server went with it: nothing listens on its port any more.
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(serverPort, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });

  it('says in one line what is wrong with the arguments', async () => {
    const [missing, broken] = await Promise.all([chatlab(['lesson', 'show', '99']), chatlab(['lesson', 'run', '1', '--broken'])]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim()).toMatch(/there is no lesson "99": the lessons are 1 to 15 \(see chatlab lesson list\)\.$/);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toBe('chatlab: lesson 1 has no broken version (lessons 4, 7 and 14 do).\n');
  });
});
