import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { PROC_AVAILABLE, ProcessTree, TREE_MARKER_VARIABLE } from './process-tree.ts';
import { Recent, type RecentLimits } from './recent.ts';

/** One line the supervised command printed. */
export interface OutputLine {
  stream: 'stdout' | 'stderr';
  text: string;
  atMs: number;
}

/** How the supervised command ended (or `null` fields while it runs). */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The command could not be started at all (ENOENT…). */
  spawnError?: string;
}

/** How the command ended, in words: "exited with code 1", "was killed by SIGKILL", "could not start (…)". */
export function describeExit(exit: ExitInfo): string {
  if (exit.spawnError) return `could not start (${exit.spawnError})`;
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

/** The outcome of waiting for the command to accept connections. */
export type PortWait =
  | { kind: 'ready'; afterMs: number }
  | { kind: 'exited'; exit: ExitInfo }
  /** The command printed that it listens on another port than the one it was given. */
  | { kind: 'wrong-port'; printedPort: number; line: string }
  | { kind: 'timeout'; lastError: string };

/** What the supervisor keeps of the command's output: its last 2,000 lines, and at most 256 KiB of them. */
export const OUTPUT_LIMITS: RecentLimits = { items: 2_000, bytes: 256 * 1024 };
/** A longer line is kept up to this many characters (its start: that is where "listening on" is). */
const MAX_LINE_CHARS = 8 * 1024;
const MAX_PARTIAL_CHARS = 64 * 1024;
const KILL_GRACE_MS = 700;
/** How often the process tree is sampled, to remember descendants before they can be orphaned. */
const TREE_SAMPLE_MS = 1_000;

/** Process groups still alive (with their process tree on Linux), killed on process exit whatever happens. */
const liveGroups = new Map<number, ProcessTree | null>();
let exitHookInstalled = false;
let treeCount = 0;

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** SIGKILLs everything a command started: its process tree (which escapes a group kill through setsid), then its group. */
function killEverything(pgid: number, tree: ProcessTree | null): void {
  tree?.kill();
  killGroup(pgid, 'SIGKILL');
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // The last line of defence: even on an uncaught error, nothing the verifier started survives it.
  process.on('exit', () => {
    for (const [pgid, tree] of liveGroups) killEverything(pgid, tree);
  });
}

/** Kills every process started by the verifier, groups and trees (used by the CLI's Ctrl-C handler). */
export function killAllSupervised(): void {
  for (const [pgid, tree] of liveGroups) killEverything(pgid, tree);
  liveGroups.clear();
}

/** A port that was free a moment ago (the OS picks it), for the command to listen on. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Tries one TCP connection; resolves with the error code, or `null` when it connected. */
export function tryConnect(host: string, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('ETIMEDOUT');
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.end();
      // Let the server see an orderly close, then let go.
      socket.once('close', () => undefined);
      setTimeout(() => socket.destroy(), 200).unref();
      resolve(null);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code ?? error.message);
    });
  });
}

const LISTEN_LINE = /listen/i;
/** `host:port`, `[v6]:port` or `port 7070`: the first one on the line is the address. */
const PRINTED_PORT = /(?:\[[0-9a-f:.]*\]|[\w.-]+):(\d{1,5})(?!\d)|\bport\s*[:=]?\s*(\d{1,5})(?!\d)/i;

/** The port a "listening on …" line names, if any. */
export function printedListenPort(line: string): number | null {
  if (!LISTEN_LINE.test(line)) return null;
  const match = PRINTED_PORT.exec(line);
  const port = Number(match?.[1] ?? match?.[2]);
  return port > 0 && port <= 65_535 ? port : null;
}

/**
 * Waits until `host:port` accepts a TCP connection, retrying with a growing pause (no fixed
 * sleep). With the `command` that should be listening there, gives up early if it exits or says
 * it listens on another port; without one (a server someone else started) it only waits.
 */
export async function waitForPort(host: string, port: number, timeoutMs: number, command?: Supervisor): Promise<PortWait> {
  const startedAt = command?.startedAt ?? performance.now();
  const deadline = performance.now() + timeoutMs;
  let pause = 20;
  let lastError = 'ECONNREFUSED';
  let wrongPortSince: number | null = null;
  while (true) {
    if (command?.exit) return { kind: 'exited', exit: command.exit };
    const left = deadline - performance.now();
    if (left <= 0) return { kind: 'timeout', lastError };
    const error = await tryConnect(host, port, Math.min(1_000, Math.max(50, left)));
    if (error === null) return { kind: 'ready', afterMs: Math.round(performance.now() - startedAt) };
    lastError = error;
    const printed = command?.printedOtherPort(port);
    if (printed) {
      wrongPortSince ??= performance.now();
      // A short grace, in case the line was printed a moment before listening on the right port.
      if (performance.now() - wrongPortSince > 500) return { kind: 'wrong-port', ...printed };
    }
    const nap = delay(Math.min(pause, Math.max(0, deadline - performance.now()))).then(() => null);
    const exit = await (command ? Promise.race([command.exited, nap]) : nap);
    if (exit) return { kind: 'exited', exit };
    pause = Math.min(250, Math.round(pause * 1.5));
  }
}

/** What the supervisor dropped of the command's output to stay within {@link OUTPUT_LIMITS}. */
export interface OutputCut {
  /** Earlier lines no longer kept. */
  lines: number;
  /** Characters cut: those earlier lines, and the ends of over-long lines. */
  chars: number;
}

/**
 * Runs the command under test: in its own process group (so children die with it), with
 * PORT/HOST in its environment, capturing the last lines of stdout and stderr (see
 * {@link OUTPUT_LIMITS}) with timestamps. `stop()` kills the whole group and, on Linux, every
 * process the command started even outside the group (see {@link ProcessTree}): SIGTERM, then
 * SIGKILL after a short grace; a process exit hook does the same if the verifier itself dies first.
 */
export class Supervisor {
  private readonly kept = new Recent<{ index: number; line: OutputLine }>(OUTPUT_LIMITS);
  /** Lines printed so far (kept or not): the index of the next one. */
  private printed = 0;
  private clippedChars = 0;
  exit: ExitInfo | null = null;
  readonly exited: Promise<ExitInfo>;
  private readonly child: ChildProcess;
  private readonly tree: ProcessTree | null = null;
  /** When the command was started (performance.now()), the origin of every `atMs`. */
  readonly startedAt = performance.now();
  private readonly partial = { stdout: '', stderr: '' };
  private readonly onLine: ((line: OutputLine) => void) | undefined;
  private lineWaiters: { match: (line: OutputLine) => boolean; resolve: (line: OutputLine | null) => void }[] = [];

  constructor(
    readonly command: string[],
    options: { cwd?: string; env?: NodeJS.ProcessEnv; onLine?: (line: OutputLine) => void },
  ) {
    this.onLine = options.onLine;
    installExitHook();
    const [file, ...args] = command;
    if (!file) throw new Error('no command to run');
    // One argument with spaces ("python3 server.py") is a shell command line.
    const useShell = command.length === 1 && /\s/.test(file);
    const marker = `${process.pid}.${++treeCount}.${Math.random().toString(36).slice(2, 10)}`;
    this.child = spawn(file, args, {
      cwd: options.cwd,
      env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', ...options.env, [TREE_MARKER_VARIABLE]: marker },
      detached: true,
      shell: useShell,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const pid = this.child.pid;
    if (pid !== undefined) {
      if (PROC_AVAILABLE) {
        this.tree = new ProcessTree(pid, `${TREE_MARKER_VARIABLE}=${marker}`);
        this.tree.startSampling(TREE_SAMPLE_MS);
      }
      liveGroups.set(pid, this.tree);
    }
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error: NodeJS.ErrnoException) => {
        this.exit = { code: null, signal: null, spawnError: error.code === 'ENOENT' ? `command not found: ${file}` : error.message };
        if (pid !== undefined) liveGroups.delete(pid);
        resolve(this.exit);
      });
      this.child.once('exit', (code, signal) => {
        this.flush();
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    this.exited.then(() => this.wakeLineWaiters());
    this.child.stdout?.on('data', (chunk: Buffer) => this.collect('stdout', chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => this.collect('stderr', chunk));
    this.child.stdin?.on('error', () => undefined);
  }

  /** The last lines the command printed (see {@link OUTPUT_LIMITS}), oldest first. */
  get output(): OutputLine[] {
    return this.kept.toArray().map((entry) => entry.line);
  }

  /** What was dropped of the output to stay within the limits. */
  get outputCut(): OutputCut {
    return { lines: this.kept.dropped.items, chars: this.kept.dropped.bytes + this.clippedChars };
  }

  /** Number of lines printed so far: pass it to {@link linesSince} to see only what comes after. */
  get lineCount(): number {
    return this.printed;
  }

  /** The kept lines printed after the first `mark` lines. */
  linesSince(mark: number): OutputLine[] {
    return this.kept
      .toArray()
      .filter((entry) => entry.index >= mark)
      .map((entry) => entry.line);
  }

  /** Process id of the command (and id of its process group). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Writes a line to the command's stdin (--client mode). */
  writeLine(text: string): void {
    this.child.stdin?.write(`${text}\n`);
  }

  /** Closes the command's stdin (EOF). */
  closeStdin(): void {
    this.child.stdin?.end();
  }

  /** Resolves with the first output line (already printed or to come) that matches, or `null` on timeout, exit or abort of `signal`. */
  waitForLine(match: (line: OutputLine) => boolean, timeoutMs: number, from = 0, signal?: AbortSignal): Promise<OutputLine | null> {
    const found = this.linesSince(from).find(match);
    if (found) return Promise.resolve(found);
    if (this.exit || signal?.aborted) return Promise.resolve(null);
    return new Promise((resolve) => {
      const giveUp = (): void => waiter.resolve(null);
      const waiter = {
        match,
        resolve: (line: OutputLine | null) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', giveUp);
          this.lineWaiters = this.lineWaiters.filter((w) => w !== waiter);
          resolve(line);
        },
      };
      const timer = setTimeout(giveUp, timeoutMs);
      signal?.addEventListener('abort', giveUp, { once: true });
      this.lineWaiters.push(waiter);
    });
  }

  /** Waits up to `timeoutMs` for the command to exit on its own. */
  async waitForExit(timeoutMs: number): Promise<ExitInfo | null> {
    return Promise.race([this.exited, delay(timeoutMs).then(() => null)]);
  }

  /** {@link describeExit} once the command has exited (waiting up to `waitMs` for the news), else null. */
  async exitDescription(waitMs: number): Promise<string | null> {
    const exit = this.exit ?? (await this.waitForExit(waitMs));
    return exit ? describeExit(exit) : null;
  }

  /**
   * Kills the whole process group and process tree: SIGTERM, then SIGKILL for whatever is left.
   * Always safe to call.
   */
  async stop(): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined) return;
    if (!this.exit) {
      killGroup(pid, 'SIGTERM');
      this.tree?.signalOutsideGroup(pid, 'SIGTERM');
      await this.waitForExit(KILL_GRACE_MS);
    }
    // The leader may be gone while children it started live on, in the group or out of it.
    killEverything(pid, this.tree);
    await this.waitForExit(KILL_GRACE_MS);
    liveGroups.delete(pid);
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
    this.child.stdin?.destroy();
    this.flush();
  }

  /** The first line the command printed that says it listens on a port other than `port`, if any. */
  printedOtherPort(port: number): { printedPort: number; line: string } | null {
    for (const line of this.output) {
      const printed = printedListenPort(line.text);
      if (printed !== null && printed !== port) return { printedPort: printed, line: line.text };
    }
    return null;
  }

  private collect(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    const text = this.partial[stream] + chunk.toString('utf8');
    const lines = text.split('\n');
    // A program that prints without newlines must not grow this buffer for ever.
    this.partial[stream] = (lines.pop() ?? '').slice(-MAX_PARTIAL_CHARS);
    for (const line of lines) this.push(stream, line.replace(/\r$/, ''));
  }

  private flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream]) this.push(stream, this.partial[stream]);
      this.partial[stream] = '';
    }
  }

  private push(stream: 'stdout' | 'stderr', full: string): void {
    let text = full;
    if (text.length > MAX_LINE_CHARS) {
      this.clippedChars += text.length - MAX_LINE_CHARS;
      text = `${text.slice(0, MAX_LINE_CHARS)} … (${(full.length - MAX_LINE_CHARS).toLocaleString('en-US')} more characters not kept)`;
    }
    const line = { stream, text, atMs: Math.round(performance.now() - this.startedAt) };
    this.kept.push({ index: this.printed++, line }, text.length);
    this.onLine?.(line);
    for (const waiter of [...this.lineWaiters]) if (waiter.match(line)) waiter.resolve(line);
  }

  private wakeLineWaiters(): void {
    for (const waiter of [...this.lineWaiters]) waiter.resolve(null);
  }
}
