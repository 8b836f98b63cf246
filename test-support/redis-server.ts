/**
 * Starts a real `redis-server` (Debian's package) for a test on a free port of 127.0.0.1. Redis has
 * no `--port 0`, so a free port is found by binding port 0 first and closing it; the server is
 * ready when it prints its "Ready to accept connections" line (no sleep).
 *
 * ```ts
 * const redis = await startRedis();          // no persistence: a restart loses everything
 * const node = await startClusterNode(redis.url);
 * await redis.restart();                     // same port; with `persist: true`, data survives (AOF)
 * await redis.stop();
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Most ms redis-server may take to print its ready line. */
const READY_MS = 10_000;

/** A running redis-server. */
export interface TestRedis {
  port: number;
  /** `redis://127.0.0.1:<port>`. */
  url: string;
  /** Kills it (SIGKILL: nothing written on the way out) and starts it again on the same port. */
  restart(): Promise<void>;
  /** Kills it and resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again after {@link kill}, on the same port. */
  start(): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open, nothing is answered (a hung Redis). */
  pause(): void;
  /** Lets it go on after {@link pause} (SIGCONT). */
  resume(): void;
  /** Stops it and removes its directory (every test must call it, e.g. in afterAll). */
  stop(): Promise<void>;
}

/** A TCP port nobody listens on now (bound to port 0, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts redis-server on a free port. `persist`: append-only file on, fsync every write (what the
 * docs recommend for a cluster's accounts), so {@link TestRedis.restart} keeps the data.
 */
export async function startRedis(options: { persist?: boolean } = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'chatlab-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, '--appendonly', options.persist ? 'yes' : 'no'];
  if (options.persist) args.push('--appendfsync', 'always');
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    const started = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not get ready within ${READY_MS} ms:\n${output}`)), READY_MS);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      started.stdout?.on('data', onData);
      started.stderr?.on('data', onData);
      started.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(error.code === 'ENOENT' ? new Error('redis-server not found: install it ("apt-get install redis-server"; .ci/run does) to run the cluster tests', { cause: error }) : error);
      });
      started.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`));
      });
    });
  }

  async function kill(): Promise<void> {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGKILL');
    await exited;
  }

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    kill,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    async restart() {
      await kill();
      await start();
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
