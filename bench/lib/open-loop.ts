/**
 * The sending half of the load generator: open loop. Each sender's k-th message is due at
 * `start + phase + k / rate`, whatever the server answers or how fast it relays (sends never
 * wait for replies, so a slow server cannot slow the offered load down); a 1 ms timer sends
 * everything that is due. The payload carries the time the bytes were handed to the socket:
 * latency then measures the server (plus the generator's own read delay), not the 1 ms timer's
 * jitter. If the generator falls behind its schedule, that is counted and reported separately
 * (lateSends, maxLagMs); the backlog is sent at once, so the number of messages stays right.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Dialect } from './dialects.ts';
import { PAYLOAD_BYTES, writePayload } from './payload.ts';

/** A send later than this after its scheduled time counts as late. */
export const LATE_SEND_MS = 2;

/** What the senders did in one step. */
export interface SendReport {
  /** Messages sent per sender. */
  sent: number[];
  /** performance.now() of the first scheduled send and of the last actual write. */
  startedAt: number;
  finishedAt: number;
  /** Sends that went out more than LATE_SEND_MS after their scheduled time. */
  lateSends: number;
  /** Largest delay between a scheduled time and the actual write, ms. */
  maxLagMs: number;
  /** Writes for which socket.write() returned false (the server was not reading fast enough). */
  backpressuredWrites: number;
}

/** Options of one open-loop run. */
export interface OpenLoopOptions {
  senders: Socket[];
  dialect: Dialect;
  /** Broadcasts per second, all senders together. */
  totalRate: number;
  durationMs: number;
  /** Step number written into payloads. */
  step: number;
  /** performance.now() that payload timestamps count from. */
  epochMs: number;
}

/** Sends at a fixed total rate for a fixed time; resolves after the last scheduled send. */
export function runOpenLoop(options: OpenLoopOptions): Promise<SendReport> {
  const { senders, dialect, totalRate, durationMs, step, epochMs } = options;
  const count = senders.length;
  const perSender = Math.max(1, Math.round((totalRate * durationMs) / 1000 / count));
  const intervalMs = (1000 * count) / totalRate;
  const prefix = dialect.requestPrefix;
  const suffix = dialect.requestSuffix;
  const requestBytes = prefix.length + PAYLOAD_BYTES + suffix.length;
  const startedAt = performance.now() + 2;
  const sent = new Array<number>(count).fill(0);
  const report: SendReport = {
    sent,
    startedAt,
    finishedAt: startedAt,
    lateSends: 0,
    maxLagMs: 0,
    backpressuredWrites: 0,
  };

  return new Promise((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      let done = true;
      for (let s = 0; s < count; s++) {
        const phase = (intervalMs * s) / count;
        // Everything due by now: k such that startedAt + phase + k*interval <= now.
        const due = Math.min(perSender, Math.floor((now - startedAt - phase) / intervalMs) + 1);
        const n = due - sent[s]!;
        if (n > 0) {
          const sentUs = Math.round((now - epochMs) * 1000);
          const batch = Buffer.allocUnsafe(n * requestBytes);
          for (let i = 0; i < n; i++) {
            const k = sent[s]! + i;
            const scheduled = startedAt + phase + k * intervalMs;
            const lag = now - scheduled;
            if (lag > LATE_SEND_MS) report.lateSends++;
            if (lag > report.maxLagMs) report.maxLagMs = lag;
            const at = i * requestBytes;
            prefix.copy(batch, at);
            writePayload(batch, at + prefix.length, step, s, k, sentUs);
            suffix.copy(batch, at + prefix.length + PAYLOAD_BYTES);
          }
          sent[s] = due;
          const socket = senders[s]!;
          if (!socket.destroyed && !socket.write(batch)) report.backpressuredWrites++;
          report.finishedAt = now;
        }
        if (sent[s]! < perSender) done = false;
      }
      if (done) {
        clearInterval(timer);
        resolve(report);
      }
    };
    const timer = setInterval(tick, 1);
  });
}
