/**
 * One fan-out ladder against one server: start it (pinned), connect N clients into one room,
 * then for each offered rate run the open-loop senders for a fixed time, wait for the backlog
 * to drain, and record what the receivers saw.
 */
import { performance } from 'node:perf_hooks';
import type { BenchServer } from '../servers/index.ts';
import { ClientConnection } from './client-connection.ts';
import { otherLoadPct, readCpuTimes } from './cpu-noise.ts';
import { FanoutMeter } from './fanout-meter.ts';
import { runOpenLoop } from './open-loop.ts';
import type { ServerProcess } from './server-process.ts';

/** A step passes if everything was delivered, in order, and drained within this. */
export const DRAIN_LIMIT_MS = 250;

/** A step is noisy when other processes used more than this % of the server's or the generator's CPU. */
export const NOISY_OTHER_LOAD_PCT = 15;

/** Whether other processes took a noticeable share of the server's or the generator's CPU. */
export function isNoisy(s: StepResult): boolean {
  return (s.otherLoadServerCpuPct ?? 0) > NOISY_OTHER_LOAD_PCT || (s.otherLoadGeneratorCpuPct ?? 0) > NOISY_OTHER_LOAD_PCT;
}

/** Options of one ladder. */
export interface FanoutOptions {
  clients: number;
  senders: number;
  /** Offered broadcasts/s, all senders together, in order. */
  rates: number[];
  stepMs: number;
  /** Longest wait for the backlog after the senders stop, before the step is called undrained. */
  settleMs: number;
  /** CPU for the server process; undefined = not pinned. */
  serverCpu?: number;
  /** CPU this load generator is pinned to; undefined = not pinned. */
  generatorCpu?: number;
  /** Directory for CPU profiles of Node servers; undefined = no profiling. */
  profileDir?: string;
  /** Connections opened (and handshaken) concurrently. */
  connectBatch: number;
  /** A short unreported step first, so the server's code is warm. */
  warmup: boolean;
  /**
   * Steps run while other processes took the CPUs (see {@link isNoisy}) are rerun, at most this
   * many times: 'failed' reruns only failed steps (the capacity ladder), 'all' any noisy step
   * (a latency measurement is spoilt by noise even when it passes).
   */
  noisyRetries?: { max: number; which: 'failed' | 'all' };
  progress: (line: string) => void;
}

/** What one offered rate gave. */
export interface StepResult {
  offeredRate: number;
  /** Broadcasts actually sent per second over the send window (open loop: ≈ offered). */
  sentRate: number;
  broadcasts: number;
  expectedDeliveries: number;
  delivered: number;
  /** Deliveries per second, from the first send to the last delivery. */
  deliveriesPerSec: number;
  /** deliveriesPerSec / (clients - 1): broadcasts/s that reached everyone. */
  deliveredBroadcastsPerSec: number;
  /** expected - delivered when the step ended (includes backlog still queued, if any). */
  missing: number;
  outOfOrder: number;
  stale: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** ms from the last send until the last expected delivery; null = not drained. */
  drainMs: number | null;
  /** Why it did not drain: 'lost' (deliveries stopped) or 'backlog' (still flowing at the settle limit). */
  undrained: 'lost' | 'backlog' | null;
  clientsLost: number;
  refusals: number;
  serverCpuPct: number | null;
  /** Peak resident memory of the server process so far (VmHWM), MiB; null if unknown. */
  serverPeakMiB: number | null;
  /** Server CPU time per delivery, ns (falls as writes carry more messages; a starved server batches more). */
  serverNsPerDelivery: number | null;
  generatorCpuPct: number;
  /** % of the server's CPU used by other processes (plus steal); null if not pinned. */
  otherLoadServerCpuPct: number | null;
  /** % of the generator's CPU used by other processes (plus steal); null if not pinned. */
  otherLoadGeneratorCpuPct: number | null;
  lateSends: number;
  maxSendLagMs: number;
  backpressuredWrites: number;
  /** No loss, no reordering, no lost client, drained within DRAIN_LIMIT_MS. */
  ok: boolean;
  /** Set when this is a rerun of a step that failed while the machine was busy: the first try. */
  firstTry?: { ok: boolean; drainMs: number | null; otherLoadServerCpuPct: number | null; otherLoadGeneratorCpuPct: number | null };
}

/** The whole ladder for one server. */
export interface LadderResult {
  server: string;
  clients: number;
  setupMs: number;
  steps: StepResult[];
  /** Rates not run, and why (e.g. the previous step left a backlog). */
  skipped: { offeredRate: number; reason: string }[];
  /** Highest offered rate whose step passed; 0 if none. */
  capacity: number;
  error?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Connects and handshakes all clients, `batch` at a time; client i is user `u<i>`. */
async function connectClients(server: BenchServer, proc: ServerProcess, meter: FanoutMeter, options: FanoutOptions): Promise<ClientConnection[]> {
  const sockets: ClientConnection[] = [];
  const timeoutMs = 60_000;
  let lastReport = performance.now();
  for (let first = 0; first < options.clients; first += options.connectBatch) {
    const batch: Promise<ClientConnection>[] = [];
    for (let i = first; i < Math.min(options.clients, first + options.connectBatch); i++) {
      batch.push(
        (async () => {
          const port = proc.ports ? (proc.ports[i % proc.ports.length] as number) : proc.port;
          const connection = await ClientConnection.open(proc.host, port, timeoutMs);
          const leftover = await server.dialect.handshake(connection, `u${i}`, timeoutMs);
          const isSender = i < options.senders;
          meter.attach(i, connection, leftover, isSender ? server.dialect.refusalNeedle : null);
          return connection;
        })(),
      );
    }
    try {
      sockets.push(...(await Promise.all(batch)));
    } catch (err) {
      for (const c of sockets) c.socket.destroy();
      for (const p of batch)
        p.then(
          (c) => c.socket.destroy(),
          () => {},
        );
      throw err;
    }
    if (performance.now() - lastReport > 1000) {
      lastReport = performance.now();
      options.progress(`  ${server.id}: ${sockets.length}/${options.clients} clients in the room`);
    }
  }
  return sockets;
}

/**
 * Waits until no bytes arrived for `quietMs` (the join/presence storm or a backlog is over), at
 * most `maxMs`; returns whether it got quiet.
 */
async function waitQuiet(meter: FanoutMeter, quietMs: number, maxMs: number): Promise<boolean> {
  const deadline = performance.now() + maxMs;
  let seen = meter.bytesIn;
  let quietSince = performance.now();
  while (performance.now() < deadline) {
    await sleep(20);
    if (meter.bytesIn !== seen) {
      seen = meter.bytesIn;
      quietSince = performance.now();
    } else if (performance.now() - quietSince >= quietMs) {
      return true;
    }
  }
  return false;
}

/** Runs one offered rate and measures it. */
async function runStep(
  step: number,
  rate: number,
  durationMs: number,
  sockets: ClientConnection[],
  meter: FanoutMeter,
  server: BenchServer,
  proc: ServerProcess,
  options: FanoutOptions,
  epochMs: number,
): Promise<StepResult> {
  const stepMeter = meter.beginStep(step);
  const lostBefore = meter.lostClients;
  const refusalsBefore = meter.refusals;
  const serverCpuBefore = proc.cpuMs();
  const genCpuBefore = process.cpuUsage();
  const readCpu = (cpu: number | undefined) => (cpu === undefined ? null : readCpuTimes(cpu));
  const serverCoreBefore = readCpu(options.serverCpu);
  const generatorCoreBefore = readCpu(options.generatorCpu);
  const wallBefore = performance.now();

  const sent = await runOpenLoop({
    senders: sockets.slice(0, options.senders).map((c) => c.socket),
    dialect: server.dialect,
    totalRate: rate,
    durationMs,
    step,
    epochMs,
  });
  const broadcasts = sent.sent.reduce((a, b) => a + b, 0);
  stepMeter.expected = broadcasts * (options.clients - 1);
  if (stepMeter.delivered >= stepMeter.expected && stepMeter.drainedAt === 0) {
    stepMeter.drainedAt = performance.now();
  }

  // Settle: wait for the backlog; stop early when nothing at all arrives any more (something was
  // lost). Bytes still arriving, whatever they are, mean a server still working through a backlog.
  const stallMs = 1000;
  let undrained: StepResult['undrained'] = null;
  let bytesSeen = meter.bytesIn;
  let bytesSeenAt = performance.now();
  for (;;) {
    if (stepMeter.drainedAt !== 0) break;
    const now = performance.now();
    if (meter.bytesIn !== bytesSeen) {
      bytesSeen = meter.bytesIn;
      bytesSeenAt = now;
    }
    if (now - bytesSeenAt > stallMs) {
      undrained = 'lost';
      break;
    }
    if (now - sent.finishedAt > options.settleMs) {
      undrained = 'backlog';
      break;
    }
    await sleep(2);
  }
  meter.endStep();

  const wallMs = performance.now() - wallBefore;
  if (process.env.BENCH_DEBUG)
    options.progress(
      `  debug: step ${step} delivered=${stepMeter.delivered} stale=${stepMeter.stale} bytesIn=${meter.bytesIn} refusals=${meter.refusals} backpressured=${sent.backpressuredWrites} senderQueued=${sockets
        .slice(0, options.senders)
        .map((c) => c.socket.writableLength)
        .join(',')}`,
    );
  const serverCpuAfter = proc.cpuMs();
  const genCpu = process.cpuUsage(genCpuBefore);
  const serverCoreAfter = readCpu(options.serverCpu);
  const generatorCoreAfter = readCpu(options.generatorCpu);
  const serverOwnMs = serverCpuBefore !== null && serverCpuAfter !== null ? serverCpuAfter - serverCpuBefore : null;
  const generatorOwnMs = (genCpu.user + genCpu.system) / 1000;
  const h = stepMeter.latencyUs;
  const has = stepMeter.delivered > 0;
  const pct = (p: number): number => (has ? h.percentile(p) / 1000 : Number.NaN);
  const activeMs = (stepMeter.lastDeliveryAt || performance.now()) - sent.startedAt;
  const deliveriesPerSec = has ? stepMeter.delivered / (activeMs / 1000) : 0;
  const missing = Math.max(0, stepMeter.expected - stepMeter.delivered);
  const clientsLost = meter.lostClients - lostBefore;
  const drainMs = stepMeter.drainedAt ? Math.max(0, stepMeter.drainedAt - sent.finishedAt) : null;
  return {
    offeredRate: rate,
    sentRate: broadcasts / (Math.max(1, sent.finishedAt - sent.startedAt) / 1000),
    broadcasts,
    expectedDeliveries: stepMeter.expected,
    delivered: stepMeter.delivered,
    deliveriesPerSec,
    deliveredBroadcastsPerSec: deliveriesPerSec / (options.clients - 1),
    missing,
    outOfOrder: stepMeter.outOfOrder,
    stale: stepMeter.stale,
    p50Ms: pct(50),
    p99Ms: pct(99),
    p999Ms: pct(99.9),
    maxMs: has ? h.max / 1000 : Number.NaN,
    drainMs,
    undrained,
    clientsLost,
    refusals: meter.refusals - refusalsBefore,
    serverCpuPct: serverOwnMs === null ? null : (serverOwnMs / wallMs) * 100,
    serverPeakMiB: proc.memoryMiB()?.peak ?? null,
    serverNsPerDelivery: serverOwnMs === null || stepMeter.delivered === 0 ? null : (serverOwnMs * 1e6) / stepMeter.delivered,
    generatorCpuPct: (generatorOwnMs / wallMs) * 100,
    otherLoadServerCpuPct: otherLoadPct(serverCoreBefore, serverCoreAfter, serverOwnMs, wallMs),
    otherLoadGeneratorCpuPct: otherLoadPct(generatorCoreBefore, generatorCoreAfter, generatorOwnMs, wallMs),
    lateSends: sent.lateSends,
    maxSendLagMs: sent.maxLagMs,
    backpressuredWrites: sent.backpressuredWrites,
    ok: missing === 0 && stepMeter.outOfOrder === 0 && clientsLost === 0 && drainMs !== null && drainMs <= DRAIN_LIMIT_MS,
  };
}

function describeStep(id: string, r: StepResult, progress: (line: string) => void): void {
  progress(
    `  ${id}: ${r.offeredRate}/s → ${Math.round(r.deliveredBroadcastsPerSec)} bcast/s delivered, ` +
      `p99 ${r.p99Ms.toFixed(2)} ms, ${r.drainMs === null ? `not drained (${r.undrained})` : `drained in ${r.drainMs.toFixed(0)} ms`}` +
      `${r.ok ? '' : ' — FAIL'}${isNoisy(r) ? ' (machine busy)' : ''}`,
  );
}

/** Runs the whole ladder against one server; never throws (errors end up in `error`). */
export async function runFanoutLadder(server: BenchServer, options: FanoutOptions): Promise<LadderResult> {
  const result: LadderResult = {
    server: server.id,
    clients: options.clients,
    setupMs: 0,
    steps: [],
    skipped: [],
    capacity: 0,
  };
  const epochMs = performance.now();
  const meter = new FanoutMeter(options.clients, options.senders, epochMs);
  let proc: ServerProcess | null = null;
  let sockets: ClientConnection[] = [];
  let ran = 0;
  try {
    options.progress(`  ${server.id}: starting the server process`);
    proc = await server.start({ cpu: options.serverCpu, clients: options.clients, profileDir: options.profileDir });
    const setupStart = performance.now();
    options.progress(`  ${server.id}: listening on ${proc.host}:${proc.port} (pid ${proc.pid}); connecting ${options.clients} clients`);
    const settings = proc.readyLine.replace(/^READY \d+\s*/, '');
    if (settings) options.progress(`  ${server.id}: ${settings}`);
    sockets = await connectClients(server, proc, meter, options);
    await waitQuiet(meter, 300, 15_000);
    result.setupMs = performance.now() - setupStart;
    options.progress(`  ${server.id}: ${options.clients} clients ready in ${(result.setupMs / 1000).toFixed(1)} s`);

    let step = 1;
    if (options.warmup) {
      const warmRate = Math.min(500, options.rates[0] ?? 500);
      options.progress(`  ${server.id}: warm-up at ${warmRate}/s`);
      await runStep(step++, warmRate, Math.min(1000, options.stepMs), sockets, meter, server, proc, options, epochMs);
      await sleep(100);
    }
    for (const rate of options.rates) {
      const previous = result.steps.at(-1);
      if (previous && (previous.drainMs === null || previous.clientsLost > 0)) {
        const why = previous.clientsLost > 0 ? `the ${previous.offeredRate}/s step lost clients` : `the ${previous.offeredRate}/s step left a backlog`;
        result.skipped.push({ offeredRate: rate, reason: why });
        continue;
      }
      options.progress(`  ${server.id}: offering ${rate} broadcasts/s to ${options.clients} clients for ${options.stepMs} ms`);
      let r = await runStep(step++, rate, options.stepMs, sockets, meter, server, proc, options, epochMs);
      describeStep(server.id, r, options.progress);
      // Run while other processes took the CPUs: let the backlog go, then try again.
      const retries = options.noisyRetries ?? { max: 1, which: 'failed' };
      const first = r;
      for (let attempt = 0; attempt < retries.max; attempt++) {
        const worthIt = isNoisy(r) && r.clientsLost === 0 && (retries.which === 'all' || !r.ok);
        if (!worthIt || !(await waitQuiet(meter, 300, 8_000))) break;
        options.progress(`  ${server.id}: the machine was busy during that step; running ${rate}/s again`);
        r = await runStep(step++, rate, options.stepMs, sockets, meter, server, proc, options, epochMs);
        describeStep(server.id, r, options.progress);
      }
      if (r !== first) {
        r.firstTry = {
          ok: first.ok,
          drainMs: first.drainMs,
          otherLoadServerCpuPct: first.otherLoadServerCpuPct,
          otherLoadGeneratorCpuPct: first.otherLoadGeneratorCpuPct,
        };
      }
      ran++;
      result.steps.push(r);
      await sleep(100);
    }
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    options.progress(`  ${server.id}: ERROR ${result.error}`);
    for (const rate of options.rates.slice(ran)) {
      if (!result.steps.some((s) => s.offeredRate === rate) && !result.skipped.some((s) => s.offeredRate === rate)) {
        result.skipped.push({ offeredRate: rate, reason: 'error' });
      }
    }
  } finally {
    meter.shutdown();
    for (const c of sockets) c.socket.destroy();
    if (proc) await proc.stop();
  }
  result.capacity = Math.max(0, ...result.steps.filter((s) => s.ok).map((s) => s.offeredRate));
  return result;
}
