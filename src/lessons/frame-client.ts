import net from 'node:net';
import tls from 'node:tls';
import { FrameDecoder, type RawFrame } from '../protocol/index.ts';
import { LESSON_HOST } from './processes.ts';
import { within } from './within.ts';

/** Options of {@link FrameClient.connect}. */
export interface FrameClientOptions {
  /** Connect with TLS, trusting only this certificate (a TLS lesson's demo certificate). */
  ca?: Buffer;
  /** Bound on each wait, in ms (default 5000). */
  timeoutMs?: number;
}

/**
 * A bare chatlab/1 connection for the bonus lessons' feature tests: it sends frames as given and
 * keeps every frame it receives, in order, so a test can say "bob's next frame is this one". Over
 * plain TCP, or over TLS trusting one certificate. Every wait is bounded and fails with what
 * arrived instead.
 */
export class FrameClient {
  /** Every frame received, in order. */
  readonly frames: RawFrame[] = [];
  /** Resolves once the connection is closed (by either side). */
  readonly closed: Promise<void>;
  private cursor = 0;
  private readonly decoder = new FrameDecoder();
  private readonly waiters = new Set<() => void>();
  private isClosed = false;

  private constructor(
    readonly name: string,
    readonly socket: net.Socket,
    private readonly timeoutMs: number,
  ) {
    socket.on('data', (bytes: Buffer) => {
      for (const result of this.decoder.push(bytes)) if (result.ok) this.frames.push(result.frame);
      this.wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        this.wake();
        resolve();
      }),
    );
  }

  /** Connects to a lesson server on 127.0.0.1 and waits until the connection (and TLS handshake) is up. */
  static async connect(name: string, port: number, options: FrameClientOptions = {}): Promise<FrameClient> {
    const socket = options.ca ? tls.connect({ host: LESSON_HOST, port, ca: options.ca }) : net.connect(port, LESSON_HOST);
    const client = new FrameClient(name, socket, options.timeoutMs ?? 5_000);
    await client.bounded(
      new Promise<void>((resolve, reject) => {
        socket.once(options.ca ? 'secureConnect' : 'connect', () => resolve());
        socket.once('error', reject);
      }),
      `${name} could not connect to ${LESSON_HOST}:${port}`,
    );
    return client;
  }

  /** Connects, waits for `hello`, logs in and waits for `welcome` (which it returns). */
  static async login(user: string, password: string, port: number, options: FrameClientOptions = {}): Promise<FrameClient> {
    const client = await FrameClient.connect(user, port, options);
    await client.next('hello');
    client.send({ type: 'login', user, password });
    await client.next('welcome');
    return client;
  }

  /** Sends one frame (one JSON line). */
  send(frame: Record<string, unknown>): void {
    this.socket.write(`${JSON.stringify(frame)}\n`);
  }

  /**
   * The next frame not read yet, which must be of this type (and match `fields`, when given):
   * "bob's next frame is …". Fails with the frame that came instead.
   */
  async next(type: string, fields: Record<string, unknown> = {}): Promise<RawFrame> {
    const frame = await this.take(`a "${type}" frame`);
    const mismatch = frame.type !== type || Object.entries(fields).some(([key, value]) => JSON.stringify(frame[key]) !== JSON.stringify(value));
    if (mismatch) throw new Error(`${this.name} expected ${JSON.stringify({ type, ...fields })}, got ${JSON.stringify(frame)}`);
    return frame;
  }

  /** The next frame not read yet, whatever its type (when a test cannot know which will come). */
  read(): Promise<RawFrame> {
    return this.take('a frame');
  }

  /** Skips frames until one of this type arrives, and returns it. */
  async until(type: string): Promise<RawFrame> {
    for (;;) {
      const frame = await this.take(`a "${type}" frame`);
      if (frame.type === type) return frame;
    }
  }

  /** Resolves once the server closed the connection; fails if it stays open. */
  async waitClosed(): Promise<void> {
    await this.bounded(this.closed, `the server did not close ${this.name}'s connection`);
  }

  /** Closes our side (a FIN). */
  end(): void {
    this.socket.end();
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.socket.destroy();
  }

  private async take(what: string): Promise<RawFrame> {
    await this.bounded(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (this.cursor < this.frames.length || this.isClosed) {
            this.waiters.delete(check);
            resolve();
          }
        };
        this.waiters.add(check);
        check();
      }),
      `${this.name} received no ${what}`,
    );
    const frame = this.frames[this.cursor];
    if (!frame) throw new Error(`${this.name}'s connection closed before ${what} arrived`);
    this.cursor++;
    return frame;
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private bounded<T>(promise: Promise<T>, what: string): Promise<T> {
    return within(promise, this.timeoutMs, () => {
      const unread = this.frames.slice(this.cursor).map((f) => JSON.stringify(f)).join('\n    ') || '(nothing new)';
      return `${what}; unread frames:\n    ${unread}`;
    });
  }
}
