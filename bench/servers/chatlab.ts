/**
 * The chatlab reference server as a benchmark target, in its own process:
 * `node --import tsx bench/servers/chatlab.ts` with env BENCH_CLIENTS (accounts u0…u<N-1>) and
 * optional PORT, BENCH_MAX_CONNECTIONS (default BENCH_CLIENTS + 100) and BENCH_BACKLOG (the
 * listen backlog; default the server's own, the OS maximum). Prints `READY <port> <what was
 * changed>` once the accounts exist and it listens; SIGTERM stops it; SIGUSR2 prints
 * `MEMORY <n> rss=… heapUsed=… heapTotal=… external=… arrayBuffers=…` (after two full GCs when run with
 * --expose-gc: the footprint scenario).
 *
 * What differs from a default `chatlab server`, and why:
 * - a `:memory:` database (nothing touches the disk);
 * - the per-connection rate limit is raised (4 senders offer thousands of frames/s each), and so
 *   are the connection and login-attempt limits (1,000 clients from one address);
 * - a cheap scrypt cost: 1,000 logins at the default cost (~40 ms each on a core) would make the
 *   setup take over a minute, and login cost is not what this benchmark measures.
 * Everything on the message path (parsing, validation, routing, output queues and their bounds)
 * keeps the server's defaults.
 *
 * BENCH_CHATLAB_MODULE may name another build of the server module (an absolute path to an
 * index.ts exporting ChatServer and DEFAULT_SERVER_LIMITS), to A/B-test a change to the server.
 */
import { pathToFileURL } from 'node:url';
import type * as ServerModule from '../../src/server/index.ts';
import { BENCH_PASSWORD } from '../lib/dialects.ts';

const modulePath = process.env.BENCH_CHATLAB_MODULE;
const { ChatServer, DEFAULT_SERVER_LIMITS } = (await import(modulePath ? pathToFileURL(modulePath).href : '../../src/server/index.ts')) as typeof ServerModule;

const clients = Number(process.env.BENCH_CLIENTS ?? 1000);
const maxConnections = Number(process.env.BENCH_MAX_CONNECTIONS ?? clients + 100);
const backlog = process.env.BENCH_BACKLOG ? Number(process.env.BENCH_BACKLOG) : undefined;
const UNLIMITED = 1_000_000_000;
/** Between the two GCs of a memory report: time for V8's background sweeping of dead Buffers. */
const MEMORY_SWEEP_WAIT_MS = 200;

/**
 * The limits raised for the benchmark, each only if this server version has it (an unknown
 * name is an error). Message-path limits (maxOutputBytes, history) keep their defaults.
 */
const wanted: Record<string, number> = {
  maxConnections,
  maxConnectionsPerAddress: maxConnections,
  rateLimitPerSecond: UNLIMITED,
  rateLimitBurst: UNLIMITED,
  loginAttemptsPerConnection: UNLIMITED,
  loginAttemptsPerAddress: UNLIMITED,
};
const limits = Object.fromEntries(Object.entries(wanted).filter(([name]) => Object.hasOwn(DEFAULT_SERVER_LIMITS, name)));

const server = new ChatServer({
  host: process.env.HOST ?? '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  db: ':memory:',
  limits,
  scrypt: { N: 16, r: 1, p: 1 },
  ...(backlog !== undefined && { backlog }),
});

await Promise.all(Array.from({ length: clients }, (_, i) => server.accounts.add(`u${i}`, BENCH_PASSWORD)));
const { port } = await server.start();
const changed = Object.entries(limits)
  .map(([name, value]) => `${name}=${value}`)
  .join(' ');
process.stdout.write(`READY ${port} limits raised: ${changed}; scrypt N=16 r=1 p=1; db :memory:${backlog !== undefined ? `; backlog ${backlog}` : ''}${modulePath ? `; module ${modulePath}` : ''}\n`);

/**
 * The footprint scenario's probe: a full GC (when run with --expose-gc), a pause, a second full
 * GC, then the memory figures. Why twice: V8 frees dead Buffers' memory on a background thread
 * after a GC, so `external` read right after one still counts Buffers that were already garbage
 * (up to 2.5 KiB per user at 4,000 users after a login storm, against 0.0 once swept).
 */
let memoryReports = 0;
const gc = (globalThis as { gc?: () => void }).gc;
process.on('SIGUSR2', reportMemory);

function reportMemory(): void {
  gc?.();
  setTimeout(reportMemoryAfterSweep, MEMORY_SWEEP_WAIT_MS);
}

function reportMemoryAfterSweep(): void {
  gc?.();
  const m = process.memoryUsage();
  process.stdout.write(`MEMORY ${++memoryReports} rss=${m.rss} heapUsed=${m.heapUsed} heapTotal=${m.heapTotal} external=${m.external} arrayBuffers=${m.arrayBuffers}\n`);
}

process.on('SIGTERM', () => {
  void server.stop().then(() => process.exit(0));
});
