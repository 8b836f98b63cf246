import dgram from 'node:dgram';
import { decodeDatagram, type RawFrame } from '../../protocol/index.ts';
import type { Transcript } from '../transcript.ts';

/** Frames a probe keeps unread before dropping the oldest: a server that floods cannot grow the verifier. */
export const UDP_INBOX_LIMIT = 1_000;

/** One datagram the probe received: the frame it held, or why it was not one. */
export interface ReceivedDatagram {
  raw: Buffer;
  frame?: RawFrame;
  problem?: string;
}

/**
 * The verifier's UDP peer: one socket, "connected" to the server so it only hears the server,
 * that sends one frame per datagram and keeps what comes back in a bounded inbox. Every datagram
 * both ways goes into the transcript under the probe's name. There is no connection to open or
 * close: the probe is a lone address until a login names it.
 */
export class UdpProbe {
  private readonly socket = dgram.createSocket('udp4');
  private readonly inbox: ReceivedDatagram[] = [];
  private readonly waiters = new Set<() => void>();
  private closed = false;

  private constructor(
    readonly name: string,
    private readonly transcript: Transcript,
  ) {
    this.socket.on('message', this.onMessage);
    // ECONNREFUSED (ICMP port unreachable) and the like: the waits time out and say so.
    this.socket.on('error', this.onError);
  }

  /** A probe whose datagrams go to `host:port`. */
  static async open(name: string, host: string, port: number, transcript: Transcript): Promise<UdpProbe> {
    const probe = new UdpProbe(name, transcript);
    await new Promise<void>((resolve) => probe.socket.connect(port, host, resolve));
    return probe;
  }

  /** Sends one frame as one datagram. */
  send(frame: RawFrame): void {
    if (this.closed) return;
    const raw = Buffer.from(JSON.stringify(frame));
    this.transcript.add({ conn: this.name, kind: 'send', raw, frame, writes: 1, frames: 1 });
    this.socket.send(raw);
  }

  /**
   * Resolves with the first datagram received from now on, or kept unread, whose frame passes
   * `match` (taking it and every earlier one out of the inbox); `null` after `timeoutMs`.
   */
  async waitFor(match: (frame: RawFrame) => boolean, timeoutMs: number): Promise<ReceivedDatagram | null> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const index = this.inbox.findIndex((d) => d.frame !== undefined && match(d.frame));
      if (index !== -1) return this.inbox.splice(0, index + 1)[index] as ReceivedDatagram;
      const left = deadline - performance.now();
      if (left <= 0 || this.closed) return null;
      await this.nextDatagram(left);
    }
  }

  /** The datagrams received and not taken yet whose frame passes `match` (left in the inbox). */
  peek(match: (frame: RawFrame) => boolean): ReceivedDatagram[] {
    return this.inbox.filter((d) => d.frame !== undefined && match(d.frame));
  }

  /** Closes the socket (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
    this.wake();
  }

  private nextDatagram(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private readonly onMessage = (raw: Buffer): void => {
    const decoded = decodeDatagram(raw);
    const datagram: ReceivedDatagram = decoded.ok ? { raw, frame: decoded.frame } : { raw, problem: decoded.message };
    this.transcript.add({
      conn: this.name,
      kind: 'recv',
      raw,
      ...(datagram.frame ? { frame: datagram.frame } : {}),
      ...(datagram.problem ? { problem: datagram.problem } : {}),
      reads: { first: 1, last: 1 },
    });
    this.inbox.push(datagram);
    if (this.inbox.length > UDP_INBOX_LIMIT) this.inbox.shift();
    this.wake();
  };

  private readonly onError = (error: Error): void => {
    this.transcript.add({ conn: this.name, kind: 'note', text: `socket error: ${error.message}` });
  };
}
