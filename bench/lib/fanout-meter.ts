/**
 * The receiving half of the load generator: counts every delivered payload on every client,
 * checks per-sender sequence numbers (loss, reordering) and records end-to-end latency.
 *
 * Cheap on purpose (1,000 receivers × 8,000 msgs/s = 8M frames/s): no frame is parsed.
 * Each read is scanned with Buffer.indexOf for the payload marker, only up to the read's last
 * newline (so every header found is complete); the bytes after it wait for the next read.
 * All payloads found in one read share one arrival time (that of the read).
 */
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import type { ClientConnection } from './client-connection.ts';
import { nextPayload, STEP_MODULO, type PayloadFields } from './payload.ts';

const NEWLINE = 0x0a;

/** What one step's receivers saw. */
export class StepMeter {
  /** Highest sequence number seen, per (receiver, sender); -1 = none yet. */
  readonly lastSeq: Int32Array;
  /** Deliveries of this step's payloads. */
  delivered = 0;
  /** Deliveries whose sequence number was below the highest already seen from that sender. */
  outOfOrder = 0;
  /** Payloads of another step that arrived during this one (a previous backlog). */
  stale = 0;
  /** Deliveries expected in total; known once the senders stopped. */
  expected = Number.POSITIVE_INFINITY;
  /** performance.now() of the first and last delivery, and of the moment all expected arrived. */
  firstDeliveryAt = 0;
  lastDeliveryAt = 0;
  drainedAt = 0;
  /** End-to-end latency in µs (written by the sender → read by the receiver), every delivery. */
  readonly latencyUs: RecordableHistogram = createHistogram();

  constructor(
    /** Step number as written in payloads (modulo 100). */
    readonly step: number,
    clients: number,
    readonly senders: number,
  ) {
    this.lastSeq = new Int32Array(clients * senders).fill(-1);
  }
}

/** Receives on every client socket and feeds the current {@link StepMeter}. */
export class FanoutMeter {
  private current: StepMeter | null = null;
  private readonly fields: PayloadFields = { step: 0, sender: 0, seq: 0, sentUs: 0 };
  /** Clients whose connection closed during the run (the server dropped them). */
  lostClients = 0;
  /** First few reasons for lost clients, for the report. */
  readonly lostReasons: string[] = [];
  /** Refusals seen by senders (e.g. `rate_limited` errors), approximate. */
  refusals = 0;
  /** Bytes received on all sockets since the meter started (to see when setup traffic settled). */
  bytesIn = 0;
  private closing = false;

  constructor(
    private readonly clients: number,
    private readonly senders: number,
    /** performance.now() that payload timestamps count from. */
    private readonly epochMs: number,
  ) {}

  /** Starts counting a new step; payloads of other steps are then counted as stale. */
  beginStep(step: number): StepMeter {
    this.current = new StepMeter(step % STEP_MODULO, this.clients, this.senders);
    return this.current;
  }

  /** Stops counting (payloads arriving later are ignored). */
  endStep(): void {
    this.current = null;
  }

  /** Stop counting closes as losses (the bench is tearing the connections down). */
  shutdown(): void {
    this.closing = true;
  }

  /**
   * Starts receiving on a client socket that finished its handshake.
   * @param leftover bytes that arrived after the handshake's last line
   * @param refusalNeedle counted on this socket when set (senders only)
   */
  attach(receiver: number, connection: ClientConnection, leftover: Buffer, refusalNeedle: string | null): void {
    let carry: Buffer | null = leftover.length ? leftover : null;
    connection.handler = (buf, from, to) => {
      this.bytesIn += to - from;
      if (refusalNeedle) this.countRefusals(buf, from, to, refusalNeedle);
      let start = from;
      if (carry) {
        const nl = buf.indexOf(NEWLINE, start);
        if (nl === -1 || nl >= to) {
          carry = Buffer.concat([carry, buf.subarray(start, to)]);
          return;
        }
        const joined = Buffer.concat([carry, buf.subarray(start, nl + 1)]);
        carry = null;
        this.scan(receiver, joined, 0, joined.length);
        start = nl + 1;
      }
      const lastNl = buf.lastIndexOf(NEWLINE, to - 1);
      if (lastNl >= start) {
        this.scan(receiver, buf, start, lastNl + 1);
        start = lastNl + 1;
      }
      // The read buffer is shared and reused: keep a copy of the unfinished line.
      if (start < to) carry = Buffer.from(buf.subarray(start, to));
    };
    connection.socket.on('close', () => {
      if (this.closing) return;
      this.lostClients++;
      if (this.lostReasons.length < 3) this.lostReasons.push(`client ${receiver} disconnected by the server`);
    });
  }

  private countRefusals(buf: Buffer, from: number, to: number, needle: string): void {
    let at = buf.indexOf(needle, from);
    while (at !== -1 && at < to) {
      this.refusals++;
      at = buf.indexOf(needle, at + needle.length);
    }
  }

  private scan(receiver: number, buf: Buffer, from: number, end: number): void {
    const meter = this.current;
    if (!meter) return;
    const f = this.fields;
    const now = performance.now();
    const nowUs = (now - this.epochMs) * 1000;
    const base = receiver * meter.senders;
    let found = 0;
    let at = nextPayload(buf, from, end, f);
    while (at !== -1) {
      if (f.step !== meter.step) {
        meter.stale++;
      } else {
        found++;
        const slot = base + f.sender;
        const last = meter.lastSeq[slot]!;
        if (f.seq > last) meter.lastSeq[slot] = f.seq;
        else meter.outOfOrder++;
        const latency = Math.round(nowUs - f.sentUs);
        meter.latencyUs.record(latency > 0 ? latency : 1);
      }
      at = nextPayload(buf, at, end, f);
    }
    if (found === 0) return;
    if (meter.delivered === 0) meter.firstDeliveryAt = now;
    meter.delivered += found;
    meter.lastDeliveryAt = now;
    if (meter.delivered >= meter.expected && meter.drainedAt === 0) meter.drainedAt = now;
  }
}
