/**
 * The footprint scenario: what the chatlab server costs in memory, idle and per logged-in user,
 * next to a bare Node socket server measured in the same run.
 *
 * - Idle: `node bin/chatlab.js server` exactly as users start it (the published bin, which runs
 *   the server from its prebuilt bundle), one second after it printed its listening line; the
 *   same from source through tsx (CHATLAB_FROM_SOURCE=1); and bench/servers/bare-socket.mjs under
 *   plain `node` (what Node itself costs). Helper processes the server started (tsx's esbuild
 *   service) are reported apart.
 * - Per user: the server (bench/servers/chatlab.ts, run with --expose-gc) gets 1,000 and then
 *   10,000 clients logged in to lobby; the bare server gets as many plain connections. After the
 *   traffic has settled (no byte for 300 ms), the server runs a full GC and reports its memory
 *   (SIGUSR2 → `MEMORY …`). Per user = (figure now − figure before the first client) ÷ users.
 *   RSS is what the machine pays; heap is the server's live JavaScript objects.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClientConnection } from '../lib/client-connection.ts';
import { BENCH_PASSWORD, readLinesUntil } from '../lib/dialects.ts';
import { checkOpenFiles } from '../lib/environment.ts';
import { processMemoryMiB, spawnServer, type ServerProcess } from '../lib/server-process.ts';
import { REPO_ROOT } from '../servers/index.ts';
import type { Scenario, ScenarioContext } from './scenario.ts';

/** Logged-in users at which memory is read (--quick: the first only; --users N: 1,000 then N). */
const FIRST_STEP = 1000;
const LAST_STEP = 10_000;
/** Targets from the issue. */
const IDLE_TARGET_MIB = 60;
const PER_USER_TARGET_KIB = 10;
/** Handshakes in flight at once. */
const CONCURRENT_LOGINS = 100;
/**
 * The chatlab server is read once more this long after its last step, with no traffic: memory
 * the logins touched and V8 or the allocator then gave back shows as the difference.
 */
const QUIET_READING_MS = 15_000;
const HANDSHAKE_TIMEOUT_MS = 120_000;

/** Memory of a server process after a full GC, in bytes. */
interface MemoryReading {
  rss: number;
  heapUsed: number;
  /** What V8 holds for its heap (live objects plus free space it keeps): heapUsed ≤ heapTotal. */
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** Per-user figures of one server at one number of users, in KiB. */
interface PerUserRow {
  server: 'bare' | 'chatlab';
  users: number;
  rssKiB: number;
  heapKiB: number;
  /** Growth of the heap V8 holds (live or not), per user. */
  heapTotalKiB: number;
  externalKiB: number;
  /**
   * RSS and heap per user added since the previous step (KiB), e.g. from 1,000 to 10,000 users:
   * what one more user costs, without the one-time effects in the first step (memory the
   * server's start-up freed and the first users reused).
   */
  marginalRssKiB: number | null;
  marginalHeapKiB: number | null;
  /** Set on the reading taken this long after the last step's, with no traffic in between. */
  quietMs?: number;
  /** Logins answered with an error instead of `welcome` (the user may still be online). */
  loginErrors: number;
  setupMs: number;
}

const reportsAsked = new WeakMap<ServerProcess, number>();

/** Asks a server started by this scenario for its memory (SIGUSR2) and waits for the answer. */
async function readMemory(server: ServerProcess): Promise<MemoryReading> {
  const n = (reportsAsked.get(server) ?? 0) + 1;
  reportsAsked.set(server, n);
  process.kill(server.pid, 'SIGUSR2');
  const pattern = new RegExp(`^MEMORY ${n} rss=(\\d+) heapUsed=(\\d+) heapTotal=(\\d+) external=(\\d+) arrayBuffers=(\\d+)$`, 'm');
  for (let waited = 0; waited < 10_000; waited += 20) {
    const match = pattern.exec(server.recentOutput());
    if (match) return { rss: Number(match[1]), heapUsed: Number(match[2]), heapTotal: Number(match[3]), external: Number(match[4]), arrayBuffers: Number(match[5]) };
    await sleep(20);
  }
  throw new Error(`${server.name} did not report its memory within 10 s`);
}

/** Resident memory of the direct children of a process (e.g. tsx's esbuild service), in MiB. */
function childrenRssMiB(pid: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) total += processMemoryMiB(Number(entry))?.rss ?? 0;
    } catch {
      // The process ended meanwhile.
    }
  }
  return total;
}

/**
 * Idle RSS of `chatlab server` as users start it (the bin, which runs the server from its
 * prebuilt bundle), of the same from source through tsx (`CHATLAB_FROM_SOURCE=1`: what it cost
 * before the bundle), and of a bare Node socket server.
 */
async function measureIdle(context: ScenarioContext): Promise<{ chatlabMiB: number; fromSourceMiB: number; helpersMiB: number; bareMiB: number }> {
  const cpu = context.placement.serverCpu;
  const idleBin = async (fromSource: boolean): Promise<{ rss: number; helpers: number }> => {
    const chatlab = await spawnServer({
      name: fromSource ? 'chatlab server (bin, from source)' : 'chatlab server (bin)',
      command: process.execPath,
      args: [join(REPO_ROOT, 'bin/chatlab.js'), 'server', '--host', '127.0.0.1', '--port', '0', '--db', ':memory:'],
      cwd: REPO_ROOT,
      cpu,
      ready: /listening on \S+:(\d+)/,
      env: fromSource ? { ...process.env, CHATLAB_FROM_SOURCE: '1' } : process.env,
    });
    await sleep(1000);
    const rss = processMemoryMiB(chatlab.pid)?.rss ?? NaN;
    const helpers = childrenRssMiB(chatlab.pid);
    await chatlab.stop();
    return { rss, helpers };
  };
  const bundled = await idleBin(false);
  const fromSource = await idleBin(true);
  const bare = await startBare(cpu);
  await sleep(1000);
  const bareMiB = processMemoryMiB(bare.pid)?.rss ?? NaN;
  await bare.stop();
  return { chatlabMiB: bundled.rss, fromSourceMiB: fromSource.rss, helpersMiB: fromSource.helpers, bareMiB };
}

function startBare(cpu: number | undefined): Promise<ServerProcess> {
  return spawnServer({
    name: 'bare socket server',
    command: process.execPath,
    args: ['--expose-gc', join(REPO_ROOT, 'bench/servers/bare-socket.mjs')],
    cwd: REPO_ROOT,
    cpu,
    ready: /^READY (\d+)$/,
  });
}

function startChatlab(cpu: number | undefined, users: number): Promise<ServerProcess> {
  return spawnServer({
    name: 'chatlab server',
    command: process.execPath,
    args: ['--expose-gc', '--import', 'tsx', join(REPO_ROOT, 'bench/servers/chatlab.ts')],
    cwd: REPO_ROOT,
    env: { ...process.env, BENCH_CLIENTS: String(users) },
    cpu,
    ready: /^READY (\d+)\b/,
    readyTimeoutMs: 300_000,
  });
}

/** `hello`, `login`, then `welcome` (or an error: counted, the user may be online anyway). */
async function logIn(connection: ClientConnection, user: string): Promise<boolean> {
  let helloSeen = false;
  let refused = false;
  await readLinesUntil(connection, HANDSHAKE_TIMEOUT_MS, `welcome for ${user}`, (line) => {
    if (!line.trim()) return false;
    const frame = JSON.parse(line) as { type?: string };
    if (frame.type === 'hello' && !helloSeen) {
      helloSeen = true;
      connection.socket.write(JSON.stringify({ type: 'login', user, password: BENCH_PASSWORD }) + '\n');
      return false;
    }
    if (frame.type === 'error' && helloSeen) refused = true;
    return frame.type === 'welcome' || refused;
  });
  return !refused;
}

/**
 * Opens clients `from`…`to − 1` (logged in for chatlab), keeps reading everything they receive,
 * and returns how many logins were refused.
 */
async function addClients(kind: 'bare' | 'chatlab', server: ServerProcess, clients: ClientConnection[], to: number, onBytes: () => void): Promise<number> {
  let refused = 0;
  let next = clients.length;
  const worker = async (): Promise<void> => {
    while (next < to) {
      const i = next++;
      const connection = await ClientConnection.open(server.host, server.port, HANDSHAKE_TIMEOUT_MS);
      clients.push(connection);
      if (kind === 'chatlab' && !(await logIn(connection, `u${i}`))) refused++;
      connection.handler = onBytes; // keep reading (presence frames), or the server's queues grow
    }
  };
  await Promise.all(Array.from({ length: CONCURRENT_LOGINS }, worker));
  return refused;
}

async function measurePerUser(context: ScenarioContext, kind: 'bare' | 'chatlab', steps: number[]): Promise<PerUserRow[]> {
  const maxUsers = steps.at(-1) as number;
  const cpu = context.placement.serverCpu;
  const server = kind === 'bare' ? await startBare(cpu) : await startChatlab(cpu, maxUsers);
  const clients: ClientConnection[] = [];
  const rows: PerUserRow[] = [];
  try {
    let lastByteAt = Date.now();
    const onBytes = (): void => {
      lastByteAt = Date.now();
    };
    const before = await readMemory(server);
    let previous: { users: number; memory: MemoryReading } | null = null;
    for (const users of steps) {
      context.progress(`  footprint: ${kind}: ${users} ${kind === 'bare' ? 'connections' : 'logged-in users'}…`);
      const started = Date.now();
      const loginErrors = await addClients(kind, server, clients, users, onBytes);
      while (Date.now() - lastByteAt < 300) await sleep(100);
      const setupMs = Date.now() - started;
      const now = await readMemory(server);
      const perUser = (field: keyof MemoryReading): number => (now[field] - before[field]) / users / 1024;
      const marginal = (field: keyof MemoryReading): number | null => (previous ? (now[field] - previous.memory[field]) / (users - previous.users) / 1024 : null);
      rows.push({
        server: kind,
        users,
        rssKiB: perUser('rss'),
        heapKiB: perUser('heapUsed'),
        heapTotalKiB: perUser('heapTotal'),
        externalKiB: perUser('external'),
        marginalRssKiB: marginal('rss'),
        marginalHeapKiB: marginal('heapUsed'),
        loginErrors,
        setupMs,
      });
      previous = { users, memory: now };
    }
    if (kind === 'chatlab') {
      // The same users, read again after a quiet spell: what the logins' garbage high-water gave back.
      await sleep(QUIET_READING_MS);
      const users = maxUsers;
      const later = await readMemory(server);
      const perUser = (field: keyof MemoryReading): number => (later[field] - before[field]) / users / 1024;
      rows.push({
        server: kind,
        users,
        quietMs: QUIET_READING_MS,
        rssKiB: perUser('rss'),
        heapKiB: perUser('heapUsed'),
        heapTotalKiB: perUser('heapTotal'),
        externalKiB: perUser('external'),
        marginalRssKiB: null,
        marginalHeapKiB: null,
        loginErrors: 0,
        setupMs: 0,
      });
    }
  } finally {
    for (const connection of clients) connection.socket.destroy();
    await server.stop();
  }
  return rows;
}

/** The numbers of users at which memory is read: `--users N` replaces the last step (alone when N ≤ 1,000). */
function footprintSteps(args: { quick: boolean; users: number | null }): number[] {
  if (args.users !== null) return args.users <= FIRST_STEP ? [args.users] : [FIRST_STEP, args.users];
  return args.quick ? [FIRST_STEP] : [FIRST_STEP, LAST_STEP];
}

const kib = (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : '—');
const mib = (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : '—');
const mark = (pass: boolean): string => (pass ? '[PASS]' : '[FAIL]');

/** Memory per logged-in user and idle, chatlab vs a bare Node socket server. */
export const footprintScenario: Scenario = {
  id: 'footprint',
  description: 'idle RSS of `chatlab server` and memory per logged-in user at 1,000 and 10,000, vs a bare Node socket server',
  async run(context) {
    const steps = footprintSteps(context.args);
    const fdProblem = checkOpenFiles(steps.at(-1) as number);
    if (fdProblem) {
      context.print(`footprint: skipped: ${fdProblem}`);
      return { skipped: fdProblem };
    }
    context.progress('footprint: idle servers');
    const idle = await measureIdle(context);
    const rows = [...(await measurePerUser(context, 'bare', steps)), ...(await measurePerUser(context, 'chatlab', steps))];

    const { print } = context;
    print('');
    print('== Footprint (memory after a full GC; per user = growth ÷ users)');
    print(
      `idle RSS: chatlab server (node bin/chatlab.js server, prebuilt bundle) ${mib(idle.chatlabMiB)} MiB; ` +
        `from source through tsx ${mib(idle.fromSourceMiB)} MiB` +
        (idle.helpersMiB > 0 ? ` (+ ${mib(idle.helpersMiB)} MiB in helper processes: tsx's esbuild service)` : '') +
        `; bare Node socket server ${mib(idle.bareMiB)} MiB; ratio ${(idle.chatlabMiB / idle.bareMiB).toFixed(2)}× (target ≤ 60 MiB)`,
    );
    print('server   users    RSS KiB/user  heap KiB/user  heap held KiB/user  external KiB/user  marginal RSS/heap KiB  setup s  login errors');
    print('-------  -------  ------------  -------------  ------------------  -----------------  ---------------------  -------  ------------');
    for (const row of rows) {
      if (row.quietMs !== undefined) {
        print(
          `${row.server.padEnd(7)}  ${row.users.toLocaleString('en-US').padStart(7)}  ${kib(row.rssKiB).padStart(12)}  ${kib(row.heapKiB).padStart(13)}  ${kib(row.heapTotalKiB).padStart(18)}  ` +
            `${kib(row.externalKiB).padStart(17)}  ${`(${row.quietMs / 1000} s later, no traffic)`.padStart(21)}`,
        );
        continue;
      }
      print(
        `${row.server.padEnd(7)}  ${row.users.toLocaleString('en-US').padStart(7)}  ${kib(row.rssKiB).padStart(12)}  ${kib(row.heapKiB).padStart(13)}  ${kib(row.heapTotalKiB).padStart(18)}  ` +
          `${kib(row.externalKiB).padStart(17)}  ${(row.marginalRssKiB === null ? '' : `${kib(row.marginalRssKiB)} / ${kib(row.marginalHeapKiB ?? NaN)}`).padStart(21)}  ` +
          `${(row.setupMs / 1000).toFixed(1).padStart(7)}  ${String(row.loginErrors).padStart(12)}`,
      );
    }
    for (const users of steps) {
      const bare = rows.find((row) => row.server === 'bare' && row.users === users);
      const chat = rows.find((row) => row.server === 'chatlab' && row.users === users);
      if (bare && chat) {
        print(`ratio chatlab / bare socket at ${users.toLocaleString('en-US')}: RSS ${(chat.rssKiB / bare.rssKiB).toFixed(2)}×, heap ${(chat.heapKiB / bare.heapKiB).toFixed(2)}×`);
      }
    }
    const top = rows.find((row) => row.server === 'chatlab' && row.users === steps.at(-1) && row.quietMs === undefined);
    print(`${mark(idle.chatlabMiB <= IDLE_TARGET_MIB)} idle chatlab server ≤ ${IDLE_TARGET_MIB} MiB RSS — measured ${mib(idle.chatlabMiB)} MiB`);
    if (top) {
      print(`${mark(top.rssKiB <= PER_USER_TARGET_KIB)} ≤ ${PER_USER_TARGET_KIB} KiB RSS per logged-in user at ${top.users.toLocaleString('en-US')} — measured ${kib(top.rssKiB)} KiB`);
    }
    return { idle, rows };
  },
};
