/**
 * Inspector proxy benchmark: how much the inspector costs a chat.
 *
 * - Throughput: one client streams `megabytes` of chatlab/1 frames (`frameBytes` each) to a sink
 *   server, directly and through `chatlab inspect` (a separate process, plain view, so frames are
 *   decoded, drawn and printed: the whole pipeline). MB/s = bytes ÷ time until the sink has all.
 * - Latency: `roundTrips` sequential ping → pong round trips of one small frame against an echo
 *   server, directly and through the inspector; p50/p99 of each and the difference (added latency).
 *
 * Both servers and the client run in this process; the inspector runs in its own, as a user
 * would run it. `measureInspectorProxy()` is what bench/run.ts calls; run this file directly
 * (`npx tsx bench/inspector-proxy.ts`) for the report alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Options of {@link measureInspectorProxy}. */
export interface InspectorProxyBenchOptions {
  /** Megabytes streamed for the throughput figure (default 32). */
  megabytes?: number;
  /** Bytes per frame in the stream (default 1,024). */
  frameBytes?: number;
  /** Round trips timed for the latency figures (default 2,000, after 200 warm-up ones). */
  roundTrips?: number;
  /** Progress lines (default: none). */
  progress?: (line: string) => void;
}

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  p50: number;
  p99: number;
  mean: number;
}

/** What {@link measureInspectorProxy} measured. */
export interface InspectorProxyBenchResult {
  megabytes: number;
  frameBytes: number;
  roundTrips: number;
  throughputMBps: { direct: number; inspector: number; ratio: number };
  latencyMs: { direct: LatencySummary; inspector: LatencySummary; addedP50: number; addedP99: number };
}

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(REPO_ROOT, 'bin', 'chatlab.js');

/**
 * One server for both measurements: a connection whose first line is the `bench-sink` frame only
 * counts what it receives; any other connection echoes every byte back.
 */
async function startBenchServer(): Promise<{ port: number; sinks: Set<(bytes: number) => void>; close: () => Promise<void> }> {
  const sinks = new Set<(bytes: number) => void>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let decided: 'sink' | 'echo' | undefined;
    socket.on('data', (chunk: Buffer) => {
      decided ??= chunk.subarray(0, 24).toString().startsWith('{"type":"bench-sink"') ? 'sink' : 'echo';
      if (decided === 'sink') for (const sink of sinks) sink(chunk.length);
      else if (!socket.write(chunk)) {
        socket.pause();
        socket.once('drain', () => socket.resume());
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    sinks,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Starts `chatlab inspect` in front of `targetPort`; resolves with its port once it listens. */
async function startInspectorProcess(targetPort: number): Promise<{ port: number; child: ChildProcess; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [CLI, 'inspect', '--plain', '--listen', '0', '--target', `127.0.0.1:${targetPort}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let head = '';
    const timer = setTimeout(() => reject(new Error(`chatlab inspect did not print its listening line within 15 s (got ${JSON.stringify(head)})`)), 15_000);
    const onData = (chunk: Buffer): void => {
      head += chunk.toString();
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(head);
      if (!match) return;
      clearTimeout(timer);
      resolve(Number(match[1]));
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`chatlab inspect exited early (code ${code})`)));
  });
  // Keep draining the diagram it prints, as a terminal would.
  child.stdout?.resume();
  return {
    port,
    child,
    // Ctrl-C, as a user would; it may still be drawing a long backlog, so do not wait for that.
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGINT');
      }),
  };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Streams `total` bytes of frames to the sink through `port`; resolves with MB/s. */
async function measureThroughput(port: number, server: Awaited<ReturnType<typeof startBenchServer>>, total: number, frameBytes: number): Promise<number> {
  const header = Buffer.from('{"type":"bench-sink"}\n');
  const text = 'x'.repeat(Math.max(1, frameBytes - 30));
  const frame = Buffer.from(`{"type":"say","text":"${text}"}\n`);
  const batch = Buffer.concat(Array.from({ length: Math.max(1, Math.floor(65_536 / frame.length)) }, () => frame));
  const socket = await connect(port);
  let received = 0;
  const goal = header.length + Math.ceil(total / batch.length) * batch.length;
  const done = new Promise<void>((resolve) => {
    const sink = (bytes: number): void => {
      received += bytes;
      if (received >= goal) {
        server.sinks.delete(sink);
        resolve();
      }
    };
    server.sinks.add(sink);
  });
  const started = performance.now();
  socket.write(header);
  for (let sent = header.length; sent < goal; sent += batch.length) {
    if (!socket.write(batch)) await new Promise((resolve) => socket.once('drain', resolve));
  }
  await done;
  const seconds = (performance.now() - started) / 1000;
  socket.destroy();
  return goal / seconds / 1e6;
}

/** Sequential ping → echo round trips through `port`; resolves with their latency summary. */
async function measureLatency(port: number, roundTrips: number): Promise<LatencySummary> {
  const socket = await connect(port);
  const samples: number[] = [];
  let pending: { resolve: () => void; bytes: number; need: number } | undefined;
  socket.on('data', (chunk: Buffer) => {
    if (!pending) return;
    pending.bytes += chunk.length;
    if (pending.bytes >= pending.need) pending.resolve();
  });
  const warmUp = 200;
  for (let i = 0; i < roundTrips + warmUp; i++) {
    const frame = Buffer.from(`{"type":"ping","id":${i}}\n`);
    const started = performance.now();
    await new Promise<void>((resolve) => {
      pending = { resolve, bytes: 0, need: frame.length };
      socket.write(frame);
    });
    if (i >= warmUp) samples.push(performance.now() - started);
  }
  socket.destroy();
  samples.sort((a, b) => a - b);
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] as number;
  return { p50: at(0.5), p99: at(0.99), mean: samples.reduce((a, b) => a + b, 0) / samples.length };
}

/** Measures the inspector's throughput and added latency against a direct connection. */
export async function measureInspectorProxy(options: InspectorProxyBenchOptions = {}): Promise<InspectorProxyBenchResult> {
  const megabytes = options.megabytes ?? 32;
  const frameBytes = options.frameBytes ?? 1024;
  const roundTrips = options.roundTrips ?? 2000;
  const progress = options.progress ?? (() => undefined);
  const server = await startBenchServer();
  const inspector = await startInspectorProcess(server.port);
  try {
    // Latency first, while the inspector is idle; then the throughput stream.
    progress(`inspector-proxy: ${roundTrips} round trips directly…`);
    const directLatency = await measureLatency(server.port, roundTrips);
    progress(`inspector-proxy: ${roundTrips} round trips through chatlab inspect…`);
    const proxiedLatency = await measureLatency(inspector.port, roundTrips);
    const total = megabytes * 1e6;
    progress('inspector-proxy: warming up (4 MB each way, not counted)…');
    await measureThroughput(server.port, server, 4e6, frameBytes);
    await measureThroughput(inspector.port, server, 4e6, frameBytes);
    progress(`inspector-proxy: streaming ${megabytes} MB of ${frameBytes}-byte frames directly…`);
    const direct = await measureThroughput(server.port, server, total, frameBytes);
    progress(`inspector-proxy: streaming ${megabytes} MB through chatlab inspect…`);
    const proxied = await measureThroughput(inspector.port, server, total, frameBytes);
    return {
      megabytes,
      frameBytes,
      roundTrips,
      throughputMBps: { direct, inspector: proxied, ratio: proxied / direct },
      latencyMs: { direct: directLatency, inspector: proxiedLatency, addedP50: proxiedLatency.p50 - directLatency.p50, addedP99: proxiedLatency.p99 - directLatency.p99 },
    };
  } finally {
    await inspector.stop();
    await server.close();
  }
}

/** The report lines of a result (what `npm run bench` prints). */
export function formatInspectorProxyReport(result: InspectorProxyBenchResult): string[] {
  const t = result.throughputMBps;
  const l = result.latencyMs;
  const ms = (n: number): string => `${n.toFixed(3)} ms`;
  return [
    `inspector proxy: ${result.megabytes} MB of ${result.frameBytes}-byte frames; ${result.roundTrips} round trips (chatlab inspect --plain, own process)`,
    `  throughput   direct ${t.direct.toFixed(1)} MB/s   through inspector ${t.inspector.toFixed(1)} MB/s   (${(t.ratio * 100).toFixed(0)}% of direct)`,
    `  round trip   direct p50 ${ms(l.direct.p50)} p99 ${ms(l.direct.p99)}   through inspector p50 ${ms(l.inspector.p50)} p99 ${ms(l.inspector.p99)}`,
    `  added        p50 +${ms(l.addedP50)}   p99 +${ms(l.addedP99)}`,
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await measureInspectorProxy({ progress: (line) => console.error(line) });
  for (const line of formatInspectorProxyReport(result)) console.log(line);
}
