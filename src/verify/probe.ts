import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { FrameDecoder, encodeFrame, type RawFrame, type ReadSpan } from '../protocol/index.ts';
import { showBytes } from './bytes.ts';
import { CheckFailure } from './failure.ts';
import { Recent, type RecentLimits } from './recent.ts';
import type { Transcript } from './transcript.ts';

/** What a probe keeps of what it received: the last 200 frames, and at most 1 MiB of them. */
export const INBOX_LIMITS: RecentLimits = { items: 200, bytes: 1024 * 1024 };

/**
 * The flood rule: a wait fails as soon as this many frames (or bytes) arrived on its connection
 * without the one it waits for. No check of a correct peer comes near it (the most a check lets
 * pass is a handful of presence frames), and a peer stuck in a send loop reaches it in
 * milliseconds, instead of running to the timeout.
 */
export const FLOOD_LIMIT = { frames: 10_000, bytes: 16 * 1024 * 1024 } as const;

/** One thing received on a probe connection: a frame, or a line that is not a frame. */
export interface Received {
  /** Transcript sequence number, so a failure can point at it in the diagram. */
  seq: number;
  raw: Buffer;
  /** The decoded frame; absent when the line is not a frame (see `problem`). */
  frame?: RawFrame;
  problem?: { code: string; message: string };
  reads: ReadSpan;
  consumed: boolean;
}

/** The outcome of waiting for something on a probe. */
export type Wait =
  | { kind: 'frame'; received: Received }
  /** The peer closed (or reset) the connection before a matching frame arrived. */
  | { kind: 'closed' }
  | { kind: 'timeout' };

/** How to write bytes: in one write, or cut at the given byte offsets into several TCP writes. */
export interface WriteOptions {
  splitAt?: number[];
  /** Pause between the pieces, so each leaves as its own TCP segment. */
  gapMs?: number;
  /** When sending raw bytes: the frames they hold, for the transcript. */
  frames?: RawFrame[];
}

interface Waiter {
  match: (received: Received) => boolean;
  consume: boolean;
  resolve: (wait: Wait) => void;
  fail: (error: CheckFailure) => void;
  /** What the wait is for ("a hello on conn1's connection"), for the flood message. */
  what: string | undefined;
  /** Frames (and their bytes) that arrived during the wait and were not the one wanted. */
  passed: number;
  passedBytes: number;
}

/** "1.2 MB": a byte count as a learner reads it. */
function megabytes(bytes: number): string {
  return bytes < 100_000 ? `${Math.round(bytes / 100) / 10} kB` : `${Math.round(bytes / 100_000) / 10} MB`;
}

/**
 * One verifier connection to the peer under test, built on FrameDecoder. It records every read,
 * frame and close in the shared transcript, keeps the last frames in an inbox (see
 * {@link INBOX_LIMITS}), and lets checks wait for "the first not-yet-consumed frame that
 * matches" with a bounded timeout and the {@link FLOOD_LIMIT}.
 */
export class Probe {
  private readonly kept = new Recent<Received>(INBOX_LIMITS);
  /** Number of TCP reads so far. */
  reads = 0;
  /** The peer sent FIN (it closed its side). */
  peerEnded = false;
  /** The socket is fully closed. */
  closed = false;
  /** The peer reset the connection (RST), or another socket error happened. */
  error?: string;
  private readonly decoder = new FrameDecoder();
  private waiters: Waiter[] = [];
  private closeWaiters: (() => void)[] = [];
  /** A wait failed with the flood rule: the probe stopped reading, so the frame at fault stays the last one. */
  private flooded = false;

  private constructor(
    readonly socket: net.Socket,
    public name: string,
    private readonly transcript: Transcript,
    /** Who is at the other end, for messages: the server under test, or (--client) the client. */
    readonly peer: 'server' | 'client',
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => {
      this.peerEnded = true;
      for (const bad of this.decoder.end()) if (!bad.ok) this.record({ raw: bad.raw, problem: { code: bad.code, message: bad.message }, reads: bad.reads });
      this.transcript.add({ conn: this.name, kind: 'close', by: 'peer', detail: 'closed its side (FIN)' });
      this.settle();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // Writing to a connection the peer already closed is the verifier's own echo of that close.
      if (error.code === 'EPIPE' && this.peerEnded) return;
      this.error = error.code === 'ECONNRESET' ? 'reset the connection (RST)' : error.code === 'EPIPE' ? 'closed the connection while the verifier was writing' : error.message;
      this.transcript.add({ conn: this.name, kind: 'close', by: 'peer', detail: this.error });
    });
    socket.on('close', () => {
      this.closed = true;
      this.settle();
    });
  }

  /** Opens a connection; rejects with the socket error (ECONNREFUSED…) or a timeout. */
  static connect(options: { host: string; port: number; name: string; transcript: Transcript; timeoutMs: number }): Promise<Probe> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: options.host, port: options.port, allowHalfOpen: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(Object.assign(new Error(`no connection within ${options.timeoutMs / 1000} s`), { code: 'ETIMEDOUT' }));
      }, options.timeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        options.transcript.add({ conn: options.name, kind: 'connect' });
        resolve(new Probe(socket, options.name, options.transcript, 'server'));
      });
    });
  }

  /** Wraps a socket accepted by the verifier (--client mode, where the verifier is the server). */
  static wrap(socket: net.Socket, name: string, transcript: Transcript): Probe {
    transcript.add({ conn: name, kind: 'connect' });
    return new Probe(socket, name, transcript, 'client');
  }

  /** The last frames or bad lines received (see {@link INBOX_LIMITS}), oldest first. */
  get inbox(): Received[] {
    return this.kept.toArray();
  }

  /** How many received items the inbox dropped to stay within its limits. */
  get inboxDropped(): number {
    return this.kept.dropped.items;
  }

  /** Bytes of an unfinished frame (received, but no `\n` yet). */
  get pendingBytes(): Buffer {
    return this.decoder.pendingFrame();
  }

  /** Whether the connection can no longer bring anything new. */
  get finished(): boolean {
    return this.peerEnded || this.closed;
  }

  /**
   * Writes frames (each encoded with its `\n`) or raw bytes, optionally cut into several TCP
   * writes. Records one transcript event per frame written; resolves once everything is handed
   * to the kernel.
   */
  async send(data: RawFrame | RawFrame[] | Buffer, options: WriteOptions = {}): Promise<void> {
    const frames = Buffer.isBuffer(data) ? (options.frames ?? []) : Array.isArray(data) ? data : [data];
    const bytes = Buffer.isBuffer(data) ? data : Buffer.concat(frames.map((frame) => encodeFrame(frame)));
    const cuts = [...new Set(options.splitAt ?? [])].filter((at) => at > 0 && at < bytes.length).sort((a, b) => a - b);
    const pieces: Buffer[] = [];
    let from = 0;
    for (const at of [...cuts, bytes.length]) {
      pieces.push(bytes.subarray(from, at));
      from = at;
    }
    this.transcript.add({
      conn: this.name,
      kind: 'send',
      raw: bytes,
      ...(frames.length === 1 ? { frame: frames[0] as RawFrame } : {}),
      writes: pieces.length,
      frames: frames.length,
    });
    for (const [index, piece] of pieces.entries()) {
      if (this.socket.destroyed || this.socket.writableEnded) return;
      await new Promise<void>((resolve) => this.socket.write(piece, () => resolve()));
      if (index < pieces.length - 1) await delay(options.gapMs ?? 15);
    }
  }

  /**
   * Waits for the first not-yet-consumed received item that `match` accepts (already in the
   * inbox or yet to come) and returns it, marked consumed unless `consume: false`; or reports
   * the close or the timeout. An aborted `signal` ends the wait as a timeout. Rejects with a
   * {@link CheckFailure} when the peer sends {@link FLOOD_LIMIT} frames without the one wanted
   * (`what` names it in the message).
   */
  next(match: (received: Received) => boolean, timeoutMs: number, options: { consume?: boolean; signal?: AbortSignal; what?: string } = {}): Promise<Wait> {
    const consume = options.consume ?? true;
    const found = this.kept.find((received) => !received.consumed && match(received));
    if (found) {
      if (consume) found.consumed = true;
      return Promise.resolve({ kind: 'frame', received: found });
    }
    if (this.finished) return Promise.resolve({ kind: 'closed' });
    if (options.signal?.aborted) return Promise.resolve({ kind: 'timeout' });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
      const onAbort = (): void => finish({ kind: 'timeout' });
      const waiter: Waiter = {
        match,
        consume,
        what: options.what,
        passed: 0,
        passedBytes: 0,
        resolve: (wait) => finish(wait),
        fail: (error) => finish(error),
      };
      const finish = (outcome: Wait | CheckFailure): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        if (outcome instanceof CheckFailure) reject(outcome);
        else resolve(outcome);
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Items received and not consumed yet that `match` accepts (all of them without `match`). */
  unconsumed(match: (received: Received) => boolean = () => true): Received[] {
    return this.kept.toArray().filter((received) => !received.consumed && match(received));
  }

  /** Resolves `true` once the peer has closed (FIN, RST or full close), `false` after the timeout or when `signal` aborts. */
  waitForClose(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.finished || this.error) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const settle = (closed: boolean): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', giveUp);
        this.closeWaiters = this.closeWaiters.filter((w) => w !== done);
        resolve(closed);
      };
      const done = (): void => settle(true);
      const giveUp = (): void => settle(false);
      const timer = setTimeout(giveUp, timeoutMs);
      signal?.addEventListener('abort', giveUp, { once: true });
      this.closeWaiters.push(done);
    });
  }

  /** Closes the verifier's side politely (FIN); the peer may still send until it closes too. */
  end(): void {
    if (this.socket.writableEnded || this.socket.destroyed) return;
    this.transcript.add({ conn: this.name, kind: 'close', by: 'verifier', detail: 'closed its side (FIN)' });
    this.socket.end();
  }

  /** Drops the connection at once, without `quit`: what a crashed or killed client does. */
  drop(): void {
    if (this.socket.destroyed) return;
    this.transcript.add({ conn: this.name, kind: 'close', by: 'verifier', detail: 'dropped the connection (no quit)' });
    this.socket.destroy();
  }

  /**
   * Resets the connection (TCP RST) instead of closing it: what the peer sees when a client's
   * machine crashes or a network drops it. The server's next read of the socket fails (ECONNRESET).
   */
  reset(): void {
    if (this.socket.destroyed) return;
    this.transcript.add({ conn: this.name, kind: 'close', by: 'verifier', detail: 'reset the connection (RST)' });
    this.socket.resetAndDestroy();
  }

  /** Releases the socket without recording anything (end-of-run cleanup). */
  dispose(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.flooded) return;
    this.reads++;
    this.transcript.add({ conn: this.name, kind: 'read', raw: Buffer.from(chunk), index: this.reads });
    for (const result of this.decoder.push(chunk)) {
      if (this.flooded) break;
      if (result.ok) this.record({ raw: result.raw, frame: result.frame, reads: result.reads });
      else this.record({ raw: result.raw, problem: { code: result.code, message: result.message }, reads: result.reads });
    }
  }

  private record(item: { raw: Buffer; frame?: RawFrame; problem?: { code: string; message: string }; reads: ReadSpan }): void {
    // One copy, shared by the transcript and the inbox: the decoder's bytes may be a view on its buffer.
    const raw = Buffer.from(item.raw);
    const event = this.transcript.add({
      conn: this.name,
      kind: 'recv',
      raw,
      ...(item.frame ? { frame: item.frame } : {}),
      ...(item.problem ? { problem: item.problem.message } : {}),
      reads: item.reads,
    });
    const received: Received = { seq: event.seq, raw, reads: item.reads, consumed: false };
    if (item.frame) received.frame = item.frame;
    if (item.problem) received.problem = item.problem;
    this.kept.push(received, raw.length);
    for (const waiter of [...this.waiters]) {
      if (!received.consumed && waiter.match(received)) {
        if (waiter.consume) received.consumed = true;
        waiter.resolve({ kind: 'frame', received });
        continue;
      }
      waiter.passed++;
      waiter.passedBytes += raw.length;
      if (waiter.passed >= FLOOD_LIMIT.frames || waiter.passedBytes >= FLOOD_LIMIT.bytes) {
        this.flooded = true;
        this.socket.pause();
        waiter.fail(this.floodFailure(waiter, received));
      }
    }
  }

  /** The flood rule's failure: the peer keeps sending, and never what the check waits for. */
  private floodFailure(waiter: Waiter, last: Received): CheckFailure {
    const what = waiter.what ?? `the frame the check waits for on ${this.name}'s connection`;
    return new CheckFailure({
      summary: `the ${this.peer} sent ${waiter.passed.toLocaleString('en-US')} frames (${megabytes(waiter.passedBytes)}) to ${this.name} without ${what} — is it looping?`,
      expected: what,
      received: `${showBytes(last.raw, 200)}   (the last of them)`,
      hint:
        this.peer === 'server'
          ? 'a server sends a frame only in answer to a line it read, or when something happens to another user (a login, a say, a quit): look for a send in a loop that does not wait for the next line.'
          : 'a client sends a frame only after hello (its login) and for each line typed on stdin: look for a send in a loop that does not wait for the next input.',
      culprit: last.seq,
    });
  }

  private settle(): void {
    for (const done of this.closeWaiters.splice(0)) done();
    for (const waiter of [...this.waiters]) waiter.resolve({ kind: 'closed' });
  }
}
