/**
 * Runs the real `chatlab` CLI as a child process (from the repo root: this run's build of the
 * source, see test-build.ts) and collects its stdout and stderr line by line, so a test can wait
 * for a line instead of sleeping.
 *
 * ```ts
 * const cli = startCliProcess(['client', '--user', 'bob', '--password', 'builder', '--port', String(port)]);
 * await cli.line(/^\* connected to /);   // waits up to 10 s, then fails with stdout and stderr
 * cli.type('/quit\n');
 * expect(await cli.exited).toBe(0);
 * ```
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CLI_ENTRY, nodeCommand } from './test-build.ts';

/** The repository root (the CLI runs from there). */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Default bound of a wait for a line, in ms. */
export const CLI_WAIT_MS = 10_000;

/**
 * Variables a test's own environment must not leak into the CLI: the client reads its target and
 * credentials from them, and FORCE_COLOR would colour piped output.
 */
const SCRUBBED_ENV = ['HOST', 'PORT', 'CHATLAB_USER', 'CHATLAB_PASSWORD', 'FORCE_COLOR'];

/** The test's environment, without {@link SCRUBBED_ENV} nor the variables in `alsoDrop`. */
export function testEnv(alsoDrop: readonly string[] = []): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !SCRUBBED_ENV.includes(name) && !alsoDrop.includes(name)) env[name] = value;
  }
  return env;
}

/** A running `chatlab` process with its output collected line by line. */
export interface CliRun {
  child: ChildProcessWithoutNullStreams;
  /** Complete stdout lines so far (a last line without its `\n` is not in yet). */
  stdout: string[];
  /** Complete stderr lines so far. */
  stderr: string[];
  /**
   * Resolves with the first stdout line at or after index `from` (default: from the start) that
   * matches `pattern`; rejects after the wait bound with everything printed so far.
   */
  line(pattern: RegExp, from?: number): Promise<string>;
  /** Writes `text` to the process's stdin as it is (add the `\n` yourself). */
  type(text: string): void;
  /** Resolves with the exit code once the process has exited and its streams are closed. */
  exited: Promise<number | null>;
}

/**
 * How to start the CLI: this run's build of the source (`'build'`, see test-build.ts; the source
 * through tsx when there is no build), each module from source through tsx (`'source'`, for a test
 * that looks at which source modules load), or as users start it, through the published bin
 * (`'bin'`, which runs `server` from its prebuilt bundle).
 */
export type CliVia = 'build' | 'source' | 'bin';

/** The command line (program first) that starts `chatlab` `via` a way of {@link CliVia}. */
export function cliCommand(via: CliVia = 'build'): string[] {
  if (via === 'bin') return [process.execPath, 'bin/chatlab.js'];
  if (via === 'source') return [process.execPath, '--import', 'tsx', CLI_ENTRY];
  return nodeCommand(CLI_ENTRY);
}

/**
 * Starts `chatlab <args>` (see {@link CliVia}; the build by default) with the test's environment
 * minus {@link SCRUBBED_ENV}, plus `env`.
 * The caller kills the process when the test ends (e.g. in afterEach, if `child.exitCode` is null).
 */
export function startCliProcess(args: string[], env: Record<string, string> = {}, waitMs = CLI_WAIT_MS, via: CliVia = 'build'): CliRun {
  const [program, ...entry] = cliCommand(via) as [string, ...string[]];
  const child = spawn(program, [...entry, ...args], { cwd: REPO_ROOT, env: { ...testEnv(), ...env } });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const wakers = new Set<() => void>();
  const collectLines = (into: string[]) => {
    let partial = '';
    return (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() as string;
      into.push(...parts);
      for (const wake of wakers) wake();
    };
  };
  child.stdout.on('data', collectLines(stdout));
  child.stderr.on('data', collectLines(stderr));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const line = (pattern: RegExp, from = 0) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = stdout.slice(from).find((l) => pattern.test(l));
        if (found === undefined) return;
        clearTimeout(timer);
        wakers.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        wakers.delete(check);
        reject(new Error(`no stdout line matching ${pattern} within ${waitMs} ms.\nstdout:\n${stdout.join('\n')}\nstderr:\n${stderr.join('\n')}`));
      }, waitMs);
      wakers.add(check);
      check();
      void exited.then(() => setImmediate(check));
    });
  return { child, stdout, stderr, line, type: (text) => child.stdin.write(text), exited };
}

/** What a `chatlab` command that ran to its end printed, and its exit code. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `chatlab …` (this run's build) to its end, with colours off and the lesson cache in
 * `cacheDir` (CHATLAB_CACHE_DIR: results and the remembered track stay the test's own), in `cwd`
 * (default: here); rejects with what it printed when it is still running after `timeoutMs`.
 */
export function runChatlab(args: string[], options: { cacheDir: string; timeoutMs?: number; cwd?: string }): Promise<CliResult> {
  const [node, ...cli] = cliCommand() as [string, ...string[]];
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(node, [...cli, ...args], { cwd: options.cwd, env: { ...process.env, CHATLAB_CACHE_DIR: options.cacheDir, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`chatlab ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
