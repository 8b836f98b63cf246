/**
 * FrameSocket: a raw chatlab/1 connection for tests — the one every suite uses (server tests,
 * the lessons' feature tests over TCP or TLS, and the server side of a fake server in client tests).
 *
 * It sends whatever a test wants (any object, or raw bytes — broken frames included) and decodes
 * what comes back with the protocol's own {@link FrameDecoder}, keeping every frame until a test
 * takes it. Nothing is validated on receipt: tests assert on the frames themselves.
 *
 * ```ts
 * const alice = await FrameSocket.connect(port);
 * await alice.next('hello');
 * alice.send({ type: 'login', user: 'alice', password: 'wonderland', id: 1 });
 * const welcome = await alice.next('welcome');          // waits up to 2 s, then fails clearly
 * await expectFrame(alice, { type: 'presence', user: 'bob' }); // strictly the next frame (expect-frame.ts)
 * alice.send({ type: 'quit' });
 * await alice.next('bye');
 * alice.end();
 * await alice.closed();
 * ```
 *
 * Taking frames: `next(match)` resolves with the first not-yet-taken frame that matches (a type,
 * a list of types, or a predicate); frames that do not match stay queued for later calls.
 * `nextFrame()` takes strictly the next frame whatever it is; `expectFrame(socket, {…})` (in
 * expect-frame.ts) takes it and asserts its fields, printing what came instead. To prove that a frame did NOT come
 * (e.g. the sender gets no copy of its message), follow with a request that has an answer
 * (`ping` → `pong`) and check `nextFrame()` is that answer: the server handles a connection's
 * frames in order, so nothing else can be in between. No sleeping.
 */
import { connect, type Socket } from 'node:net';
import { connect as connectTls, TLSSocket } from 'node:tls';
import { FrameDecoder, type RawFrame } from '../src/protocol/index.ts';
import { within } from './promises.ts';

/** Which frame `next` waits for: a type, one of several types, or any test on the frame. */
export type FrameMatch = string | readonly string[] | ((frame: RawFrame) => boolean);

/** Default time a wait may take before the test fails with a clear message, in ms. */
export const DEFAULT_WAIT_MS = 2_000;

/** Options of {@link FrameSocket.connect}. */
export interface FrameSocketOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Names the socket in failure messages (e.g. "alice"). */
  label?: string;
  /** Connect over TLS, trusting only this certificate (e.g. a lesson's demo certificate). */
  ca?: Buffer;
  /** How long each wait may take by default, in ms (default {@link DEFAULT_WAIT_MS}). */
  waitMs?: number;
}

interface Waiter {
  matches: (frame: RawFrame) => boolean;
  resolve: (frame: RawFrame) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** A raw test connection to a chatlab/1 server; see the module comment. */
export class FrameSocket {
  /** Every frame received, in order (taken or not). */
  readonly received: RawFrame[] = [];
  /** Bytes received in all. */
  bytesReceived = 0;
  /** Undecodable input from the server (a server bug): reported by the next wait. */
  readonly decodeErrors: string[] = [];
  private readonly queue: RawFrame[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly decoder = new FrameDecoder();
  private readonly closePromise: Promise<{ hadError: boolean }>;
  private isClosed = false;
  private endedByPeer = false;

  private constructor(
    /** The underlying socket (for tests that need to pause reading, set options, …). */
    readonly socket: Socket,
    /** Names the socket in failure messages. */
    readonly label: string,
    /** How long a wait takes by default before it fails, in ms. */
    readonly waitMs: number,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => (this.endedByPeer = true));
    socket.on('error', () => {
      // A reset is an outcome tests may assert through closed(); it must not crash the test run.
    });
    this.closePromise = new Promise((resolve) => {
      socket.on('close', (hadError) => {
        this.isClosed = true;
        for (const waiter of this.waiters.splice(0)) {
          clearTimeout(waiter.timer);
          waiter.reject(new Error(`${this.label}: the connection closed while waiting; received: ${this.describeReceived()}`));
        }
        resolve({ hadError });
      });
    });
  }

  /**
   * Opens a connection and resolves once it is established — with `ca`, once the TLS handshake is
   * done (the `hello` is NOT consumed).
   */
  static connect(port: number, options: FrameSocketOptions = {}): Promise<FrameSocket> {
    const { host = '127.0.0.1', label = `socket→${port}`, ca, waitMs = DEFAULT_WAIT_MS } = options;
    return new Promise((resolve, reject) => {
      const socket = ca ? connectTls({ port, host, ca }) : connect({ port, host });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`${label}: could not connect to ${host}:${port} within ${waitMs} ms`));
      }, waitMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once(ca ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new FrameSocket(socket, label, waitMs));
      });
    });
  }

  /**
   * Wraps a socket that is already connected — e.g. one a test's fake server accepted, to read
   * what a client sends and answer it.
   */
  static wrap(socket: Socket, label: string, waitMs = DEFAULT_WAIT_MS): FrameSocket {
    return new FrameSocket(socket, label, waitMs);
  }

  /** Sends one object as a frame (JSON + `\n`), without validating it: tests may send anything. */
  send(frame: object): void {
    this.socket.write(`${JSON.stringify(frame)}\n`);
  }

  /** Sends raw bytes exactly as given (half frames, garbage, several frames at once, …). */
  sendRaw(bytes: string | Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (error) => (error ? reject(error) : resolve())));
  }

  /**
   * Resolves with the first not-yet-taken frame that matches (any frame if no match is given).
   * Rejects after `timeoutMs` with a message listing what did arrive, or if the connection closes.
   */
  next(match?: FrameMatch, timeoutMs = this.waitMs): Promise<RawFrame> {
    const matches = toPredicate(match);
    const index = this.queue.findIndex(matches);
    if (index !== -1) return Promise.resolve(this.queue.splice(index, 1)[0] as RawFrame);
    if (this.decodeErrors.length > 0) return Promise.reject(new Error(`${this.label}: undecodable input from the server: ${this.decodeErrors.join('; ')}`));
    if (this.isClosed) return Promise.reject(new Error(`${this.label}: the connection is closed; waited for ${describe(match)}; received: ${this.describeReceived()}`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        matches,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(new Error(`${this.label}: no ${describe(match)} frame within ${timeoutMs} ms; received: ${this.describeReceived()}`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Takes strictly the next frame, whatever its type. */
  nextFrame(timeoutMs = this.waitMs): Promise<RawFrame> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift() as RawFrame);
    return this.next(undefined, timeoutMs);
  }

  /** Frames received but not taken yet (a copy). */
  pending(): RawFrame[] {
    return [...this.queue];
  }

  /**
   * Sends `ping` and waits for its `pong`: a barrier proving the server has handled (and answered)
   * everything sent before it. Returns the frames that were still untaken at that point.
   */
  async sync(timeoutMs = this.waitMs): Promise<RawFrame[]> {
    const id = `sync-${Math.random().toString(36).slice(2)}`;
    this.send({ type: 'ping', id });
    await this.next((frame) => frame.type === 'pong' && frame.id === id, timeoutMs);
    return this.pending();
  }

  /** Resolves when the socket is fully closed (by either side); rejects after `timeoutMs`. */
  closed(timeoutMs = this.waitMs): Promise<{ hadError: boolean }> {
    return within(this.closePromise, timeoutMs, () => `${this.label} still open; received: ${this.describeReceived()}`);
  }

  /** Whether the socket is closed. */
  get isOpen(): boolean {
    return !this.isClosed;
  }

  /** Bytes of a frame whose newline never came (non-zero after the close: the server cut a frame short). */
  get unterminatedBytes(): number {
    return this.decoder.bufferedBytes;
  }

  /** Whether the server has ended its side (sent FIN). */
  get serverEnded(): boolean {
    return this.endedByPeer;
  }

  /** Closes our side politely (FIN). */
  end(): void {
    this.socket.end();
  }

  /** Drops the connection abruptly (RST, or at once over TLS, which cannot reset), as a crashed client would. */
  destroy(): void {
    if (this.socket instanceof TLSSocket) this.socket.destroy();
    else this.socket.resetAndDestroy();
  }

  private onData(chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    for (const result of this.decoder.push(chunk)) {
      if (!result.ok) {
        this.decodeErrors.push(`${result.code}: ${result.message}`);
        continue;
      }
      this.received.push(result.frame);
      const waiter = this.waiters.find((w) => w.matches(result.frame));
      if (waiter) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        clearTimeout(waiter.timer);
        waiter.resolve(result.frame);
      } else {
        this.queue.push(result.frame);
      }
    }
  }

  /** The last frames received, for failure messages. */
  describeReceived(): string {
    const shown = this.received.slice(-8).map((frame) => JSON.stringify(frame).slice(0, 160));
    const skipped = this.received.length - shown.length;
    return shown.length === 0 ? '(nothing)' : `${skipped > 0 ? `…${skipped} earlier, ` : ''}${shown.join(' ')}`;
  }
}

function toPredicate(match: FrameMatch | undefined): (frame: RawFrame) => boolean {
  if (match === undefined) return () => true;
  if (typeof match === 'function') return match;
  if (typeof match === 'string') return (frame) => frame.type === match;
  return (frame) => match.includes(frame.type);
}

function describe(match: FrameMatch | undefined): string {
  if (match === undefined) return 'further';
  if (typeof match === 'function') return 'matching';
  return typeof match === 'string' ? `"${match}"` : match.map((type) => `"${type}"`).join('/');
}
