/**
 * A connection burst: `connections` TCP connects issued at once against one server, each
 * waiting for the server's first line (a chatlab/1 `hello`). Measures how many got it, how long
 * after the burst started, and how many were connected by the kernel but never greeted (their
 * connection sat in a full listen queue, or was completed by a SYN cookie the server never
 * accepted) within `waitMs`.
 */
import { connect, type Socket } from 'node:net';

/** Options of {@link measureBurst}. */
export interface BurstOptions {
  host: string;
  port: number;
  connections: number;
  /** How long to wait for the last hello after the burst started, in ms. */
  waitMs: number;
}

/** What one burst saw. */
export interface BurstResult {
  connections: number;
  /** Connections that received `hello`. */
  hellos: number;
  /** Connected (the kernel completed the handshake) but no hello within the wait. */
  silent: number;
  /** Never connected within the wait (SYN still unanswered). */
  unconnected: number;
  /** Connections that failed, by error code (ECONNRESET, ETIMEDOUT, …). */
  failed: Record<string, number>;
  /** Time from the start of the burst to each hello, in ms. */
  helloMs: { p50: number; p99: number; max: number };
  /** Time from the start of the burst until every connection had its hello, or null if some never did. */
  allHellosMs: number | null;
}

interface Probe {
  socket: Socket;
  connected: boolean;
  helloAt?: number;
  error?: string;
}

/** Opens the burst, waits for the hellos (or `waitMs`), closes everything, and reports. */
export async function measureBurst(options: BurstOptions): Promise<BurstResult> {
  const probes: Probe[] = [];
  let settled = 0;
  let done: () => void = () => undefined;
  const allSettled = new Promise<void>((resolve) => (done = resolve));
  const settle = (): void => {
    if (++settled === options.connections) done();
  };
  const started = performance.now();
  for (let i = 0; i < options.connections; i++) {
    const socket = connect({ host: options.host, port: options.port });
    const probe: Probe = { socket, connected: false };
    probes.push(probe);
    socket.once('connect', () => (probe.connected = true));
    socket.on('data', (chunk: Buffer) => {
      if (probe.helloAt !== undefined) return;
      if (chunk.includes('"hello"')) {
        probe.helloAt = performance.now() - started;
        settle();
      }
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (probe.helloAt !== undefined || probe.error !== undefined) return;
      probe.error = error.code ?? error.message;
      settle();
    });
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([allSettled, new Promise<void>((resolve) => (timer = setTimeout(resolve, options.waitMs)))]);
  clearTimeout(timer);
  for (const probe of probes) probe.socket.destroy();

  const times = probes.flatMap((p) => (p.helloAt === undefined ? [] : [p.helloAt])).sort((a, b) => a - b);
  const failed: Record<string, number> = {};
  for (const probe of probes) if (probe.error !== undefined && probe.helloAt === undefined) failed[probe.error] = (failed[probe.error] ?? 0) + 1;
  const waiting = probes.filter((p) => p.helloAt === undefined && p.error === undefined);
  const pick = (q: number): number => (times.length === 0 ? Number.NaN : (times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)] as number));
  return {
    connections: options.connections,
    hellos: times.length,
    silent: waiting.filter((p) => p.connected).length,
    unconnected: waiting.filter((p) => !p.connected).length,
    failed,
    helloMs: { p50: pick(0.5), p99: pick(0.99), max: times.length === 0 ? Number.NaN : (times[times.length - 1] as number) },
    allHellosMs: times.length === options.connections ? (times[times.length - 1] as number) : null,
  };
}
