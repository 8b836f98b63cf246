import { EventEmitter } from 'node:events';
import { connect as openSocket, isIP, type Socket } from 'node:net';
import { connect as openTlsSocket } from 'node:tls';
import {
  DEFAULT_PORT,
  FrameDecoder,
  PagedListAssembler,
  encodeFrame,
  validateServerFrame,
  type ByeFrame,
  LOBBY,
  type ClientFrame,
  type DecodeResult,
  type FileAcceptFrame,
  type FileAckFrame,
  type FileCancelFrame,
  type FileChunkFrame,
  type FileDeclineFrame,
  type FileEndFrame,
  type FileResultFrame,
  type Feature,
  type HelloFrame,
  type HistoryEndFrame,
  type MessageFrame,
  type OkFrame,
  type PresenceFrame,
  type RoomCount,
  type RoomListFrame,
  type ServerFrame,
  type UsersFrame,
  type WelcomeFrame,
} from '../protocol/index.ts';
import { ClientError, ProtocolError, connectError, tlsError } from './errors.ts';
import { FrameWriter } from './frame-writer.ts';

/** Options of {@link ChatClient.connect}. */
export interface ChatClientOptions {
  /** Server host. Default 127.0.0.1. */
  host?: string;
  /** Server port. Default 7070. */
  port?: number;
  /** Most ms to open the TCP connection. Default 5,000. */
  connectTimeoutMs?: number;
  /**
   * Most ms from the TCP connection (TLS handshake included) to the server's `hello`. Default
   * {@link HELLO_TIMEOUT_MS}: a server that accepted nothing (its listen queue overflowed) or is
   * not a chatlab/1 server is reported instead of waited for.
   */
  helloTimeoutMs?: number;
  /** Speak TLS (`true`: trust the system's certificate authorities; or say which to trust). Default plain TCP. */
  tls?: boolean | ClientTlsOptions;
  /** Most ms to wait for the answer to a request (and for `bye` after `quit`). Default 10,000. */
  requestTimeoutMs?: number;
  /** Most bytes queued for sending while the socket is congested. Default 1 MiB. */
  maxQueuedBytes?: number;
}

/** Default of {@link ChatClientOptions.helloTimeoutMs}, in ms. */
export const HELLO_TIMEOUT_MS = 5_000;

/** How a TLS client checks the server. */
export interface ClientTlsOptions {
  /** The certificates (PEM) to trust instead of the system's: the server's own, or its CA's. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** The name the certificate must carry. Default: the host, when it is a name and not an address. */
  servername?: string;
}

/** The file-transfer frames a server relays to a client (offer, answers, chunks, acks, end, result, cancel). */
export type FileServerFrame = Extract<ServerFrame, { type: `file_${string}` }>;

/** The file-transfer frames a client sends without waiting for an answer (everything but the offer). */
export type FileClientFrame = FileAcceptFrame | FileDeclineFrame | FileChunkFrame | FileAckFrame | FileEndFrame | FileResultFrame | FileCancelFrame;

/** What the server answered to a `say`. */
export interface SayResult {
  /** The id the server gave the stored message (absent on a server without history). */
  msgid?: number;
  /** A private message to a user who is offline: stored, delivered at their next login. */
  queued: boolean;
  /**
   * A server of a cluster could not store the message now (its shared store is away): it reached
   * the users of that server at once, and reaches the others once it is stored (no `msgid` yet).
   */
  deferred: boolean;
}

/** Which messages {@link ChatClient.history} pages back through. */
export interface HistoryQuery {
  /** A room (default lobby). */
  room?: string;
  /** A private conversation with this user (instead of a room). */
  to?: string;
  /** Only messages older than this msgid. */
  before?: number;
  /** At most this many messages (the server caps it). */
  limit?: number;
}

/** One page of history: the messages (oldest first) and the `history_end` that closed it. */
export interface HistoryPage {
  messages: MessageFrame[];
  end: HistoryEndFrame;
}

/** Options of {@link ChatClient.login}. */
export interface LoginOptions {
  /** The highest msgid already seen: the server then replays only newer messages. */
  since?: number;
}

/** The events of a {@link ChatClient}, with their arguments. */
export interface ChatClientEvents {
  /** Every valid server frame after `hello`, before the more specific events. Unknown frame types are skipped. */
  frame: [frame: ServerFrame];
  /**
   * Someone's message (step 7): lobby, room (`room`) or private (`to`). Replayed messages (after
   * login, after join, or answering {@link ChatClient.history}) carry `history: true`.
   */
  message: [frame: MessageFrame];
  /**
   * Login succeeded (emitted as the `welcome` arrives, so before the history replay that follows
   * it; `login()` resolves a moment later).
   */
  welcome: [frame: WelcomeFrame];
  /**
   * A `join` succeeded: `users` are the room's members. Emitted as the answer arrives, so before
   * the room's history replay (`join()` resolves a moment later).
   */
  joined: [room: string, users: string[]];
  /** A history replay ended (after login, after a join, or a history page). */
  history_end: [frame: HistoryEndFrame];
  /** A file-transfer frame (see ./files/file-transfers.ts, which handles them). */
  file: [frame: FileServerFrame];
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

/** What each extension is called in the `unsupported` message ("this server does not support …"). */
export const FEATURE_NAMES: Readonly<Record<Feature, string>> = {
  register: 'creating accounts (register)',
  who: 'listing who is online (who)',
  ping: 'ping',
  private: 'private messages',
  rooms: 'rooms',
  history: 'history',
  files: 'file transfer',
};

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
  /** The rooms this connection is in: lobby from login on, plus every room joined and not left. */
  readonly rooms = new Set<string>();

  private readonly socket: Socket;
  private readonly decoder = new FrameDecoder();
  private readonly writer: FrameWriter;
  private readonly pending = new Map<number, PendingRequest>();
  private readonly connectTimeoutMs: number;
  private readonly helloTimeoutMs: number;
  private readonly usesTls: boolean;
  private readonly requestTimeoutMs: number;
  private readonly opening: Promise<ChatClient>;
  private readonly closed: Promise<void>;
  private settleOpening!: { resolve: (client: ChatClient) => void; reject: (error: Error) => void; timer: NodeJS.Timeout };
  private resolveClosed!: () => void;
  private currentState: ClientState = 'connecting';
  private helloFrame: HelloFrame | undefined;
  private nextId = 1;
  /** Puts paged `welcome`/`users` lists back together before they are reported. */
  private readonly lists = new PagedListAssembler();
  private quitId: number | undefined;
  /** Why the connection is expected to close; undefined while a close would be a surprise. */
  private leaving: 'quit' | 'bye' | 'destroy' | undefined;
  private tcpConnected = false;
  private socketError: Error | undefined;
  private lastServerError: ProtocolError | undefined;
  private highestMsgid = 0;
  private readonly historyCollectors = new Set<{ matches: (message: MessageFrame) => boolean; messages: MessageFrame[] }>();

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
    this.helloTimeoutMs = options.helloTimeoutMs ?? HELLO_TIMEOUT_MS;
    this.usesTls = options.tls !== undefined && options.tls !== false;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    // The socket first: a bad port or host throws here, and must leave no connect timer behind.
    this.socket = this.usesTls ? this.openTls(options.tls === true ? {} : (options.tls as ClientTlsOptions)) : openSocket({ host: this.host, port: this.port });
    this.opening = new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.failOpening(this.connectTimeout()), this.connectTimeoutMs);
      this.settleOpening = { resolve, reject, timer };
    });
    this.socket.setNoDelay(true);
    this.writer = new FrameWriter(this.socket, options.maxQueuedBytes ?? 1024 * 1024);
    this.socket.on('connect', () => this.tcpOpened());
    this.socket.on('data', (chunk: Buffer) => this.receive(this.decoder.push(chunk)));
    this.socket.on('end', () => this.receive(this.decoder.end()));
    this.socket.on('error', (error) => (this.socketError ??= error));
    this.socket.on('close', () => this.finish());
  }

  private openTls(options: ClientTlsOptions): Socket {
    const servername = options.servername ?? (isIP(this.host) === 0 ? this.host : undefined);
    return openTlsSocket({ host: this.host, port: this.port, ...(options.ca !== undefined && { ca: options.ca }), ...(servername !== undefined && { servername }) });
  }

  /** Whether the connection speaks TLS. */
  get tls(): boolean {
    return this.usesTls;
  }

  /** Where the client is in its life. */
  get state(): ClientState {
    return this.currentState;
  }

  /** The server's greeting. */
  get hello(): HelloFrame {
    return this.helloFrame as HelloFrame;
  }

  /**
   * Whether the server's `hello` lists `feature` in `features` (absent: core only). The requests
   * that need an extension check this first and throw ClientError `unsupported` instead of
   * sending a frame the server cannot handle (a private `say` to a core server must never go out).
   */
  supports(feature: Feature): boolean {
    return this.helloFrame?.features?.includes(feature) ?? false;
  }

  /** Bytes waiting to be sent because the socket is congested. */
  get queuedBytes(): number {
    return this.writer.pendingBytes;
  }

  /**
   * The highest message id seen on this connection (live, replayed, or given to one of our own
   * messages); 0 before any. A reconnecting client passes it as `since` to get only what it missed.
   */
  get lastMsgid(): number {
    return this.highestMsgid;
  }

  // ------------------------------------------------------------ requests

  /**
   * Step 4: logs in. Resolves with the `welcome` (who is online); rejects with ProtocolError
   * `auth_failed`, … A history replay follows as `message` events with `history: true`, then a
   * `history_end` event. With `since`, the replay holds only messages newer than that msgid.
   */
  async login(user: string, password: string, options: LoginOptions = {}): Promise<WelcomeFrame> {
    // `since` is part of the history extension: a server without it would only ignore it.
    const since = options.since !== undefined && options.since > 0 && this.supports('history') ? { since: options.since } : {};
    this.noteMsgid(options.since);
    return (await this.request({ type: 'login', user, password, ...since }, (f) => f.type === 'welcome' || isError(f, LOGIN_ERRORS))) as WelcomeFrame;
  }

  /** Creates an account (does not log in); rejects with ProtocolError `user_exists`, `bad_request`, … */
  async register(user: string, password: string): Promise<void> {
    this.require('register');
    await this.request({ type: 'register', user, password }, (f) => f.type === 'ok' || isError(f, new Set(['user_exists'])));
  }

  /**
   * Step 6: sends a message (private with `to`, to a room with `room`, else to lobby = everyone);
   * resolves once the server acknowledged it, with the msgid it got and whether it waits for an
   * offline recipient. Rejects with ProtocolError `unknown_user`, `unknown_room`, `not_in_room`,
   * `rate_limited`, …
   */
  async say(text: string, options: { to?: string; room?: string } = {}): Promise<SayResult> {
    if (options.to !== undefined) this.require('private');
    if (options.room !== undefined) this.require('rooms');
    const frame = { type: 'say' as const, text, ...(options.to !== undefined && { to: options.to }), ...(options.room !== undefined && { room: options.room }) };
    const ok = (await this.request(frame, (f) => f.type === 'ok')) as OkFrame;
    this.noteMsgid(ok.msgid);
    return { ...(ok.msgid !== undefined && { msgid: ok.msgid }), queued: ok.queued === true, deferred: ok.deferred === true };
  }

  /** A private message to `user` (stored for later if they are offline: see {@link SayResult.queued}). */
  privateSay(user: string, text: string): Promise<SayResult> {
    return this.say(text, { to: user });
  }

  /** Who is online (in `room`, if given), sorted as the server sends it. */
  async who(room?: string): Promise<string[]> {
    this.require('who');
    if (room !== undefined) this.require('rooms');
    const users = await this.request({ type: 'who', ...(room !== undefined && { room }) }, (f) => f.type === 'users' && f.room === room);
    return (users as UsersFrame).users;
  }

  /**
   * Enters `room` (the server creates it if needed). Resolves with its members, self included;
   * the room's recent messages follow as `message` events with `history: true`, then `history_end`.
   */
  async join(room: string): Promise<string[]> {
    this.require('rooms');
    const users = (await this.request({ type: 'join', room }, (f) => f.type === 'users' && f.room === room)) as UsersFrame;
    this.rooms.add(room);
    return users.users;
  }

  /** Leaves `room` (not lobby); rejects with ProtocolError `not_in_room`, `bad_request`, … */
  async leave(room: string): Promise<void> {
    this.require('rooms');
    await this.request({ type: 'leave', room }, (f) => f.type === 'ok');
    this.rooms.delete(room);
  }

  /** The rooms that exist, with how many users each holds, sorted by name. */
  async listRooms(): Promise<RoomCount[]> {
    this.require('rooms');
    const list = (await this.request({ type: 'rooms' }, (f) => f.type === 'room_list')) as RoomListFrame;
    return list.rooms;
  }

  /**
   * Pages back through a room (default lobby) or a private conversation (`to`): resolves with the
   * messages older than `before` (oldest first) once the server's `history_end` came. They are also
   * emitted as `message` events with `history: true`.
   */
  async history(query: HistoryQuery = {}): Promise<HistoryPage> {
    this.require('history');
    const { room, to, before, limit } = query;
    const me = this.user;
    const collector = {
      messages: [] as MessageFrame[],
      matches: (m: MessageFrame) =>
        (before === undefined || m.msgid === undefined || m.msgid < before) &&
        (to !== undefined ? (m.to === to && m.from === me) || (m.to === me && m.from === to) : m.to === undefined && (m.room ?? LOBBY) === (room ?? LOBBY)),
    };
    this.historyCollectors.add(collector);
    try {
      const frame = {
        type: 'history' as const,
        ...(room !== undefined && { room }),
        ...(to !== undefined && { to }),
        ...(before !== undefined && { before }),
        ...(limit !== undefined && { limit }),
      };
      const end = (await this.request(frame, (f) => f.type === 'history_end' && f.room === room && f.to === to)) as HistoryEndFrame;
      return { messages: collector.messages, end };
    } finally {
      this.historyCollectors.delete(collector);
    }
  }

  /**
   * Offers a file to `to` (a user) or to the other members of `room`. Resolves with the transfer id
   * the server gave it and the recipients (when the server lists them); rejects with ProtocolError
   * `file_too_large`, `unknown_user`, … The answers and the rest of the transfer travel as `file`
   * events and {@link sendFileFrame}.
   */
  async offerFile(offer: { to?: string; room?: string; name: string; size: number; sha256: string }): Promise<{ transfer: string; users?: string[] }> {
    this.require('files');
    const frame = { type: 'file_offer' as const, ...offer };
    const ok = (await this.request(frame, (f) => f.type === 'ok')) as OkFrame;
    if (typeof ok.transfer !== 'string') throw new ClientError('bad_server_frame', `${this.where} accepted the file offer but gave no transfer id`);
    return { transfer: ok.transfer, ...(ok.users !== undefined && { users: ok.users }) };
  }

  /**
   * Sends a file-transfer frame that has no direct answer (accept, decline, chunk, ack, end,
   * result, cancel). A server error about it comes as an `error` event.
   * @throws ClientError `not_connected`, `frame_too_large`, `send_queue_full`.
   */
  sendFileFrame(frame: FileClientFrame): void {
    this.send(frame);
  }

  /** Round trip to the server and back, in milliseconds. */
  async ping(): Promise<number> {
    this.require('ping');
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
      this.quitId = this.nextId++;
      try {
        this.send({ type: 'quit', id: this.quitId });
      } catch {
        this.socket.destroy();
      }
      this.currentState = 'closing';
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

  /** Throws ClientError `unsupported`, with a sentence for the user, unless the server advertised `feature`. */
  private require(feature: Feature): void {
    if (!this.supports(feature)) throw new ClientError('unsupported', `this server does not support ${FEATURE_NAMES[feature]}`);
  }

  private request(frame: Request, acceptsWithoutId: PendingRequest['acceptsWithoutId']): Promise<ServerFrame> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      try {
        this.send({ ...frame, id });
      } catch (error) {
        reject(error);
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ClientError('request_timeout', `no answer to "${frame.type}" from ${this.where} within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      this.pending.set(id, { type: frame.type, acceptsWithoutId, resolve, reject, timer });
    });
  }

  /**
   * Encodes and writes one frame on the open connection.
   * @throws ClientError `not_connected`, `frame_too_large` or `send_queue_full` (nothing is sent).
   */
  private send(frame: ClientFrame): void {
    if (this.currentState !== 'open') {
      throw new ClientError('not_connected', `cannot send "${frame.type}": the connection to ${this.where} is ${this.currentState}`);
    }
    let bytes: Buffer;
    try {
      bytes = encodeFrame(frame);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new ClientError('frame_too_large', `cannot send "${frame.type}": ${message}`, { cause: error });
    }
    this.writer.write(bytes);
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
    const list = this.lists.take(frame);
    if (list.kind === 'page') return;
    if (list.kind === 'broken') this.brokenList(list.list, list.message);
    if (list.kind === 'complete') frame = list.frame;
    switch (frame.type) {
      case 'message':
        this.noteMsgid(frame.msgid);
        if (frame.history) for (const collector of this.historyCollectors) if (collector.matches(frame)) collector.messages.push(frame);
        this.emit('message', frame);
        return;
      case 'history_end':
        this.noteMsgid(frame.last_msgid);
        this.emit('history_end', frame);
        // A page asked for with `history` is answered by its history_end; a replay's is not an answer.
        if (frame.id !== undefined) this.answer(frame);
        return;
      case 'file_offer':
      case 'file_accept':
      case 'file_decline':
      case 'file_chunk':
      case 'file_ack':
      case 'file_end':
      case 'file_result':
      case 'file_cancel':
        this.emit('file', frame);
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
        this.user = frame.user;
        this.rooms.clear();
        this.rooms.add(LOBBY);
        this.emit('welcome', frame);
        return this.answer(frame);
      case 'ok':
      case 'users':
      case 'pong':
      case 'room_list':
      case 'error':
        return this.answer(frame);
      case 'hello':
        return;
    }
  }

  /**
   * A paged list (welcome, users) that the server interrupted: the request it answered fails with
   * `bad_server_frame` rather than reporting a partial list as the whole one.
   */
  private brokenList(list: WelcomeFrame | UsersFrame, message: string): void {
    const error = new ClientError('bad_server_frame', `the server broke off a paged user list: ${message}`);
    const request = typeof list.id === 'number' ? this.pending.get(list.id) : undefined;
    if (!request || list.id === undefined) return this.problem(error);
    this.pending.delete(list.id as number);
    clearTimeout(request.timer);
    request.reject(error);
  }

  /** Settles the request a frame answers: by id, or (no id) the oldest request that expects it. */
  private answer(frame: Exclude<ServerFrame, { type: 'hello' | 'message' | 'presence' | 'bye' } | FileServerFrame>): void {
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
    if (request.type === 'join' && frame.type === 'users' && frame.room !== undefined) {
      this.rooms.add(frame.room);
      this.emit('joined', frame.room, frame.users);
    }
    if (frame.type === 'error') request.reject(new ProtocolError(frame.code, frame.message, frame.id));
    else request.resolve(frame);
  }

  private noteMsgid(msgid: number | undefined): void {
    if (msgid !== undefined && msgid > this.highestMsgid) this.highestMsgid = msgid;
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

  /** The TCP connection is up: from now on, the wait is for the `hello` (after the handshake, with TLS). */
  private tcpOpened(): void {
    this.tcpConnected = true;
    if (this.currentState !== 'connecting') return;
    clearTimeout(this.settleOpening.timer);
    this.settleOpening.timer = setTimeout(() => this.failOpening(this.connectTimeout()), this.helloTimeoutMs);
  }

  private connectTimeout(): ClientError {
    if (!this.tcpConnected) return new ClientError('connect_timeout', `no answer from ${this.where} within ${formatMs(this.connectTimeoutMs)}`);
    // A plain client at a TLS server waits for a hello while the server waits for a handshake.
    const guesses = this.usesTls ? 'is it a chatlab/1 server? is it overloaded?' : 'is it a chatlab/1 server? is it overloaded? does it speak TLS?';
    return new ClientError('connect_timeout', `connected to ${this.where} but no hello within ${formatMs(this.helloTimeoutMs)} — ${guesses}`);
  }

  /** The socket closed: reject what is still pending, say why, once. */
  private finish(): void {
    if (this.currentState === 'connecting') {
      const error = this.socketError as NodeJS.ErrnoException | undefined;
      const tlsProblem = error && this.usesTls ? tlsError(error, this.host, this.port) : undefined;
      if (tlsProblem) this.failOpening(tlsProblem);
      else if (!this.tcpConnected && error) this.failOpening(connectError(error, this.host, this.port));
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

/** `5 s` for whole seconds, else `200 ms`. */
function formatMs(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
