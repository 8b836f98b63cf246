import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../verify/index.ts';
import { LESSON_HOST } from './processes.ts';
import { within } from './within.ts';

/** A redis-server started for one check, test or demo, on a free port of 127.0.0.1, keeping nothing on disk. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>`, for REDIS_URL. */
  url: string;
  port: number;
  /** Ends the server (SIGTERM, then SIGKILL) and waits for it. */
  stop(): Promise<void>;
}

/** What the server prints once it accepts connections. */
const READY = 'Ready to accept connections';

/** `redis-server` is not on PATH: the message names the package that provides it. */
export class RedisNotInstalledError extends Error {
  constructor() {
    super('redis-server is not installed (apt-get install redis-server)');
    this.name = 'RedisNotInstalledError';
  }
}

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** Most ms to wait for its ready line (default 10,000). */
  timeoutMs?: number;
  /**
   * Start it in a process group of its own, so the terminal's Ctrl-C (sent to the whole
   * foreground group) does not reach it: for a caller that stops what uses Redis first and Redis
   * last (the cluster demo), which a Redis dying at the same moment would race. Default false: it
   * then ends with the caller's group when that one is interrupted.
   */
  ownProcessGroup?: boolean;
}

/**
 * Starts `redis-server` on a free port with persistence off (`--save ''`, `--appendonly no`), its
 * working directory a temporary one (removed once it exits: a stray SAVE writes nowhere else), and
 * resolves once it prints that it is ready. Rejects with {@link RedisNotInstalledError} when
 * redis-server is not on PATH, with a clear message when it exits or stays silent for `timeoutMs`.
 * It is killed when this process exits, if still running.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const port = await freePort(LESSON_HOST);
  const dir = mkdtempSync(join(tmpdir(), 'chatlab-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', LESSON_HOST, '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.ownProcessGroup === true,
  });
  // Redis is a daemon: if we exit first (an interrupted `chatlab lesson check`, `chatlab demo
  // --cluster | head`), it must not stay, nor its directory.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  let output = '';
  let notInstalled = false;
  const exited = new Promise<string>((resolve) => {
    child.once('close', () => {
      process.off('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      notInstalled = error.code === 'ENOENT';
      resolve(error.message);
    });
    child.on('close', (code, signal) => resolve(`redis-server exited (${code ?? signal})`));
  });
  const ready = new Promise<void>((resolve) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      output += text;
      if (output.includes(READY)) resolve();
    });
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null || notInstalled) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await within(Promise.race([ready, exited.then((why) => Promise.reject(new Error(why)))]), timeoutMs, `redis-server did not print "${READY}"`);
  } catch (error) {
    await stop();
    if (notInstalled) throw new RedisNotInstalledError();
    throw new Error(`${(error as Error).message}${output ? `. It printed:\n${output.trimEnd()}` : ''}`);
  }
  return { url: `redis://${LESSON_HOST}:${port}`, port, stop };
}
