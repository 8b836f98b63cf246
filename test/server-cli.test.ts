/**
 * End to end: `chatlab server` and `chatlab users` as real processes — the listening line, PORT
 * from the environment, SIGTERM telling clients and exiting 0, and one clear line for bad input.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AccountStore } from '../src/server/index.ts';
import { cliCommand } from '../test-support/cli-process.ts';
import { FrameSocket } from '../test-support/frame-socket.ts';
import { within } from '../test-support/promises.ts';

const CHATLAB = fileURLToPath(new URL('../bin/chatlab.js', import.meta.url));
/** `chatlab server` as users start it (the bin, which runs it from its prebuilt bundle); `chatlab users` from this run's build of the source (test-support/test-build.ts), as the bin would run it from source. */
const commandOf = (args: string[]): string[] => (args[0] === 'server' ? [process.execPath, CHATLAB] : cliCommand());
const dir = mkdtempSync(join(tmpdir(), 'chatlab-cli-'));
const children: ChildProcessWithoutNullStreams[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Running {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first stdout line matching, or fails after the timeout. */
  line(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited(timeoutMs?: number): Promise<number | null>;
}

function run(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Running {
  const env = { ...process.env, ...options.env };
  delete env.PORT;
  delete env.HOST;
  Object.assign(env, options.env);
  const [program, ...entry] = commandOf(args) as [string, ...string[]];
  const child = spawn(program, [...entry, ...args], { cwd: dir, env });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (err += text));
  if (options.stdin !== undefined) child.stdin.end(options.stdin);
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    line: (pattern, timeoutMs = 10_000) =>
      within(
        new Promise<RegExpMatchArray>((resolve, reject) => {
          const check = () => {
            const match = out.match(pattern);
            if (match) return resolve(match);
            if (child.exitCode !== null) return reject(new Error(`exited ${child.exitCode}; stdout: ${out} stderr: ${err}`));
          };
          child.stdout.on('data', check);
          child.on('exit', check);
          check();
        }),
        timeoutMs,
        () => `no line matching ${pattern}; stdout: ${out} stderr: ${err}`,
      ),
    exited: (timeoutMs = 10_000) => within(exit, timeoutMs, () => `still running; stdout: ${out} stderr: ${err}`),
  };
}

/** Runs a command to completion. */
async function runToEnd(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}) {
  const running = run(args, options);
  const code = await running.exited();
  return { code, stdout: running.stdout(), stderr: running.stderr() };
}

const LISTENING = /^chatlab server listening on 127\.0\.0\.1:(\d+) \(db (.+); Ctrl-C to stop\)$/m;

describe('chatlab server', () => {
  it('prints its listening line, serves clients, and on SIGTERM tells them and exits 0', async () => {
    const db = join(dir, 'serve.db');
    expect((await runToEnd(['users', 'add', 'alice', '--password', 'wonderland', '--db', db])).code).toBe(0);
    const server = run(['server', '--port', '0', '--db', db, '--verbose']);
    const [, port, shownDb] = await server.line(LISTENING);
    expect(shownDb).toBe(db);
    const alice = await FrameSocket.connect(Number(port), { label: 'alice' });
    expect(await alice.nextFrame()).toMatchObject({ type: 'hello', protocol: 'chatlab/1' });
    alice.send({ type: 'login', user: 'alice', password: 'wonderland' });
    expect(await alice.nextFrame()).toMatchObject({ type: 'welcome', users: ['alice'] });
    await server.line(/#\d+ login alice/);
    server.child.kill('SIGTERM');
    expect(await alice.nextFrame()).toEqual({ type: 'bye', reason: 'server_shutdown' });
    await alice.closed();
    expect(await server.exited()).toBe(0);
    expect(server.stdout()).toMatch(/chatlab server stopped/);
    expect(server.stdout()).not.toContain('wonderland'); // verbose logs never show passwords
    expect(server.stderr()).toBe('');
  });

  it('takes its port from PORT when --port is absent', async () => {
    const server = run(['server', '--db', ':memory:'], { env: { PORT: '0' } });
    const [, port] = await server.line(LISTENING);
    // Only advice that works: "users add --db :memory:" would add to a database of its own.
    const [advice] = await server.line(/^no accounts yet: .*$/m);
    expect(advice).not.toContain('--db :memory:');
    expect(advice).toMatch(/clients register/);
    const socket = await FrameSocket.connect(Number(port));
    expect(await socket.nextFrame()).toMatchObject({ type: 'hello' });
    server.child.kill('SIGINT');
    expect(await server.exited()).toBe(0);
  });

  it('reports a bad flag, a busy port and a corrupt database in one line, exiting non-zero', async () => {
    const badFlag = await runToEnd(['server', '--bogus']);
    expect(badFlag.code).not.toBe(0);
    expect(badFlag.stderr.trim().split('\n')).toHaveLength(1);
    expect(badFlag.stderr).toMatch(/unknown option '--bogus'/);

    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const busy = await runToEnd(['server', '--port', String((blocker.address() as { port: number }).port), '--db', ':memory:']);
      expect(busy.code).toBe(1);
      expect(busy.stderr.trim().split('\n')).toHaveLength(1);
      expect(busy.stderr).toMatch(/^chatlab: address already in use/);
    } finally {
      blocker.close();
    }

    const corrupt = join(dir, 'corrupt.db');
    writeFileSync(corrupt, 'not a database '.repeat(100));
    const bad = await runToEnd(['server', '--port', '0', '--db', corrupt]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(`chatlab: cannot use database "${corrupt}": the file is not a SQLite database (or it is corrupt)\n`);

    const missing = await runToEnd(['users', 'list', '--db', join(dir, 'nope', 'x.db')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^chatlab: cannot use database ".*": the directory .* does not exist\n$/);
  });
});

describe('chatlab users', () => {
  it('adds (password from a flag or stdin), lists and removes accounts', async () => {
    const db = join(dir, 'users.db');
    expect(await runToEnd(['users', 'add', 'bob', '--password', 'builder', '--db', db])).toMatchObject({ code: 0, stdout: `added user bob to ${db}\n` });
    expect((await runToEnd(['users', 'add', 'alice', '--db', db], { stdin: 'wonderland\n' })).code).toBe(0);
    expect(await runToEnd(['users', 'list', '--db', db])).toMatchObject({ code: 0, stdout: 'alice\nbob\n' });
    const again = await runToEnd(['users', 'add', 'bob', '--password', 'builder2', '--db', db]);
    expect(again).toMatchObject({ code: 1, stderr: `chatlab: user "bob" already exists in ${db}\n` });
    const lookalike = await runToEnd(['users', 'add', 'B0b', '--password', 'builder2', '--db', db]);
    expect(lookalike).toMatchObject({ code: 1, stderr: expect.stringMatching(/^chatlab: user "B0b" is too similar to the existing user "bob" in .*\n$/) });
    const short = await runToEnd(['users', 'add', 'carol', '--password', '123', '--db', db]);
    expect(short.code).toBe(1);
    expect(await runToEnd(['users', 'remove', 'bob', '--db', db])).toMatchObject({ code: 0 });
    expect(await runToEnd(['users', 'remove', 'bob', '--db', db])).toMatchObject({ code: 1, stderr: `chatlab: no user "bob" in ${db}\n` });
    expect((await runToEnd(['users', 'list', '--db', db])).stdout).toBe('alice\n');
  });

  it('never creates a database for a reading command: a missing file is one clear line, exit 1', async () => {
    const typo = join(dir, 'typo.db');
    const list = await runToEnd(['users', 'list', '--db', typo]);
    expect(list).toMatchObject({ code: 1, stdout: '' });
    expect(list.stderr).toBe(`chatlab: no database "${typo}": the file does not exist (check the name; "chatlab users add <name> --db ${typo}" creates it)\n`);
    const remove = await runToEnd(['users', 'remove', 'bob', '--db', typo]);
    expect(remove).toMatchObject({ code: 1, stderr: list.stderr });
    expect(existsSync(typo)).toBe(false);
    const memory = await runToEnd(['users', 'list', '--db', ':memory:']);
    expect(memory.code).toBe(1);
    expect(memory.stderr).toBe('chatlab: --db :memory: is a throwaway database that lives inside one server process: name a database file\n');
  });

  it('imports many accounts in one process: bad lines reported by number, the good ones added, exit 1', async () => {
    const db = join(dir, 'import.db');
    const before = new AccountStore({ db, scrypt: { N: 2, r: 1, p: 1 } });
    await before.add('taken', 'already');
    before.close();
    const file = join(dir, 'accounts.txt');
    writeFileSync(file, ['# the class of 2026', 'ann:secret1', 'ben:with:colons', 'no colon here', 'bad name:secret2', 'cy:short', 'ann:again123', 'taken:secret3', 'dee:secret4\r', ''].join('\n'));
    const result = await runToEnd(['users', 'import', file, '--db', db]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^imported 3 accounts into .*import\.db in \d+\.\d s; 5 lines failed\n$/);
    const errors = result.stderr.split('\n').filter((line) => line.startsWith('line '));
    expect(errors).toEqual([
      'line 4: expected name:password (no colon)',
      'line 5: "bad name" is not a user name: 1–32 characters of A–Z a–z 0–9 _ -',
      'line 6: the password of "cy" is 5 characters; a password is 6–1024',
      'line 7: user "ann" is already on line 2',
      'line 8: the user "taken" already exists',
    ]);
    expect(result.stderr).toMatch(/^4\/4 accounts hashed, 3 added \(\d+\/s\)$/m);
    expect(result.stderr).toMatch(/^chatlab: 5 lines of .*accounts\.txt failed \(see above\); the other accounts were added$/m);
    const after = new AccountStore({ db });
    expect(after.list()).toEqual(['ann', 'ben', 'dee', 'taken']);
    expect(await after.verify('ben', 'with:colons')).toBe(true);
    expect(await after.verify('dee', 'secret4')).toBe(true);
    after.close();

    const fromStdin = await runToEnd(['users', 'import', '-', '--db', db], { stdin: 'eve:secret5\nfay:secret6\n' });
    expect(fromStdin).toMatchObject({ code: 0, stdout: expect.stringMatching(/^imported 2 accounts into .* in \d+\.\d s\n$/) });
    expect(await runToEnd(['users', 'import', join(dir, 'none.txt'), '--db', db])).toMatchObject({ code: 1, stderr: `chatlab: no file ${join(dir, 'none.txt')}\n` });
  });
});
