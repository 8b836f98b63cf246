import { EventEmitter } from 'node:events';
import { DEFAULT_PORT, LOBBY, type ByeFrame, type Feature, type HistoryEndFrame, type MessageFrame, type PresenceFrame, type RoomCount, type WelcomeFrame } from '../protocol/index.ts';
import { DEFAULT_BACKOFF, backoffDelay, type BackoffPolicy } from './backoff.ts';
import { ChatClient, type ChatClientOptions, type FileClientFrame, type FileServerFrame, type HistoryPage, type HistoryQuery, type SayResult } from './chat-client.ts';
import { ClientError, ProtocolError } from './errors.ts';

/** Options of {@link ChatSession}. */
export interface ChatSessionOptions {
  /** Server host. Default 127.0.0.1. */
  host?: string;
  /** Server port. Default 7070. */
  port?: number;
  user: string;
  password: string;
  /** Create the account before the first login. */
  register?: boolean;
  /** Connect (TCP) timeout in ms, per attempt. */
  connectTimeoutMs?: number;
  /** Wait for the server's `hello` after connecting, in ms (see {@link ChatClientOptions.helloTimeoutMs}). */
  helloTimeoutMs?: number;
  /** Speak TLS (see {@link ChatClientOptions.tls}). */
  tls?: ChatClientOptions['tls'];
  /** Request timeout in ms. */
  requestTimeoutMs?: number;
  /** Reconnect when the connection is lost. Default true. */
  reconnect?: boolean;
  /**
   * Also reconnect after the server said `bye` because it shuts down (it may be restarting).
   * Default false: a `bye` ends the session, as the client contract says.
   */
  reconnectAfterShutdown?: boolean;
  /** Spacing of the attempts (overrides of {@link DEFAULT_BACKOFF}). */
  backoff?: Partial<BackoffPolicy>;
  /** Give up after this many failed attempts in a row. Default: never. */
  maxAttempts?: number;
  /** Source of randomness for the jitter (tests pin it). Default Math.random. */
  random?: () => number;
}

/** Where a session is in its life. */
export type SessionState = 'new' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** A reconnect attempt is about to wait `delayMs`. */
export interface ReconnectInfo {
  /** 1 for the first retry after a loss. */
  attempt: number;
  delayMs: number;
  /** Why the previous attempt (or the connection) failed. */
  error: Error | null;
}

/** The events of a {@link ChatSession}. */
export interface ChatSessionEvents {
  /** Logged in: at start, and again after every reconnect (emitted before the history replay). */
  welcome: [frame: WelcomeFrame, info: { reconnected: boolean }];
  /** A message (live, or replayed with `history: true`); never one already shown before a reconnect. */
  message: [frame: MessageFrame];
  presence: [frame: PresenceFrame];
  /** A room was joined (by {@link ChatSession.join}, or again after a reconnect), before its history replay. */
  joined: [room: string, users: string[]];
  history_end: [frame: HistoryEndFrame];
  /** A file-transfer frame from the server. */
  file: [frame: FileServerFrame];
  /** An error nobody asked for (rate limit, …); emitted only when someone listens. */
  error: [error: ProtocolError | ClientError];
  /** The server said `bye` on its own (shutdown). */
  bye: [frame: ByeFrame];
  /**
   * An established connection ended (lost, bye, or quit): every transfer on it is over. `error`
   * is null for an expected close. `reconnect` or `close` follows.
   */
  connection_closed: [error: ClientError | null];
  /** The next reconnect attempt starts after `delayMs`. */
  reconnecting: [info: ReconnectInfo];
  /**
   * Reconnected and ready: logged in again, the rooms the session was in joined again (`rooms`;
   * those that failed are dropped), the replays received. Requests work again from here.
   */
  reconnected: [rooms: string[]];
  /** The session is over: null after quit or bye, else why it gave up. */
  close: [error: Error | null];
}

const RETRYABLE_LOGIN_ERRORS = new Set(['already_online', 'already_logged_in', 'rate_limited', 'too_many_connections', 'shutting_down', 'internal']);

/**
 * A chat session that survives connection losses: it connects and logs in (registering first if
 * asked), and when the connection drops it reconnects with exponential backoff and jitter, logs in
 * again with `since` = the highest msgid it saw (so the server replays only what was missed), and
 * joins its rooms again, dropping replayed messages it had already shown. Both UIs (line mode and
 * the TUI) are built on it; it has no UI itself.
 *
 * ```ts
 * const session = new ChatSession({ port: 7070, user: 'alice', password: 'wonderland' });
 * session.on('message', (m) => console.log(`${m.from}: ${m.text}`));
 * session.on('reconnecting', ({ delayMs }) => console.log(`reconnecting in ${delayMs} ms`));
 * await session.start();
 * await session.say('hello');
 * ```
 */
export class ChatSession extends EventEmitter<ChatSessionEvents> {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Resolves when the session is over (quit, bye, or gave up). */
  readonly closed: Promise<Error | null>;

  private readonly options: ChatSessionOptions;
  private readonly policy: BackoffPolicy;
  private readonly joined = new Set<string>([LOBBY]);
  private current: ChatClient | undefined;
  private currentState: SessionState = 'new';
  private quitting = false;
  private lastBye: ByeFrame | undefined;
  private savedMsgid = 0;
  /** While joining rooms again after a reconnect: replayed messages up to this msgid were shown already. */
  private replayMark: number | undefined;
  private wake: (() => void) | undefined;
  private step: 'connect' | 'register' | 'login' = 'connect';
  /** Settles when the rejoin after a reconnect's login is over (whatever its outcome). */
  private rejoining: Promise<void> | undefined;
  private resolveClosed!: (error: Error | null) => void;

  constructor(options: ChatSessionOptions) {
    super();
    this.options = options;
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? DEFAULT_PORT;
    this.user = options.user;
    this.policy = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  /**
   * The first connection: connect, (register,) log in. Listeners attached before this see the
   * welcome and the history replay. Failing here is final (no retry): wrong password, nobody listening, …
   */
  async start(): Promise<WelcomeFrame> {
    if (this.currentState !== 'new') throw new Error(`the session has already started (${this.currentState})`);
    this.currentState = 'connecting';
    try {
      const welcome = await this.open(true);
      this.currentState = 'connected';
      return welcome;
    } catch (error) {
      this.currentState = 'closed';
      this.resolveClosed(error as Error);
      throw error;
    }
  }

  /** What the last connection attempt was doing (for a start failure: which step failed). */
  get lastStep(): 'connect' | 'register' | 'login' {
    return this.step;
  }

  /** Where the session is in its life. */
  get state(): SessionState {
    return this.currentState;
  }

  /** The live connection, when connected. */
  get client(): ChatClient | undefined {
    return this.currentState === 'connected' ? this.current : undefined;
  }

  /**
   * Whether the server advertised `feature` in its `hello` (false while not connected). Requests
   * that need a missing extension fail with ClientError `unsupported` before anything is sent.
   */
  supports(feature: Feature): boolean {
    return this.current?.supports(feature) ?? false;
  }

  /** The rooms the session is in (lobby first), kept across reconnects. */
  get rooms(): string[] {
    return [...this.joined];
  }

  /** The highest msgid seen during the whole session (what a reconnect asks to resume after). */
  get lastMsgid(): number {
    return Math.max(this.savedMsgid, this.current?.lastMsgid ?? 0);
  }

  // ------------------------------------------------------------ requests (delegated)

  /** Sends to lobby, a room (`room`) or a user (`to`). @see ChatClient.say */
  say(text: string, options: { to?: string; room?: string } = {}): Promise<SayResult> {
    return this.live((client) => client.say(text, options));
  }

  /** A private message. @see ChatClient.privateSay */
  privateSay(user: string, text: string): Promise<SayResult> {
    return this.say(text, { to: user });
  }

  /** Joins a room (and rejoins it after every reconnect). @see ChatClient.join */
  async join(room: string): Promise<string[]> {
    const users = await this.live((client) => client.join(room));
    this.joined.add(room);
    return users;
  }

  /** Leaves a room. @see ChatClient.leave */
  async leave(room: string): Promise<void> {
    await this.live((client) => client.leave(room));
    this.joined.delete(room);
  }

  /** The rooms that exist, with their user counts. @see ChatClient.listRooms */
  listRooms(): Promise<RoomCount[]> {
    return this.live((client) => client.listRooms());
  }

  /** Who is online, or in `room`. @see ChatClient.who */
  who(room?: string): Promise<string[]> {
    return this.live((client) => client.who(room));
  }

  /** One page of older messages. @see ChatClient.history */
  history(query: HistoryQuery = {}): Promise<HistoryPage> {
    return this.live((client) => client.history(query));
  }

  /** Round trip in ms. @see ChatClient.ping */
  ping(): Promise<number> {
    return this.live((client) => client.ping());
  }

  /** Offers a file; resolves with the transfer id (and the recipients). @see ChatClient.offerFile */
  offerFile(offer: { to?: string; room?: string; name: string; size: number; sha256: string }): Promise<{ transfer: string; users?: string[] }> {
    return this.live((client) => client.offerFile(offer));
  }

  /** Sends a file-transfer frame. @throws ClientError `not_connected` while reconnecting. @see ChatClient.sendFileFrame */
  sendFileFrame(frame: FileClientFrame): void {
    const client = this.current;
    if (this.currentState !== 'connected' || !client) throw this.notConnected(frame.type);
    client.sendFileFrame(frame);
  }

  /**
   * Leaves for good: `quit` and wait for `bye` when connected; stops reconnecting otherwise.
   * Resolves once the session is closed.
   * @throws ClientError `request_timeout` when no `bye` came in time (the session is closed anyway).
   */
  async quit(): Promise<void> {
    if (this.currentState === 'closed') return;
    this.quitting = true;
    this.wake?.();
    const client = this.current;
    let failure: unknown;
    if (client && client.state === 'open') {
      try {
        await client.quit();
      } catch (error) {
        // No bye in time: the connection was dropped; the session closes all the same.
        failure = error;
      }
    } else if (this.currentState === 'new') {
      this.finish(null);
    }
    await this.closed;
    if (failure) throw failure;
  }

  /** Drops the connection and stops, without `quit`. */
  destroy(): void {
    this.quitting = true;
    this.wake?.();
    this.current?.destroy();
    if (!this.current || this.current.state === 'closed') this.finish(null);
  }

  // ------------------------------------------------------------ connection life

  private live<T>(action: (client: ChatClient) => Promise<T>): Promise<T> {
    // Logged in again but still rejoining rooms: the request waits the moment it takes.
    if (this.currentState === 'reconnecting' && this.rejoining) {
      return this.rejoining.then(() => this.live(action));
    }
    const client = this.current;
    if (this.currentState !== 'connected' || !client) return Promise.reject(this.notConnected());
    return action(client);
  }

  private notConnected(what?: string): ClientError {
    const doing = what ? `cannot send "${what}": ` : '';
    return this.currentState === 'reconnecting'
      ? new ClientError('not_connected', `${doing}disconnected from ${this.host}:${this.port}; reconnecting`)
      : new ClientError('not_connected', `${doing}the session is ${this.currentState}`);
  }

  /** One connection: connect, listen, (register,) log in. The client is kept only if the login succeeds. */
  private async open(first: boolean): Promise<WelcomeFrame> {
    const { user, password } = this.options;
    this.step = 'connect';
    const client = await ChatClient.connect({
      host: this.host,
      port: this.port,
      connectTimeoutMs: this.options.connectTimeoutMs,
      helloTimeoutMs: this.options.helloTimeoutMs,
      tls: this.options.tls,
      requestTimeoutMs: this.options.requestTimeoutMs,
    });
    if (this.quitting) {
      client.destroy();
      throw new ClientError('not_connected', 'the session was closed');
    }
    this.attach(client, !first);
    try {
      if (first && this.options.register) {
        this.step = 'register';
        await client.register(user, password);
      }
      this.step = 'login';
      const since = first ? undefined : this.lastMsgid;
      return await client.login(user, password, { since });
    } catch (error) {
      this.current = undefined;
      client.destroy();
      throw error;
    }
  }

  private attach(client: ChatClient, reconnected: boolean): void {
    this.current = client;
    client.on('welcome', (welcome) => this.emit('welcome', welcome, { reconnected }));
    client.on('message', (message) => {
      const mark = this.replayMark;
      if (message.history && mark !== undefined && message.msgid !== undefined && message.msgid <= mark) return;
      this.emit('message', message);
    });
    client.on('presence', (presence) => this.emit('presence', presence));
    client.on('joined', (room, users) => this.emit('joined', room, users));
    client.on('history_end', (end) => this.emit('history_end', end));
    client.on('file', (frame) => this.emit('file', frame));
    client.on('error', (error) => {
      if (this.listenerCount('error') > 0) this.emit('error', error);
    });
    client.on('bye', (bye) => {
      this.lastBye = bye;
      if (!this.quitting) this.emit('bye', bye);
    });
    client.on('close', (error) => this.lost(client, error));
  }

  /** A connection closed: end the session, or reconnect. */
  private lost(client: ChatClient, error: ClientError | null): void {
    if (client !== this.current) return;
    this.savedMsgid = Math.max(this.savedMsgid, client.lastMsgid);
    if (client.user !== undefined) this.emit('connection_closed', error);
    if (this.currentState === 'closed') return;
    if (this.quitting) return this.finish(null);
    if (this.currentState !== 'connected') return; // an attempt that failed mid-login: the loop handles it
    const bye = this.lastBye;
    this.lastBye = undefined;
    const shutdown = bye?.reason === 'server_shutdown' || bye?.reason === 'shutdown';
    if (bye && !(shutdown && this.options.reconnectAfterShutdown)) return this.finish(null);
    if (this.options.reconnect === false) return this.finish(error);
    void this.reconnect(error ?? new ClientError('connection_closed', `the server at ${this.host}:${this.port} ${bye ? 'shut down' : 'closed the connection'}`));
  }

  private async reconnect(cause: Error): Promise<void> {
    this.currentState = 'reconnecting';
    const mark = this.lastMsgid;
    let lastError: Error = cause;
    const maxAttempts = this.options.maxAttempts ?? Infinity;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const delayMs = backoffDelay(attempt, this.policy, this.options.random);
      this.emit('reconnecting', { attempt, delayMs, error: lastError });
      await this.sleep(delayMs);
      if (this.quitting) return this.finish(null);
      this.replayMark = mark;
      try {
        await this.open(false);
        // Requests made from here wait until the state below is settled, then run (or fail).
        let settle!: () => void;
        this.rejoining = new Promise<void>((resolve) => (settle = resolve));
        try {
          const rooms = await this.rejoin();
          this.replayMark = undefined;
          if (this.current?.state !== 'open') throw new ClientError('connection_closed', 'the connection closed again while rejoining');
          this.currentState = 'connected';
          this.emit('reconnected', rooms);
          return;
        } finally {
          this.rejoining = undefined;
          settle();
        }
      } catch (error) {
        this.replayMark = undefined;
        lastError = error as Error;
        if (this.quitting) return this.finish(null);
        if (error instanceof ProtocolError && !RETRYABLE_LOGIN_ERRORS.has(error.code)) return this.finish(error);
        this.current?.destroy();
      }
    }
    this.finish(lastError);
  }

  /** Joins the session's rooms again, then waits (ping barrier) until every replay has arrived. */
  private async rejoin(): Promise<string[]> {
    const client = this.current as ChatClient;
    const rejoined: string[] = [];
    for (const room of [...this.joined]) {
      if (room === LOBBY) continue;
      try {
        await client.join(room);
        rejoined.push(room);
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        this.joined.delete(room);
        if (this.listenerCount('error') > 0) this.emit('error', error);
      }
    }
    // The barrier needs ping; without it (a core server has no rooms to rejoin either) there is no replay to wait for.
    if (!client.supports('ping')) return rejoined;
    try {
      await client.ping();
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
    }
    return rejoined;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    }).then(() => {
      this.wake = undefined;
    });
  }

  private finish(error: Error | null): void {
    if (this.currentState === 'closed') return;
    this.currentState = 'closed';
    this.emit('close', error);
    this.resolveClosed(error);
  }
}
