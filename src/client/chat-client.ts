import { EventEmitter } from 'node:events';
import { connect as openSocket, type Socket } from 'node:net';
import {
  DEFAULT_PORT,
  FrameDecoder,
  encodeFrame,
  validateServerFrame,
  type ByeFrame,
  type ClientFrame,
  type DecodeResult,
  type HelloFrame,
  type MessageFrame,
  type PresenceFrame,
  type ServerFrame,
  type WelcomeFrame,
} from '../protocol/index.ts';
import { ClientError, ProtocolError, connectError } from './errors.ts';
import { FrameWriter } from './frame-writer.ts';

/** Options of {@link ChatClient.connect}. */
export interface ChatClientOptions {
  /** Server host. Default 127.0.0.1. */
  host?: string;
  /** Server port. Default 7070. */
  port?: number;
  /** Most ms to open the connection and receive `hello`. Default 5,000. */
  connectTimeoutMs?: number;
  /** Most ms to wait for the answer to a request (and for `bye` after `quit`). Default 10,000. */
  requestTimeoutMs?: number;
  /** Most bytes queued for sending while the socket is congested. Default 1 MiB. */
  maxQueuedBytes?: number;
}

/** The events of a {@link ChatClient}, with their arguments. */
export interface ChatClientEvents {
  /** Every valid server frame after `hello`, before the more specific events. Unknown frame types are skipped. */
  frame: [frame: ServerFrame];
  /** Someone's message (step 7). */
  message: [frame: MessageFrame];
  /** Someone came online or went offline (steps 5 and 9). */
  presence: [frame: PresenceFrame];
  /**
   * An `error` frame that answers none of this client's requests (rate limit, idle timeout, …), or
   * a bad frame from the server. Emitted only when someone listens, so it never crashes the process.
   */
  error: [error: ProtocolError | ClientError];
  /** The server said `bye` (after `quit`, or because it shuts down); the client then closes. */
  bye: [frame: ByeFrame];
  /** The connection is closed: `null` when that was expected (quit, bye, destroy), else why. */
  close: [error: ClientError | null];
}

/** Where a client is in its life. */
export type ClientState = 'connecting' | 'open' | 'closing' | 'closed';

interface PendingRequest {
  type: ClientFrame['type'];
  /** Whether an answer without an id (from a server that does not echo ids) may be this one's. */
  acceptsWithoutId: (frame: ServerFrame) => boolean;
  resolve: (frame: ServerFrame) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** Request payloads, without the id the client adds. */
type Request = ClientFrame extends infer F ? (F extends ClientFrame ? Omit<F, 'id'> : never) : never;

const LOGIN_ERRORS = new Set(['auth_failed', 'already_online', 'already_logged_in']);
const isError = (frame: ServerFrame, codes?: Set<string>) => frame.type === 'error' && (!codes || codes.has(frame.code));

/**
 * A chatlab/1 client over TCP: connect, log in, chat. Requests get an automatic id and their
 * promise settles on the server's answer carrying that id (a `ProtocolError` for an `error`), or
 * rejects with a `ClientError` on timeout or when the connection closes. No UI here: the line
 * mode and the TUI are built on the events.
 *
 * ```ts
 * const client = await ChatClient.connect({ port: 7070 });
 * client.on('message', (m) => console.log(`${m.from}: ${m.text}`));
 * await client.login('alice', 'wonderland');
 * await client.say('hello 👋');
 * await client.quit();
 * ```
 */
export class ChatClient extends EventEmitter<ChatClientEvents> {
  /** The host connected to. */
  readonly host: string;
  /** The port connected to. */
  readonly port: number;
  /** The user logged in on this connection, once `login` succeeded. */
  user: string | undefined;

  private readonly socket: Socket;
  private readonly decoder = new FrameDecoder();
  private readonly writer: FrameWriter;
  private readonly pending = new Map<number, PendingRequest>();
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly opening: Promise<ChatClient>;
  private readonly closed: Promise<void>;
  private settleOpening!: { resolve: (client: ChatClient) => void; reject: (error: Error) => void; timer: NodeJS.Timeout };
  private resolveClosed!: () => void;
  private currentState: ClientState = 'connecting';
  private helloFrame: HelloFrame | undefined;
  private nextId = 1;
  private quitId: number | undefined;
  /** Why the connection is expected to close; undefined while a close would be a surprise. */
  private leaving: 'quit' | 'bye' | 'destroy' | undefined;
  private tcpConnected = false;
  private socketError: Error | undefined;
  private lastServerError: ProtocolError | undefined;

  /**
   * Connects and waits for the server's `hello`.
   * @throws ClientError `connection_refused`, `connect_failed`, `connect_timeout`, `connection_closed`
   *   or `bad_server_frame`; ProtocolError if the server greets with an `error` (e.g. too many connections).
   */
  static connect(options: ChatClientOptions = {}): Promise<ChatClient> {
    try {
      return new ChatClient(options).opening;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return Promise.reject(new ClientError('connect_failed', `cannot connect: ${message}`, { cause: error }));
    }
  }

  private constructor(options: ChatClientOptions) {
    super();
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? DEFAULT_PORT;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.opening = new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.failOpening(this.connectTimeout()), this.connectTimeoutMs);
      this.settleOpening = { resolve, reject, timer };
    });
    this.socket = openSocket({ host: this.host, port: this.port });
    this.socket.setNoDelay(true);
    this.writer = new FrameWriter(this.socket, options.maxQueuedBytes ?? 1024 * 1024);
    this.socket.on('connect', () => (this.tcpConnected = true));
    this.socket.on('data', (chunk: Buffer) => this.receive(this.decoder.push(chunk)));
    this.socket.on('end', () => this.receive(this.decoder.end()));
    this.socket.on('error', (error) => (this.socketError ??= error));
    this.socket.on('close', () => this.finish());
  }

  /** Where the client is in its life. */
  get state(): ClientState {
    return this.currentState;
  }

  /** The server's greeting. */
  get hello(): HelloFrame {
    return this.helloFrame as HelloFrame;
  }

  /** Bytes waiting to be sent because the socket is congested. */
  get queuedBytes(): number {
    return this.writer.pendingBytes;
  }

  // ------------------------------------------------------------ requests

  /** Step 4: logs in. Resolves with the `welcome` (who is online); rejects with ProtocolError `auth_failed`, … */
  async login(user: string, password: string): Promise<WelcomeFrame> {
    const welcome = (await this.request({ type: 'login', user, password }, (f) => f.type === 'welcome' || isError(f, LOGIN_ERRORS))) as WelcomeFrame;
    this.user = welcome.user;
    return welcome;
  }

  /** Creates an account (does not log in); rejects with ProtocolError `user_exists`, `bad_request`, … */
  async register(user: string, password: string): Promise<void> {
    await this.request({ type: 'register', user, password }, (f) => f.type === 'ok' || isError(f, new Set(['user_exists'])));
  }

  /** Step 6: sends a message (private with `to`, to a room with `room`); resolves once the server acknowledged it. */
  async say(text: string, options: { to?: string; room?: string } = {}): Promise<void> {
    const frame = { type: 'say' as const, text, ...(options.to !== undefined && { to: options.to }), ...(options.room !== undefined && { room: options.room }) };
    await this.request(frame, (f) => f.type === 'ok');
  }

  /** Who is online (in `room`, if given), sorted as the server sends it. */
  async who(room?: string): Promise<string[]> {
    const users = await this.request({ type: 'who', ...(room !== undefined && { room }) }, (f) => f.type === 'users');
    return (users as { users: string[] }).users;
  }

  /** Round trip to the server and back, in milliseconds. */
  async ping(): Promise<number> {
    const start = performance.now();
    await this.request({ type: 'ping' }, (f) => f.type === 'pong');
    return performance.now() - start;
  }

  /**
   * Steps 8–10: sends `quit`, waits for `bye`, closes the socket; resolves once it is closed.
   * Never connected or already closed: resolves at once. If the server refuses the `quit` (not
   * logged in), the client just closes.
   * @throws ClientError `request_timeout` when no `bye` came in time (the connection is dropped).
   */
  async quit(): Promise<void> {
    if (this.currentState === 'closed') return;
    if (this.currentState === 'open') {
      this.leaving ??= 'quit';
      this.currentState = 'closing';
      this.quitId = this.nextId++;
      try {
        this.writer.write(encodeFrame({ type: 'quit', id: this.quitId }));
      } catch {
        this.socket.destroy();
      }
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.socket.destroy();
    }, this.requestTimeoutMs);
    await this.closed;
    clearTimeout(timer);
    if (timedOut) throw new ClientError('request_timeout', `no bye from ${this.where} within ${this.requestTimeoutMs} ms; connection dropped`);
  }

  /** Drops the connection at once, without `quit` (the server announces this user offline). */
  destroy(): void {
    if (this.currentState === 'closed') return;
    this.leaving ??= 'destroy';
    this.currentState = 'closing';
    this.socket.destroy();
  }

  private request(frame: Request, acceptsWithoutId: PendingRequest['acceptsWithoutId']): Promise<ServerFrame> {
    if (this.currentState !== 'open') {
      return Promise.reject(new ClientError('not_connected', `cannot send "${frame.type}": the connection to ${this.where} is ${this.currentState}`));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      try {
        this.writer.write(encodeFrame({ ...frame, id }));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        reject(error instanceof ClientError ? error : new ClientError('frame_too_large', `cannot send "${frame.type}": ${message}`, { cause: error }));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ClientError('request_timeout', `no answer to "${frame.type}" from ${this.where} within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      this.pending.set(id, { type: frame.type, acceptsWithoutId, resolve, reject, timer });
    });
  }

  // ------------------------------------------------------------ input

  private receive(results: DecodeResult[]): void {
    for (const result of results) {
      if (this.currentState === 'closed') return;
      if (!result.ok) {
        this.problem(new ClientError('bad_server_frame', `the server sent a bad frame: ${result.message}`));
        continue;
      }
      const checked = validateServerFrame(result.frame);
      if (!checked.ok) {
        // Unknown types are a newer server's extensions: skipping them is forward compatibility.
        if (checked.code === 'unknown_type') continue;
        this.problem(new ClientError('bad_server_frame', `the server sent an invalid frame: ${checked.message}`));
        continue;
      }
      this.dispatch(checked.frame);
    }
  }

  private dispatch(frame: ServerFrame): void {
    if (this.currentState === 'connecting') {
      if (frame.type === 'hello') return this.opened(frame);
      if (frame.type === 'error') return this.failOpening(new ProtocolError(frame.code, frame.message));
      return this.failOpening(new ClientError('bad_server_frame', `${this.where} sent "${frame.type}" before hello: is it a chatlab/1 server?`));
    }
    this.emit('frame', frame);
    switch (frame.type) {
      case 'message':
        this.emit('message', frame);
        return;
      case 'presence':
        this.emit('presence', frame);
        return;
      case 'bye':
        this.leaving ??= 'bye';
        this.currentState = 'closing';
        this.emit('bye', frame);
        // Step 10 is the client's: it closes its side, then the server closes.
        this.socket.end();
        return;
      case 'welcome':
      case 'ok':
      case 'users':
      case 'pong':
      case 'error':
        return this.answer(frame);
      case 'hello':
        return;
    }
  }

  /** Settles the request a frame answers: by id, or (no id) the oldest request that expects it. */
  private answer(frame: Exclude<ServerFrame, { type: 'hello' | 'message' | 'presence' | 'bye' }>): void {
    const id = frame.id;
    if (frame.type === 'error' && id !== undefined && id === this.quitId) {
      this.socket.end();
      return;
    }
    let key: number | undefined;
    if (typeof id === 'number' && this.pending.has(id)) key = id;
    if (id === undefined) {
      for (const [candidate, request] of this.pending) {
        if (request.acceptsWithoutId(frame)) {
          key = candidate;
          break;
        }
      }
    }
    const request = key === undefined ? undefined : this.pending.get(key);
    if (key === undefined || !request) {
      if (frame.type === 'error') {
        this.lastServerError = new ProtocolError(frame.code, frame.message, id);
        this.problem(this.lastServerError);
      }
      return;
    }
    this.pending.delete(key);
    clearTimeout(request.timer);
    if (frame.type === 'error') request.reject(new ProtocolError(frame.code, frame.message, frame.id));
    else request.resolve(frame);
  }

  private problem(error: ProtocolError | ClientError): void {
    if (this.currentState === 'connecting') return this.failOpening(error);
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  // ------------------------------------------------------------ life cycle

  private get where(): string {
    return `${this.host}:${this.port}`;
  }

  private opened(hello: HelloFrame): void {
    clearTimeout(this.settleOpening.timer);
    this.helloFrame = hello;
    this.currentState = 'open';
    this.settleOpening.resolve(this);
  }

  private failOpening(error: Error): void {
    if (this.currentState !== 'connecting') return;
    clearTimeout(this.settleOpening.timer);
    this.currentState = 'closing';
    this.settleOpening.reject(error);
    this.socket.destroy();
  }

  private connectTimeout(): ClientError {
    return this.tcpConnected
      ? new ClientError('connect_timeout', `connected to ${this.where} but got no hello within ${this.connectTimeoutMs} ms: is it a chatlab/1 server?`)
      : new ClientError('connect_timeout', `no answer from ${this.where} within ${this.connectTimeoutMs} ms`);
  }

  /** The socket closed: reject what is still pending, say why, once. */
  private finish(): void {
    if (this.currentState === 'connecting') {
      const error = this.socketError as NodeJS.ErrnoException | undefined;
      if (!this.tcpConnected && error) this.failOpening(connectError(error, this.host, this.port));
      else this.failOpening(new ClientError('connection_closed', `${this.where} closed the connection before saying hello${error ? ` (${error.message})` : ''}`));
    }
    const wasOpen = this.helloFrame !== undefined;
    this.currentState = 'closed';
    const reason = this.closeReason();
    for (const request of this.pending.values()) {
      clearTimeout(request.timer);
      request.reject(reason ?? new ClientError('connection_closed', `the connection closed before the answer to "${request.type}"`));
    }
    this.pending.clear();
    this.resolveClosed();
    if (wasOpen) this.emit('close', reason);
  }

  /** Why the connection closed when nobody expected it; `null` for an expected close. */
  private closeReason(): ClientError | null {
    if (this.leaving) return null;
    if (this.socketError) return new ClientError('connection_closed', `the connection to ${this.where} was lost: ${this.socketError.message}`, { cause: this.socketError });
    if (this.lastServerError) {
      return new ClientError('connection_closed', `the server closed the connection after ${this.lastServerError.code}: ${this.lastServerError.message}`);
    }
    return new ClientError('connection_closed', `the server at ${this.where} closed the connection unexpectedly`);
  }
}
