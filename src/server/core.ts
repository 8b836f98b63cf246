import {
  LOBBY,
  PROTOCOL,
  allowedBeforeLogin,
  validateClientFrame,
  type DecodeResult,
  type ErrorCode,
  type LoginFrame,
  type MessageFrame,
  type RawFrame,
  type RegisterFrame,
  type RequestId,
  type SayFrame,
  type WhoFrame,
} from '../protocol/index.ts';
import { AccountError, type AccountStore } from './accounts.ts';
import type { Connection, ConnectionHandler } from './connection.ts';
import type { ChatServerEventStream, LogoutReason } from './events.ts';
import type { Hub, Member } from './hub.ts';
import type { ServerLimits } from './limits.ts';

/** What the protocol logic needs from the server around it. */
export interface ChatCoreDeps {
  hub: Hub;
  accounts: AccountStore;
  limits: ServerLimits;
  events: ChatServerEventStream;
  /** The `server` field of `hello`, e.g. "chatlab-server/0.1.0". */
  serverName: string;
}

/**
 * The protocol logic of the reference server: what each frame does, in the order of the ten steps,
 * plus errors and extensions. Sockets stay in {@link Connection}; recipients in {@link Hub}.
 */
export class ChatCore implements ConnectionHandler {
  private readonly loginTimers = new WeakMap<Connection, NodeJS.Timeout>();
  /** Connections whose client was told about a rate limit and has not been served since. */
  private readonly throttled = new WeakSet<Connection>();

  constructor(private readonly deps: ChatCoreDeps) {}

  // ------------------------------------------------------------ connection life

  /**
   * Step 3: a new connection gets its `hello` and a deadline to log in. `refuse` turns it away
   * (the server is full or stopping) with one `error` or `bye`, then closes it.
   */
  accept(connection: Connection, refuse?: 'too_many_connections' | 'server_shutdown'): void {
    this.deps.events.emit('connection', { id: connection.id, remote: connection.remote });
    if (refuse === 'server_shutdown') return this.shutdown(connection);
    if (refuse === 'too_many_connections') {
      const { maxConnections } = this.deps.limits;
      return this.fatal(connection, 'too_many_connections', `the server is full (${maxConnections} connections); try again later`);
    }
    connection.send({ type: 'hello', protocol: PROTOCOL, server: this.deps.serverName });
    const { loginTimeoutMs } = this.deps.limits;
    const timer = connection.after(loginTimeoutMs, () => {
      if (!connection.member) this.fatal(connection, 'idle_timeout', `no login within ${formatSeconds(loginTimeoutMs)}; closing`);
    });
    this.loginTimers.set(connection, timer);
  }

  /** Server shutdown: everyone gets `bye` with reason "server_shutdown", then the server closes. */
  shutdown(connection: Connection): void {
    this.depart(connection, 'server_shutdown', false);
    connection.close({ last: { type: 'bye', reason: 'server_shutdown' } });
  }

  peerEnded(connection: Connection): void {
    // The client will send nothing more; whatever we queued still goes out, then we close too.
    connection.close();
  }

  overflowed(connection: Connection, pendingBytes: number): void {
    const limit = this.deps.limits.maxOutputBytes;
    this.fatal(connection, 'output_overflow', `you read too slowly: ${pendingBytes} bytes pending, over the ${limit}-byte limit; disconnecting`, {
      flush: false,
    });
  }

  failed(connection: Connection, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.deps.events.emit('error', { id: connection.id, remote: connection.remote, user: connection.member?.user, code: 'internal', message, fatal: false });
    connection.send({ type: 'error', code: 'internal', message: 'the server failed to handle that request' });
  }

  socketError(connection: Connection, error: Error): void {
    const code = (error as NodeJS.ErrnoException).code ?? 'socket_error';
    this.deps.events.emit('error', { id: connection.id, remote: connection.remote, user: connection.member?.user, code, message: error.message, fatal: true });
  }

  closed(connection: Connection): void {
    const user = connection.lastUser;
    this.depart(connection, 'connection_lost', true);
    this.deps.events.emit('disconnect', { id: connection.id, remote: connection.remote, ...(user !== undefined && { user }) });
  }

  // ------------------------------------------------------------ input

  receive(connection: Connection, item: DecodeResult): void | Promise<void> {
    if (!item.ok) {
      if (item.code === 'frame_too_large') return this.fatal(connection, 'frame_too_large', `${item.message}; closing (the stream cannot be resynchronised)`);
      if (!this.admit(connection, undefined)) return;
      // The parser's message may quote the line (a password, say): events and logs get a neutral one.
      return this.reply(connection, undefined, 'bad_frame', item.message, `not a frame: ${item.raw.length} bytes that are not a JSON object with a "type"`);
    }
    const raw = item.frame;
    const id = requestIdOf(raw);
    if (!this.admit(connection, id)) return;
    const checked = validateClientFrame(raw);
    if (!checked.ok && checked.code === 'unknown_type') return this.reply(connection, id, 'unknown_type', checked.message);
    if (!connection.member && !allowedBeforeLogin(raw.type)) {
      return this.reply(connection, id, 'not_logged_in', `log in first: only login, register and ping are allowed before login`);
    }
    if (!checked.ok) return this.reply(connection, id, checked.code, checked.message);
    const frame = checked.frame;
    switch (frame.type) {
      case 'login':
        return this.login(connection, frame);
      case 'register':
        return this.register(connection, frame);
      case 'say':
        return this.say(connection, connection.member as Member, frame);
      case 'quit':
        return this.quit(connection, connection.member as Member, frame.id);
      case 'who':
        return this.who(connection, frame);
      case 'ping':
        connection.send({ type: 'pong', ts: Date.now(), ...idField(frame.id) });
        return;
    }
  }

  /**
   * Rate limit: one token per frame. A refused frame is answered `rate_limited` if it has an id
   * (its sender is waiting for that answer) or if it is the first refusal since the last frame
   * served; a flood without ids thus costs one error, not one per frame.
   */
  private admit(connection: Connection, id: RequestId | undefined): boolean {
    if (connection.bucket.take()) {
      this.throttled.delete(connection);
      return true;
    }
    if (id !== undefined || !this.throttled.has(connection)) {
      this.throttled.add(connection);
      const { rateLimitPerSecond, rateLimitBurst } = this.deps.limits;
      this.reply(connection, id, 'rate_limited', `slow down: at most ${rateLimitPerSecond} frames per second (bursts of ${rateLimitBurst}); frame dropped`);
    }
    return false;
  }

  // ------------------------------------------------------------ the steps

  /** Steps 4–5: verify, then `welcome` to the user and `presence online` to everyone else. */
  private async login(connection: Connection, frame: LoginFrame): Promise<void> {
    if (connection.member) {
      return this.reply(connection, frame.id, 'already_logged_in', `you are already logged in as ${connection.member.user}`);
    }
    const valid = await this.deps.accounts.verify(frame.user, frame.password);
    if (connection.state !== 'open') return;
    if (!valid) return this.reply(connection, frame.id, 'auth_failed', 'wrong user name or password; try again');
    const member: Member = { user: frame.user, deliver: (bytes) => void connection.deliver(bytes) };
    if (!this.deps.hub.join(member)) {
      return this.reply(connection, frame.id, 'already_online', `${frame.user} is already logged in on another connection`);
    }
    connection.member = member;
    connection.lastUser = member.user;
    connection.cancel(this.loginTimers.get(connection));
    connection.send({ type: 'welcome', user: member.user, users: this.deps.hub.users(), ...idField(frame.id) });
    this.deps.hub.send({ type: 'presence', user: member.user, status: 'online' }, { room: LOBBY }, member);
    this.deps.events.emit('login', { id: connection.id, remote: connection.remote, user: member.user });
  }

  /** Extension: create an account (`ok`, or `user_exists`). Does not log in. */
  private async register(connection: Connection, frame: RegisterFrame): Promise<void> {
    try {
      await this.deps.accounts.add(frame.user, frame.password);
    } catch (error) {
      if (connection.state !== 'open') return; // e.g. the server stopped (and closed the db) meanwhile
      if (!(error instanceof AccountError)) throw error;
      return this.reply(connection, frame.id, error.code, error.message);
    }
    connection.send({ type: 'ok', ...idField(frame.id) });
  }

  /** Steps 6–7: relay to everyone else in the room, `from` and `ts` set here; `ok` if asked. */
  private say(connection: Connection, member: Member, frame: SayFrame): void {
    if (frame.to !== undefined) {
      return this.reply(connection, frame.id, 'bad_request', 'private messages ("to") are not supported by this server yet');
    }
    const room = frame.room ?? LOBBY;
    if (!this.deps.hub.hasRoom(room)) return this.reply(connection, frame.id, 'unknown_room', `there is no room "${room}"`);
    const ts = Date.now();
    const message: MessageFrame = { type: 'message', from: member.user, text: frame.text, ts, ...(frame.room !== undefined && { room }) };
    const recipients = this.deps.hub.send(message, { room }, member);
    if (frame.id !== undefined) connection.send({ type: 'ok', id: frame.id });
    this.deps.events.emit('message', { id: connection.id, from: member.user, text: frame.text, ts, room, recipients });
  }

  /** Steps 8–9: `bye` to the user, `presence offline` to the others; the client closes first (10). */
  private quit(connection: Connection, member: Member, id: RequestId | undefined): void {
    this.deps.hub.leave(member);
    connection.member = undefined;
    connection.close({ last: { type: 'bye', ...idField(id) }, waitForPeer: true });
    this.announceOffline(member, undefined);
    this.deps.events.emit('logout', { id: connection.id, user: member.user, reason: 'quit' });
  }

  /** Extension: who is online (`users`). */
  private who(connection: Connection, frame: WhoFrame): void {
    const room = frame.room ?? LOBBY;
    if (!this.deps.hub.hasRoom(room)) return this.reply(connection, frame.id, 'unknown_room', `there is no room "${room}"`);
    connection.send({ type: 'users', users: this.deps.hub.users(), ...(frame.room !== undefined && { room }), ...idField(frame.id) });
  }

  // ------------------------------------------------------------ helpers

  /** Takes a user out of the chat (if logged in on this connection); tells the others if asked. */
  private depart(connection: Connection, reason: LogoutReason, announce: boolean): void {
    const member = connection.member;
    if (!member) return;
    connection.member = undefined;
    if (!this.deps.hub.leave(member)) return;
    if (announce) this.announceOffline(member, reason);
    this.deps.events.emit('logout', { id: connection.id, user: member.user, reason });
  }

  private announceOffline(member: Member, reason: string | undefined): void {
    this.deps.hub.send({ type: 'presence', user: member.user, status: 'offline', ...(reason !== undefined && { reason }) }, { room: LOBBY });
  }

  /**
   * Answers a request with an `error` (carrying its id); the connection stays. `logged` replaces
   * the message in the `error` event when the client's message might quote what the client sent.
   */
  private reply(connection: Connection, id: RequestId | undefined, code: ErrorCode, message: string, logged = message): void {
    connection.send({ type: 'error', code, message, ...idField(id) });
    this.deps.events.emit('error', { id: connection.id, remote: connection.remote, user: connection.member?.user, code, message: logged, fatal: false });
  }

  /** Sends an `error`, then closes this connection only (the others never notice but a presence). */
  private fatal(connection: Connection, code: ErrorCode, message: string, options: { flush?: boolean } = {}): void {
    if (connection.state !== 'open') return;
    this.deps.events.emit('error', { id: connection.id, remote: connection.remote, user: connection.member?.user, code, message, fatal: true });
    this.depart(connection, code, true);
    connection.close({ last: { type: 'error', code, message }, flush: options.flush ?? true });
  }
}

/** The request id of a raw frame, if it has a usable one (string or finite number). */
export function requestIdOf(raw: RawFrame): RequestId | undefined {
  const id = raw.id;
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : undefined;
}

function idField(id: RequestId | undefined): { id?: RequestId } {
  return id === undefined ? {} : { id };
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
