/**
 * Every command on the getting-started pages runs as written: the marked shell blocks of the
 * README, the home page, the guide, the inspector and client pages, and each lesson's "Run it" (see
 * test-support/doc-commands.ts for which blocks and how they are read).
 *
 * A page's blocks run in order, each line in its own "terminal" (a process group), as a reader
 * would type them, in a fresh temporary folder (a lesson's in its own folder). Servers and
 * inspectors keep running until the page is done; clients and `nc` sessions are ended (end of
 * input, then Ctrl-C) at the end of their block; every other command must exit with 0.
 * Long-running commands are waited for by their listening line, clients by their first sign of a
 * connection. Pages run side by side.
 *
 * Changed on the way, as docs/architecture.md ("Commands in the docs") says: `npx chatlab` runs
 * `bin/chatlab.js` (what npx finds), and the ports 7070 and 7071 become free ones: a command that
 * listens on one gets 0 (and `PORT=0`), and what it reports listening on replaces that port in
 * every later command and in `PORT`, which every chatlab command and lesson program reads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lesson, listLessons, loadAccounts } from '../src/lessons/runtime/index.ts';
import { freePort } from '../src/verify/index.ts';
import { REPO_ROOT, testEnv } from '../test-support/cli-process.ts';
import { markedBlocks, runItBlock, type DocBlock } from '../test-support/doc-commands.ts';

/** The pages whose marked blocks run (a page without a marked block fails: nothing would be checked). */
const PAGES = ['README.md', 'docs/index.md', 'docs/guide/index.md', 'docs/guide/by-hand.md', 'docs/guide/inspector-alongside.md', 'docs/inspector.md', 'docs/client.md'];
/** The ports the docs name: 7070/7071, and a cluster lesson's second node (7072/7073) and Redis (6379). */
const NOMINAL_PORTS = [7070, 7071, 7072, 7073, 6379];
const WAIT_MS = 20_000;
const STOP_MS = 3_000;
const CHATLAB = `${process.execPath} ${join(REPO_ROOT, 'bin', 'chatlab.js')}`;

/** What a command is, which says how to run it and what to wait for. */
type Role = 'service' | 'client' | 'once';

function roleOf(command: string): Role {
  if (command.includes('|')) return 'once'; // fed by a pipe: it ends with its input
  if (/\bchatlab\.js (server|inspect (--udp )?--listen)\b|\bnode \S*server\S*\.mjs\b|^redis-server\b/.test(command)) return 'service';
  if (/\bchatlab\.js client\b|\bnode \S*client\.mjs\b|^nc /.test(command)) return 'client';
  return 'once';
}

/** The stdout line that says a client is connected (or, for `nc`, that the server greeted it). */
function readyPattern(command: string): RegExp {
  if (command.startsWith('nc ')) return /"type":"hello"/;
  if (/\bchatlab\.js client\b/.test(command)) return /^\* connected to /;
  // A UDP client (lesson 15) connects nothing: it says where it sends.
  return /^(connected|sending) to /;
}

/** Whether a lesson client's command logs in with a password that is not its demo account's. */
function wrongPassword(command: string): boolean {
  const user = /\bCHATLAB_USER=(\S+)/.exec(command)?.[1];
  const password = /\bCHATLAB_PASSWORD=(\S+)/.exec(command)?.[1];
  return user !== undefined && password !== undefined && loadAccounts()[user] !== password;
}

/** A command running in a terminal of its own. */
interface Terminal {
  command: string;
  child: ChildProcess;
  out: string[];
  err: string[];
  exited: Promise<number | null>;
  /** Resolves with the first stdout line from index `from` matching `pattern`; rejects if the process exits or after WAIT_MS. */
  line(pattern: RegExp, from?: number): Promise<string>;
}

const running = new Set<Terminal>();

function start(command: string, cwd: string, env: Record<string, string>): Terminal {
  const child = spawn('sh', ['-c', command], { cwd, env: { ...testEnv(), NO_COLOR: '1', ...env }, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: string[] = [];
  const err: string[] = [];
  const wakers = new Set<() => void>();
  const collect = (into: string[]) => {
    let partial = '';
    return (chunk: Buffer): void => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() as string;
      into.push(...parts);
      for (const wake of wakers) wake();
    };
  };
  child.stdout?.on('data', collect(out));
  child.stderr?.on('data', collect(err));
  let done = false;
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      done = true;
      for (const wake of wakers) wake();
      resolve(code);
    }),
  );
  const terminal: Terminal = {
    command,
    child,
    out,
    err,
    exited,
    line: (pattern, from = 0) =>
      new Promise((resolve, reject) => {
        const fail = (why: string): void => reject(new Error(`${why}: \`${command}\`\nstdout:\n${out.join('\n')}\nstderr:\n${err.join('\n')}`));
        const timer = setTimeout(() => {
          wakers.delete(check);
          fail(`no line matching ${pattern} within ${WAIT_MS} ms`);
        }, WAIT_MS);
        function check(): void {
          const found = out.slice(from).find((line) => pattern.test(line));
          if (found === undefined && !done) return;
          clearTimeout(timer);
          wakers.delete(check);
          if (found === undefined) fail(`exited before printing a line matching ${pattern}`);
          else resolve(found);
        }
        wakers.add(check);
        check();
      }),
  };
  running.add(terminal);
  void exited.then(() => running.delete(terminal));
  return terminal;
}

function signal(terminal: Terminal, name: NodeJS.Signals): void {
  try {
    process.kill(-(terminal.child.pid as number), name);
  } catch {
    // already gone
  }
}

/**
 * Ctrl-C to the whole terminal (sh and what it started), then waits for it to end. Stopping is
 * not what is checked here: whatever is still there after STOP_MS is killed.
 */
async function interrupt(terminal: Terminal): Promise<void> {
  if (terminal.child.exitCode !== null || terminal.child.signalCode !== null) return;
  signal(terminal, 'SIGINT');
  const timer = setTimeout(() => signal(terminal, 'SIGKILL'), STOP_MS);
  await terminal.exited;
  clearTimeout(timer);
}

afterAll(async () => {
  for (const terminal of running) {
    try {
      process.kill(-(terminal.child.pid as number), 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** A page being followed: its folder, the ports it has listening so far, its servers and inspectors. */
class Reader {
  readonly ports = new Map<number, number>();
  readonly services: Terminal[] = [];
  constructor(readonly cwd: string) {}

  /**
   * A command as the test types it: chatlab from this checkout, known ports for the nominal
   * ones, and for the one it will listen on 0, or `chosen` (a free port, for a Redis: its
   * `--port 0` would mean no TCP at all).
   */
  private prepare(text: string, role: Role, chosen = 0): { command: string; env: Record<string, string>; listensOn?: number } {
    let command = text.replace(/^npx chatlab\b|(?<=\s)npx chatlab\b/g, CHATLAB);
    let listensOn: number | undefined;
    for (const nominal of NOMINAL_PORTS) {
      const actual = this.ports.get(nominal);
      if (actual !== undefined) command = command.replaceAll(new RegExp(`\\b${nominal}\\b`, 'g'), String(actual));
      else if (new RegExp(`\\b${nominal}\\b`).test(command)) {
        // Only a server or an inspector may name a port nothing listens on yet: the one it takes.
        if (role !== 'service' || listensOn !== undefined) throw new Error(`\`${text}\` uses port ${nominal} before anything in the docs listens there`);
        listensOn = nominal;
        command = command.replaceAll(new RegExp(`\\b${nominal}\\b`, 'g'), String(chosen));
      }
    }
    const server = this.ports.get(7070);
    if (role === 'service' && listensOn === undefined && !/--listen\b/.test(command)) {
      // The default port, from PORT.
      if (server !== undefined) throw new Error(`\`${text}\` listens on 7070, where the page already has a server running`);
      listensOn = 7070;
    }
    const env = { PORT: listensOn === 7070 ? '0' : String(server ?? 0) };
    if (listensOn === undefined && server === undefined && role !== 'once') throw new Error(`\`${text}\` needs a server on 7070, and none was started before it`);
    return { command, env, ...(listensOn === undefined ? {} : { listensOn }) };
  }

  async run(block: DocBlock): Promise<void> {
    const clients: Terminal[] = [];
    let last: Terminal | undefined;
    for (const line of block.lines) {
      if (line.kind === 'type') {
        if (!last) throw new Error(`${block.where}: "${line.text}" is typed into nothing`);
        last.child.stdin?.write(`${line.text}\n`);
        const type = /"type":"(\w+)"/.exec(line.text)?.[1];
        // Wait for the answer, so what is typed next meets the state the docs expect.
        if (type === 'login' || type === 'register') await last.line(/"type":"(welcome|ok)"/);
        if (type === 'quit') await last.line(/"type":"bye"/);
        continue;
      }
      const role = roleOf(line.text.replace(/^npx chatlab\b/, 'chatlab.js'));
      // Redis says it is ready, not where it listens: it gets a free port chosen here.
      const redisPort = /^redis-server\b/.test(line.text) ? await freePort() : undefined;
      const { command, env, listensOn } = this.prepare(line.text, role, redisPort);
      const terminal = start(command, this.cwd, env);
      if (redisPort !== undefined) {
        await terminal.line(/Ready to accept connections/);
        if (listensOn !== undefined) this.ports.set(listensOn, redisPort);
        this.services.push(terminal);
      } else if (role === 'service') {
        const listening = await terminal.line(/listening on (?:tls:\/\/)?127\.0\.0\.1:(\d+)/);
        if (listensOn !== undefined) this.ports.set(listensOn, Number(/127\.0\.0\.1:(\d+)/.exec(listening)?.[1]));
        this.services.push(terminal);
      } else if (role === 'client') {
        await this.connected(terminal, command);
        clients.push(terminal);
      } else {
        let timer: NodeJS.Timeout | undefined;
        const code = await Promise.race([terminal.exited, new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, 2 * WAIT_MS, 'timeout')))]);
        clearTimeout(timer);
        if (code === 'timeout') await interrupt(terminal);
        expect(code, `${block.where}: \`${line.text}\` exited with ${code}\nstdout:\n${terminal.out.join('\n')}\nstderr:\n${terminal.err.join('\n')}`).toBe(0);
      }
      last = terminal;
    }
    for (const client of clients) {
      client.child.stdin?.end(); // Ctrl-D
    }
    await Promise.all(clients.map(interrupt));
    for (const client of clients) {
      const shown = `${block.where}: \`${client.command}\`\nstdout:\n${client.out.join('\n')}\nstderr:\n${client.err.join('\n')}`;
      // A wrong password on purpose (lesson 05's carol) is answered auth_failed; nothing else may go wrong.
      const allowed = wrongPassword(client.command) ? /auth_failed/ : /$^/;
      expect(
        client.out.filter((line) => /"type":"error"|^! |cannot talk to|auth_failed/.test(line) && !allowed.test(line)),
        shown,
      ).toEqual([]);
    }
  }

  /**
   * Resolves once a client is connected: its own line says so; `nc` prints only what the server
   * sends, and the first lessons' servers send nothing, so there a server or inspector saying
   * that it accepted a connection counts too.
   */
  private async connected(terminal: Terminal, command: string): Promise<void> {
    if (!command.startsWith('nc ')) {
      await terminal.line(readyPattern(command));
      return;
    }
    const accepted = this.services.map((service) => service.line(/\bconnect(ed|ion)\b/, service.out.length));
    await Promise.any([terminal.line(readyPattern(command)), ...accepted]);
  }

  async stop(): Promise<void> {
    await Promise.all(this.services.map(interrupt));
    for (const service of this.services) {
      expect(
        service.err.filter((line) => /Error|error:/.test(line)),
        `\`${service.command}\` stderr`,
      ).toEqual([]);
    }
  }
}

async function follow(blocks: DocBlock[], cwd: string): Promise<void> {
  const reader = new Reader(cwd);
  try {
    for (const block of blocks) await reader.run(block);
  } finally {
    await reader.stop();
  }
}

/** Follows a getting-started page in a fresh folder, with the lessons where a reader at the repository root has them. */
async function followPage(page: string): Promise<void> {
  const blocks = markedBlocks(readFileSync(join(REPO_ROOT, page), 'utf8'), page);
  expect(blocks.length, `${page} has no block marked <!-- docs-commands: run -->`).toBeGreaterThan(0);
  const cwd = mkdtempSync(join(tmpdir(), 'chatlab-docs-commands-'));
  symlinkSync(join(REPO_ROOT, 'lessons'), join(cwd, 'lessons'));
  try {
    await follow(blocks, cwd);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

/** Follows a lesson's "Run it", in the lesson's folder as it says. */
async function followLesson(lesson: Lesson): Promise<void> {
  const page = `lessons/${lesson.slug}/README.md`;
  await follow([runItBlock(readFileSync(join(REPO_ROOT, page), 'utf8'), page)], lesson.dir);
}

/** Pages followed at the same time: enough to overlap the waits, few enough that no start takes WAIT_MS on two cores. */
const PAGES_AT_ONCE = 8;

/** Runs `jobs` with at most `limit` under way; each result settles on its own. */
function pooled(jobs: (() => Promise<void>)[], limit: number): Promise<void>[] {
  const starts: (() => void)[] = [];
  const results = jobs.map((job) => new Promise<void>((resolve) => starts.push(resolve)).then(job));
  let next = 0;
  const startNext = (): void => {
    const index = next++;
    if (index >= jobs.length) return;
    (starts[index] as () => void)();
    void (results[index] as Promise<void>).catch(() => undefined).then(startNext);
  };
  for (let i = 0; i < limit; i++) startNext();
  return results;
}

// The pages are followed side by side (most of the time is spent waiting for processes to
// start), the longest first, and each test reports its own page.
const followed = new Map<string, Promise<void>>();
beforeAll(() => {
  const names = [...PAGES, ...listLessons().map((lesson) => lesson.slug)];
  const jobs = [...PAGES.map((page) => () => followPage(page)), ...listLessons().map((lesson) => () => followLesson(lesson))];
  for (const [index, run] of pooled(jobs, PAGES_AT_ONCE).entries()) {
    run.catch(() => undefined); // reported by its own test
    followed.set(names[index] as string, run);
  }
});

describe('the commands in the docs run as written', { timeout: 120_000 }, () => {
  for (const page of PAGES) it(page, () => followed.get(page));
  for (const lesson of listLessons()) it(`lessons/${lesson.slug}/README.md`, () => followed.get(lesson.slug));
});
