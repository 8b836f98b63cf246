/**
 * The servers the fan-out benchmark compares, each started in its own (pinned) process:
 * the raw Node relay (ceiling), ngircd (a C IRC server) and the chatlab reference server.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chatlabDialect, ircDialect, rawDialect, type Dialect } from '../lib/dialects.ts';
import { freePort } from '../../src/verify/index.ts';
import { spawnServer, type ServerProcess } from '../lib/server-process.ts';
import { ngircdConfig } from './ngircd-config.ts';

/** Root of the repository (bench/servers/ → ../..). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** What a server needs to know to start for one run. */
export interface StartOptions {
  /** CPU to pin the server process to; undefined = not pinned. */
  cpu?: number;
  /** Number of benchmark clients (the chatlab server creates that many accounts). */
  clients: number;
  /** When set, Node servers write a CPU profile (--cpu-prof) into this directory on exit. */
  profileDir?: string;
  /** Extra environment for the server wrapper (e.g. BENCH_BACKLOG for the chatlab server). */
  env?: Record<string, string>;
}

/** One server under test. */
export interface BenchServer {
  /** Short id used by --servers and in the table. */
  readonly id: 'raw' | 'ngircd' | 'chatlab' | `chatlab-cluster-${number}`;
  /** One-line description for the report. */
  readonly description: string;
  readonly dialect: Dialect;
  /** null when it can run here, else why it is skipped (printed as is). */
  unavailable(): string | null;
  start(options: StartOptions): Promise<ServerProcess>;
}

/** Node run with the tsx loader, for the TypeScript server wrappers. */
export function nodeTs(file: string, profileDir?: string): { command: string; args: string[] } {
  const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', resolve(REPO_ROOT, profileDir)] : [];
  return { command: process.execPath, args: [...profile, '--import', 'tsx', file] };
}

/** Baseline (a): bench/servers/raw-relay.ts. */
export const rawRelay: BenchServer = {
  id: 'raw',
  description: 'raw Node relay: copies every line to every other connection (ceiling)',
  dialect: rawDialect,
  unavailable: () => null,
  start: ({ cpu, profileDir }) =>
    spawnServer({
      name: 'raw relay',
      ...nodeTs(join(REPO_ROOT, 'bench/servers/raw-relay.ts'), profileDir),
      cwd: REPO_ROOT,
      cpu,
      ready: /^READY (\d+)$/,
    }),
};

/** Baseline (b): ngircd with a generated config (see ngircd-config.ts). */
export const ngircd: BenchServer = {
  id: 'ngircd',
  description: 'ngircd (IRC server in C), NICK/USER + JOIN #bench + PRIVMSG',
  dialect: ircDialect,
  unavailable() {
    const found = spawnSync('ngircd', ['--version'], { encoding: 'utf8' });
    if (found.error) return 'ngircd is not installed (apt-get install -y ngircd); skipped';
    return null;
  },
  async start({ cpu }) {
    const dir = mkdtempSync(join(tmpdir(), 'chatlab-bench-ngircd-'));
    const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
    process.once('exit', removeDir); // also after Ctrl-C
    const config = join(dir, 'ngircd.conf');
    const port = await freePort();
    writeFileSync(config, ngircdConfig('127.0.0.1', port));
    try {
      const server = await spawnServer({
        name: 'ngircd',
        command: 'ngircd',
        args: ['--nodaemon', '--passive', '--config', config],
        cpu,
        port,
        ready: /Now listening on \[127\.0\.0\.1\]:(\d+)/,
      });
      return {
        ...server,
        async stop() {
          await server.stop();
          removeDir();
          process.off('exit', removeDir);
        },
      };
    } catch (err) {
      removeDir();
      process.off('exit', removeDir);
      throw err;
    }
  },
};

/** The chatlab reference server (src/server), through bench/servers/chatlab.ts. */
export const chatlab: BenchServer = {
  id: 'chatlab',
  description: 'chatlab reference server (src/server ChatServer, :memory: db, raised limits)',
  dialect: chatlabDialect,
  unavailable() {
    if (!existsSync(join(REPO_ROOT, 'src/server/index.ts'))) {
      return 'src/server/index.ts does not exist yet; skipped';
    }
    return null;
  },
  start: ({ cpu, clients, profileDir, env }) =>
    spawnServer({
      name: 'chatlab server',
      ...nodeTs(join(REPO_ROOT, 'bench/servers/chatlab.ts'), profileDir),
      cwd: REPO_ROOT,
      env: { ...process.env, BENCH_CLIENTS: String(clients), ...env },
      cpu,
      ready: /^READY (\d+)\b/,
      readyTimeoutMs: 120_000,
    }),
};

/** All servers, in the order they run. */
export const ALL_SERVERS: readonly BenchServer[] = [rawRelay, ngircd, chatlab];
