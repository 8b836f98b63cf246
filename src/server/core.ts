import {
  FEATURES,
  LOBBY,
  PROTOCOL,
  allowedBeforeLogin,
  encodeFrame,
  isRequestId,
  pageUserList,
  pageWelcome,
  validateClientFrame,
  type ClientFrame,
  type DecodeResult,
  type ErrorCode,
  type Feature,
  type HistoryFrame,
  type LoginFrame,
  type MessageFrame,
  type RegisterFrame,
  type RequestId,
  type SayFrame,
  type ServerFrame,
  type UsersFrame,
  type WhoFrame,
} from '../protocol/index.ts';
import { AccountError, type AccountBook } from './accounts.ts';
import { SYSTEM_CLOCK, type Clock, type TimerHandle } from './clock.ts';
import type { ChatServerEventStream, LogoutReason } from './events.ts';
import type { Hub, Member } from './hub.ts';
import type { ServerLimits } from './limits.ts';
import type { LoginThrottle } from './login-throttle.ts';
import { DEFERRED, isPending, type Awaitable, type MessageStore, type Recorded, type StoredMessage } from './message-store.ts';
import { PeerMember, ReplayGate, type ConversationKey } from './peer-member.ts';
import type { CloseOptions, OverflowInfo, Peer, PeerHandler } from './peer.ts';
import { TokenBucket } from '../rate-limit/index.ts';
import { UnavailableError } from './unavailable.ts';
import type { FileRelay, Refusal } from './transfers.ts';

/** What the protocol logic needs from the server around it. */
export interface ChatCoreDeps {
  hub: Hub;
  /** Where accounts are checked and created (SQLite on one process, Redis in a cluster). */
  accounts: AccountBook;
  limits: ServerLimits;
  events: ChatServerEventStream;
  /** The `server` field of `hello`, e.g. "chatlab-server/0.1.0". */
  serverName: string;
  /**
   * Stored messages (history, offline private messages): SQLite on one process (answers at once),
   * Redis in a cluster (answers with promises: see {@link MessageStore}).
   */
  history: MessageStore;
  /** The file-transfer relay. */
  files: FileRelay;
  /** Failed-login throttling per connection and per address (on the same clock). */
  throttle: LoginThrottle;
  /** The time of the rules (timestamps, rate limits). Default {@link SYSTEM_CLOCK}. */
  clock?: Clock;
}

/** Messages a `history` request returns when it names no `limit`. */
export const HISTORY_PAGE_DEFAULT = 50;

/**
 * The share of `maxOutputBytes` one history replay (after login, after join, or a `history`
 * page) may fill; the oldest messages are left out beyond it. Half, so that the live traffic
 * queued behind a replay still fits before the client is cut off with `output_overflow`.
 */
export const HISTORY_REPLAY_OUTPUT_SHARE = 0.5;

/**
 * How many `closeGraceMs` a client cut off with `output_overflow` gets to read what its socket still
 * holds, then the error (20 s by default); a peer that reads nothing is destroyed after that.
 */
export const OVERFLOW_DRAIN_GRACE_PERIODS = 10;

/**
 * What `hello.features` advertises: every extension this server implements (all of them), so a
 * client offers only what works and the verifier checks each one.
 */
export const SERVER_FEATURES: readonly Feature[] = FEATURES;

/** Why a connection is turned away at once. */
export type AcceptRefusal = 'too_many_connections' | 'too_many_from_address' | 'server_shutdown';

/**
 * The protocol logic of the reference server: what each frame does, in the order of the ten steps,
 * plus errors and extensions. Transports stay behind {@link Peer} (the TCP `Connection` is one;
 * a client's peer is called `connection` here); recipients in {@link Hub}; time is a {@link Clock}.
 */
export class ChatCore implements PeerHandler {
  private readonly loginTimers = new WeakMap<Peer, TimerHandle>();
  /** Each connection's rate limit for its incoming frames (made at its first frame). */
  private readonly buckets = new WeakMap<Peer, TokenBucket>();
  /** Connections whose client was told about a rate limit and has not been served since. */
  private readonly throttled = new WeakSet<Peer>();
  /**
   * Per connection, the answer of its last `say` still waiting for the store (a cluster's Redis):
   * every later say's answer (ok, relay or error) is chained after it, so answers leave in the
   * frames' order while their records overlap. Settles without rejecting; gone once it settled.
   */
  private readonly lastAnswers = new WeakMap<Peer, Promise<void>>();

  private readonly clock: Clock;

  constructor(private readonly deps: ChatCoreDeps) {
    this.clock = deps.clock ?? SYSTEM_CLOCK;
  }

  // ------------------------------------------------------------ connection life

  /**
   * Step 3: a new connection gets its `hello` and a deadline to log in. `refuse` turns it away
   * (the server is full or stopping) with one `error` or `bye`, then closes it.
   */
  accept(connection: Peer, refuse?: AcceptRefusal): void {
    this.deps.events.emit('connection', { id: connection.id, remote: connection.remote });
    if (refuse === 'server_shutdown') return this.shutdown(connection);
    if (refuse === 'too_many_connections') {
      const { maxConnections } = this.deps.limits;
      return this.fatal(connection, 'too_many_connections', `the server is full (${maxConnections} connections); try again later`);
    }
    if (refuse === 'too_many_from_address') {
      const { maxConnectionsPerAddress } = this.deps.limits;
      return this.fatal(connection, 'too_many_connections', `too many connections from ${connection.address} (at most ${maxConnectionsPerAddress}); close one and try again`);
    }
    connection.send({ type: 'hello', protocol: PROTOCOL, server: this.deps.serverName, features: [...SERVER_FEATURES] });
    const { loginTimeoutMs } = this.deps.limits;
    const timer = connection.after(loginTimeoutMs, () => {
      if (!connection.member) this.fatal(connection, 'idle_timeout', `no login within ${formatSeconds(loginTimeoutMs)}; closing`);
    });
    this.loginTimers.set(connection, timer);
  }

  /** Server shutdown: everyone gets `bye` with reason "server_shutdown", then the server closes. */
  shutdown(connection: Peer): void {
    this.depart(connection, 'server_shutdown', false);
    connection.close({ last: { type: 'bye', reason: 'server_shutdown' } });
  }

  peerEnded(connection: Peer): void {
    // The client will send nothing more; whatever we queued still goes out, then we close too.
    connection.close();
  }

  overflowed(connection: Peer, { pendingBytes, stalledMs }: OverflowInfo): void {
    const limit = this.deps.limits.maxOutputBytes;
    const message =
      stalledMs === undefined
        ? `you read too slowly: ${pendingBytes} bytes pending, over the ${limit}-byte limit; disconnecting`
        : `you read too slowly: ${pendingBytes} bytes pending, stuck for ${stalledMs} ms while the server was overloaded; disconnecting`;
    // What was queued but never handed to the socket is dropped; what the socket holds (whole
    // frames) is delivered first, so the error arrives whole, last. A slow reader may take a while
    // to get there: its socket stays for up to OVERFLOW_DRAIN_GRACE_PERIODS × closeGraceMs.
    const drainMs = this.deps.limits.closeGraceMs * OVERFLOW_DRAIN_GRACE_PERIODS;
    this.fatal(connection, 'output_overflow', message, { flush: false, drainMs });
  }

  failed(connection: Peer, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.deps.events.emit('error', { id: connection.id, remote: connection.remote, user: connection.member?.user, code: 'internal', message, fatal: false });
    connection.send({ type: 'error', code: 'internal', message: 'the server failed to handle that request' });
  }

  socketError(connection: Peer, error: Error): void {
    const code = (error as NodeJS.ErrnoException).code ?? 'socket_error';
    this.deps.events.emit('error', { id: connection.id, remote: connection.remote, user: connection.member?.user, code, message: error.message, fatal: true });
  }

  closed(connection: Peer): void {
    const user = connection.lastUser;
    this.depart(connection, 'connection_lost', true);
    this.deps.events.emit('disconnect', { id: connection.id, remote: connection.remote, ...(user !== undefined && { user }) });
  }

  // ------------------------------------------------------------ input

  receive(connection: Peer, item: DecodeResult): void | Promise<void> {
    const pending = this.handle(connection, item);
    // A say answered at once while earlier says wait for the store had its answer queued behind
    // theirs (see reply): the transport holds it like theirs.
    return pending ?? this.lastAnswers.get(connection);
  }

  /**
   * Overlapping frames (see {@link PeerHandler.overlaps}): a logged-in user's `say`. Its checks run
   * at once and its record is issued at once (a cluster's one Redis connection runs the records in
   * that order, so msgids increase in the frames' order); its answer waits for the earlier ones.
   */
  overlaps(connection: Peer, item: DecodeResult): boolean {
    return item.ok && item.frame.type === 'say' && connection.member !== undefined;
  }

  private handle(connection: Peer, item: DecodeResult): void | Promise<void> {
    if (!item.ok) {
      if (item.code === 'frame_too_large') return this.fatal(connection, 'frame_too_large', `${item.message}; closing (the stream cannot be resynchronised)`);
      if (!this.admit(connection, undefined)) return;
      // The parser's message may quote the line (a password, say): events and logs get a neutral one.
      return this.reply(connection, undefined, 'bad_frame', item.message, `not a frame: ${item.raw.length} bytes that are not a JSON object with a "type"`);
    }
    const raw = item.frame;
    const id = isRequestId(raw.id) ? raw.id : undefined;
    // Chunks and acks are paced by the transfer window instead: only refused ones cost a token.
    const paced = raw.type === 'file_chunk' || raw.type === 'file_ack';
    if (!paced && !this.admit(connection, id)) return;
    const checked = validateClientFrame(raw);
    if (!checked.ok && checked.code === 'unknown_type') return this.reply(connection, id, 'unknown_type', checked.message);
    if (!connection.member && !allowedBeforeLogin(raw.type)) {
      return this.refuse(connection, id, 'not_logged_in', `log in first: only login, register and ping are allowed before login`, paced);
    }
    if (!checked.ok) return this.refuse(connection, id, checked.code, checked.message, paced);
    const frame = checked.frame;
    if (frame.type.startsWith('file_')) return this.file(connection, connection.member as Member, frame);
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
        connection.send({ type: 'pong', ts: this.clock.now(), ...idField(frame.id) });
        return;
      case 'join':
        return this.join(connection, connection.member as Member, frame.room, frame.id);
      case 'leave':
        return this.leave(connection, connection.member as Member, frame.room, frame.id);
      case 'rooms':
        connection.send({ type: 'room_list', rooms: this.deps.hub.roomList(), ...idField(frame.id) });
        return;
      case 'history':
        return this.history(connection, connection.member as Member, frame);
    }
  }

  /**
   * Rate limit: one token per frame. A refused frame is answered `rate_limited` if it has an id
   * (its sender is waiting for that answer) or if it is the first refusal since the last frame
   * served; a flood without ids thus costs one error, not one per frame.
   */
  private admit(connection: Peer, id: RequestId | undefined): boolean {
    if (this.bucketOf(connection).take()) {
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

  private bucketOf(connection: Peer): TokenBucket {
    let bucket = this.buckets.get(connection);
    if (!bucket) {
      const { rateLimitPerSecond, rateLimitBurst } = this.deps.limits;
      this.buckets.set(connection, (bucket = new TokenBucket(rateLimitPerSecond, rateLimitBurst, this.clock)));
    }
    return bucket;
  }

  /** Answers with an error; when `charged`, the refusal costs a token like any other frame. */
  private refuse(connection: Peer, id: RequestId | undefined, code: ErrorCode, message: string, charged: boolean): void {
    if (charged && !this.admit(connection, id)) return;
    this.reply(connection, id, code, message);
  }

  // ------------------------------------------------------------ the steps

  /**
   * Steps 4–5: verify, then `welcome` (paged when long) and the history replay to the user, and
   * `presence online` to everyone else. All or nothing: everything that can fail (reading history,
   * marking queued messages delivered) happens before anything is sent, and an unexpected throw
   * after that still takes the user back out (see {@link rollBackLogin}). Encoding cannot fail: the
   * user list is paged to fit, replayed messages are encoded up front.
   */
  private async login(connection: Peer, frame: LoginFrame): Promise<void> {
    if (connection.member) {
      return this.reply(connection, frame.id, 'already_logged_in', `you are already logged in as ${connection.member.user}`);
    }
    if (!(await this.reserveAttempt(connection, frame.id))) return;
    let valid: boolean;
    try {
      valid = await this.deps.accounts.verify(frame.user, frame.password);
    } catch (error) {
      // The accounts could not be read (a closed or broken database): nothing was tried, nothing
      // happened, so the reserved attempt is given back.
      this.deps.throttle.settle(connection, connection.address, true);
      if (connection.state !== 'open') return;
      if (error instanceof UnavailableError) this.loginRefused(connection, frame.id, error);
      else this.loginFailed(connection, frame.id, error);
      return;
    }
    this.deps.throttle.settle(connection, connection.address, valid);
    if (connection.state !== 'open') return;
    if (!valid) return this.reply(connection, frame.id, 'auth_failed', 'wrong user name or password; try again');
    const { hub, history } = this.deps;
    const member = new PeerMember(frame.user, connection, this.clock);
    // Held from the moment the hub may deliver to the member until its replay is written.
    member.gate = new ReplayGate(this.deps.limits.maxOutputBytes);
    let joined: boolean;
    try {
      // Sync on one process (no await, no extra turn); a clustered hub claims the name in Redis first.
      const admitted = hub.admit(member);
      joined = typeof admitted === 'boolean' ? admitted : await admitted;
    } catch (error) {
      if (connection.state !== 'open') return;
      if (error instanceof UnavailableError) this.loginRefused(connection, frame.id, error);
      else this.loginFailed(connection, frame.id, error);
      return;
    }
    if (joined && connection.state !== 'open') {
      hub.leave(member); // the client left while the claim was on its way
      return;
    }
    if (!joined) {
      return this.reply(connection, frame.id, 'already_online', `${frame.user} is already logged in on another connection`);
    }
    let output: Buffer[];
    let horizons: ReadonlyMap<ConversationKey, number> = NO_HORIZONS;
    try {
      // The list as the user joined: what changes after it reaches the member (held by its gate).
      // The member itself is listed only with its presence, below, but its own welcome names it.
      const welcome = pageWelcome(member.user, hub.usersWith(member), frame.id, this.deps.limits.listFrameBytes);
      // Read in this turn on one process; a cluster awaits Redis (the member's gate holds live frames).
      const reads = this.readLoginReplay(member.user, frame.since);
      const lists = isPending(reads) ? await reads : reads;
      const replay = this.loginReplay(lists, frame.since);
      // Only a replay read later can meet late relays of what it holds (see PeerMember).
      if (isPending(reads)) horizons = loginHorizons(lists);
      output = [...welcome.map(encodeFrame), ...replay.frames];
      // The one write, before anything is sent: if it fails, the queued messages stay queued.
      const marked = history.markDelivered(member.user, replay.queued);
      if (isPending(marked)) await marked;
    } catch (error) {
      // Nothing was sent and nobody saw the user (presence is announced only below).
      hub.leave(member);
      if (connection.state !== 'open') return;
      if (error instanceof UnavailableError) return this.loginRefused(connection, frame.id, error);
      return this.loginFailed(connection, frame.id, error);
    }
    if (connection.state !== 'open') {
      hub.leave(member); // the client left while the replay was read
      return;
    }
    connection.member = member;
    connection.lastUser = member.user;
    connection.cancel(this.loginTimers.get(connection));
    let announced = false;
    try {
      for (const bytes of output) connection.deliver(bytes);
      this.openGate(connection, member, horizons);
      if (connection.state !== 'open') return; // cut off: too much arrived while the replay was read
      // Listed from here, not from its admission: no welcome or `who` names a user whose presence
      // is still to come (a cluster node reads the replay in between).
      hub.announceOnline(member);
      announced = true;
      this.deps.events.emit('login', { id: connection.id, remote: connection.remote, user: member.user });
    } catch (error) {
      this.rollBackLogin(connection, member, frame.id, error, announced);
    }
  }

  /**
   * A login refused because a shared store is unreachable (a cluster's Redis): `internal` with the
   * store's own message, which says why, and that nothing changed; the connection may try again.
   */
  private loginRefused(connection: Peer, id: RequestId | undefined, error: UnavailableError): void {
    this.reply(connection, id, 'internal', `the server cannot log you in now: ${error.message}; nothing changed, try again shortly`);
  }

  /** A login that failed before anything was sent: `internal` with the login's id; the connection may try again. */
  private loginFailed(connection: Peer, id: RequestId | undefined, error: unknown): void {
    const detail = error instanceof Error ? error.message : String(error);
    this.reply(connection, id, 'internal', 'the server failed to log you in; nothing changed, try again', `login failed: ${detail}`);
  }

  /**
   * A login that threw after its output was queued (nothing is known to do that; this is the safety
   * net): the user leaves the hub, the others hear `offline` if they heard `online`, and the
   * connection closes with `internal`, its queued output dropped, so the client never sees a
   * welcome that does not hold. The outbox writes in a later turn, so nothing of it has left yet.
   */
  private rollBackLogin(connection: Peer, member: Member, id: RequestId | undefined, error: unknown, announced: boolean): void {
    connection.member = undefined;
    this.deps.hub.leave(member);
    if (announced) this.announceOffline(member, 'internal');
    const message = error instanceof Error ? error.message : String(error);
    this.deps.events.emit('error', { id: connection.id, remote: connection.remote, user: member.user, code: 'internal', message: `login rolled back: ${message}`, fatal: true });
    connection.close({ last: { type: 'error', code: 'internal', message: 'the server failed to log you in; closing', ...idField(id) }, flush: false });
  }

  /**
   * Reserves a failed-attempt token for a login or register before any password work (the caller
   * settles it: refunded on success), so simultaneous attempts cannot all pass the check; false
   * (and `rate_limited` answered) while this connection or its address has used up its attempts.
   */
  private async reserveAttempt(connection: Peer, id: RequestId | undefined): Promise<boolean> {
    const waitMs = await this.deps.throttle.reserve(connection, connection.address);
    if (waitMs > 0) {
      this.tooManyAttempts(connection, id, waitMs);
      return false;
    }
    if (connection.state === 'open') return true;
    this.deps.throttle.settle(connection, connection.address, true); // gone while it waited: nothing was tried
    return false;
  }

  private tooManyAttempts(connection: Peer, id: RequestId | undefined, waitMs: number): void {
    this.reply(connection, id, 'rate_limited', `too many failed attempts; try again in ${Math.max(1, Math.ceil(waitMs / 1000))} s`);
  }

  /**
   * For a private `say` or `history` whose target is not online: answers (and returns true) with
   * `rate_limited` while the failed-attempt budget is spent, whether the account exists or not, and
   * with `unknown_user`, charged to that budget, when it does not exist. So probing names is as slow
   * as guessing passwords; online users are public (`who`) and never cost anything.
   */
  private refuseOfflineTarget(connection: Peer, id: RequestId | undefined, to: string): boolean {
    const { throttle, accounts } = this.deps;
    const waitMs = throttle.waitMs(connection, connection.address);
    if (waitMs > 0) {
      this.tooManyAttempts(connection, id, waitMs);
      return true;
    }
    if (accounts.has(to)) return false;
    throttle.failed(connection, connection.address);
    this.reply(connection, id, 'unknown_user', `there is no user "${to}"`);
    return true;
  }

  /**
   * History after `welcome`, encoded but not sent: the last messages of lobby and of the user's
   * private conversations (only those newer than `since`, when given), plus every private message
   * that waited for this user (flagged `queued`; `queued` lists those sent, for the caller to mark
   * delivered). `history_end` closes the replay when anything was replayed or the client asked with
   * `since`, so a core client that never asked sees nothing new when there is nothing to replay.
   */
  private loginReplay(lists: readonly StoredMessage[][], since: number | undefined): { frames: Buffer[]; queued: number[] } {
    const replayed = new Map<number, StoredMessage>();
    // Lobby, then private, then the queue: a queued message's `queued` flag wins.
    for (const list of lists) for (const message of list) replayed.set(message.msgid, message);
    const messages = [...replayed.values()].sort((a, b) => a.msgid - b.msgid);
    const { frames, sent, truncated } = this.encodeHistory(messages);
    if (messages.length > 0 || since !== undefined) {
      frames.push(encodeFrame({ type: 'history_end', count: sent.length, last_msgid: sent.at(-1)?.msgid ?? 0, ...(truncated && { truncated }) }));
    }
    // Queued messages left out by the byte bound stay undelivered: the next login brings them.
    return { frames, queued: sent.filter((message) => message.queued).map((message) => message.msgid) };
  }

  /** What the replay after login reads: lobby's tail, the user's private tail, the user's queue. */
  private readLoginReplay(user: string, since: number | undefined): Awaitable<StoredMessage[][]> {
    const { history, limits } = this.deps;
    const reads = [history.roomTail(LOBBY, limits.historyReplayLimit, since), history.privateTail(user, limits.historyReplayLimit, since), history.undelivered(user, limits.offlineReplayLimit)];
    return reads.some(isPending) ? Promise.all(reads) : (reads as StoredMessage[][]);
  }

  /**
   * Ends a member's {@link ReplayGate} once its replay is written: what the hub delivered meanwhile
   * follows, minus the messages the replay covered (`horizons`; see {@link PeerMember.openGate}).
   * A gate that overflowed means the client could not have taken it all either: it is cut off as
   * a slow reader.
   */
  private openGate(connection: Peer, member: Member, horizons: ReadonlyMap<ConversationKey, number>): void {
    if (!(member instanceof PeerMember)) return;
    if (!member.openGate(horizons)) this.overflowed(connection, { pendingBytes: this.deps.limits.maxOutputBytes });
  }

  /**
   * Sends `messages` (oldest first) as history frames, leaving out the oldest ones whose frames
   * would take the replay past {@link HISTORY_REPLAY_OUTPUT_SHARE} of `maxOutputBytes`: a replay
   * of long messages must not cost the client its connection. Returns what was sent.
   */
  private sendHistory(connection: Peer, messages: readonly StoredMessage[]): { sent: StoredMessage[]; truncated: boolean } {
    const { frames, sent, truncated } = this.encodeHistory(messages);
    for (const frame of frames) connection.deliver(frame);
    return { sent, truncated };
  }

  /** The history frames of `messages` within the replay's byte share (see {@link sendHistory}), encoded. */
  private encodeHistory(messages: readonly StoredMessage[]): { frames: Buffer[]; sent: StoredMessage[]; truncated: boolean } {
    const budget = Math.floor(this.deps.limits.maxOutputBytes * HISTORY_REPLAY_OUTPUT_SHARE);
    const frames: Buffer[] = [];
    let bytes = 0;
    for (let i = messages.length - 1; i >= 0; i--) {
      const frame = encodeFrame(historyFrame(messages[i] as StoredMessage));
      if (bytes + frame.length > budget) break;
      bytes += frame.length;
      frames.push(frame);
    }
    frames.reverse();
    return { frames, sent: messages.slice(messages.length - frames.length), truncated: frames.length < messages.length };
  }

  /** Extension: create an account (`ok`, or `user_exists`). Does not log in. */
  private async register(connection: Peer, frame: RegisterFrame): Promise<void> {
    if (!(await this.reserveAttempt(connection, frame.id))) return;
    try {
      await this.deps.accounts.add(frame.user, frame.password);
    } catch (error) {
      // Probing which names exist (or look alike) counts as a failed attempt; nothing else does.
      this.deps.throttle.settle(connection, connection.address, !(error instanceof AccountError && error.code === 'user_exists'));
      if (connection.state !== 'open') return; // e.g. the server stopped (and closed the db) meanwhile
      if (!(error instanceof AccountError)) throw error;
      return this.reply(connection, frame.id, error.code, error.message);
    }
    this.deps.throttle.settle(connection, connection.address, true);
    connection.send({ type: 'ok', ...idField(frame.id) });
  }

  /**
   * Steps 6–7: relay to everyone else in the room (lobby unless `room` says otherwise), `from`,
   * `ts` and `msgid` set here; the message is stored for history; `ok` if asked.
   */
  private say(connection: Peer, member: Member, frame: SayFrame): void | Promise<void> {
    if (frame.to !== undefined) return this.sayPrivately(connection, member, frame, frame.to);
    const { hub, history } = this.deps;
    const room = frame.room ?? LOBBY;
    if (!hub.hasRoom(room)) return this.reply(connection, frame.id, 'unknown_room', `there is no room "${room}"`);
    if (!hub.isInRoom(member, room)) return this.reply(connection, frame.id, 'not_in_room', `join "${room}" before speaking in it`);
    const ts = this.clock.now();
    const recorded = history.record({ ts, from: member.user, room, text: frame.text, delivered: true });
    // A cluster commits in Redis first: nothing naming the msgid leaves before it answered.
    if (!isPending(recorded)) return this.relayMessage(connection, member, frame, room, ts, recorded);
    return this.answerInTurn(
      connection,
      this.afterEarlierAnswers(connection, recorded).then(
        (msgid) => this.relayMessage(connection, member, frame, room, ts, msgid),
        (error: unknown) => this.notRecorded(connection, frame.id, error),
      ),
    );
  }

  /** Step 7 once the message is stored (or deferred): the relay to the room, `ok` with the msgid, the event. */
  private relayMessage(connection: Peer, member: Member, frame: SayFrame, room: string, ts: number, msgid: Recorded): void {
    if (msgid === DEFERRED) return this.relayDeferred(connection, member, frame, room, ts);
    const { hub } = this.deps;
    const message: MessageFrame = { type: 'message', from: member.user, room, text: frame.text, ts, msgid };
    const recipients = hub.send(message, { room }, member);
    // The msgid lets the sender count its own message as seen, so a reconnect (`since`) skips it.
    if (frame.id !== undefined) connection.send({ type: 'ok', id: frame.id, msgid });
    this.deps.events.emit('message', { id: connection.id, from: member.user, text: frame.text, ts, room, msgid, recipients });
  }

  /**
   * A message a cluster node could not store now (Redis away) but kept to store later: relayed
   * at once to the room's members on this node only, without a msgid (the other nodes get it, with
   * its msgid, once it is stored), and `ok` with `deferred`.
   */
  private relayDeferred(connection: Peer, member: Member, frame: SayFrame, room: string, ts: number): void {
    const recipients = this.deps.hub.sendLocally({ type: 'message', from: member.user, room, text: frame.text, ts }, { room }, member);
    if (frame.id !== undefined) connection.send({ type: 'ok', id: frame.id, deferred: true });
    this.deps.events.emit('message', { id: connection.id, from: member.user, text: frame.text, ts, room, recipients, deferred: true });
  }

  /** Extension: a private message to `to` only; stored, and kept for `to`'s next login if offline. */
  private sayPrivately(connection: Peer, member: Member, frame: SayFrame, to: string): void | Promise<void> {
    const { hub, history } = this.deps;
    if (frame.room !== undefined) {
      return this.reply(connection, frame.id, 'bad_request', 'a say has "to" (private) or "room", not both');
    }
    if (to === member.user) return this.reply(connection, frame.id, 'bad_request', 'you cannot send a private message to yourself');
    const target = hub.member(to);
    if (!target && this.refuseOfflineTarget(connection, frame.id, to)) return;
    const ts = this.clock.now();
    const recorded = history.record({ ts, from: member.user, to, text: frame.text, delivered: target !== undefined });
    if (!isPending(recorded)) return this.deliverPrivately(connection, member, frame, to, target, ts, recorded);
    return this.answerInTurn(
      connection,
      this.afterEarlierAnswers(connection, recorded).then(
        (msgid) => this.deliverPrivately(connection, member, frame, to, target, ts, msgid),
        (error: unknown) => this.notRecorded(connection, frame.id, error),
      ),
    );
  }

  /**
   * `recorded` once every earlier answer of this connection has left: the record itself was issued
   * already (overlapping the earlier ones), only its answer waits.
   */
  private afterEarlierAnswers<T>(connection: Peer, recorded: Promise<T>): Promise<T> {
    const earlier = this.lastAnswers.get(connection);
    if (earlier === undefined) return recorded;
    recorded.catch(ignoreHere); // its failure is answered in turn, not an unhandled rejection meanwhile
    return earlier.then(() => recorded);
  }

  /** Makes `answer` the connection's last pending answer (see {@link lastAnswers}) and returns it. */
  private answerInTurn(connection: Peer, answer: Promise<void>): Promise<void> {
    const settled: Promise<void> = answer.then(
      () => this.forgetAnswer(connection, settled),
      () => this.forgetAnswer(connection, settled),
    );
    this.lastAnswers.set(connection, settled);
    return answer;
  }

  private forgetAnswer(connection: Peer, settled: Promise<void>): void {
    if (this.lastAnswers.get(connection) === settled) this.lastAnswers.delete(connection);
  }

  /** A private message once stored (or deferred): to its recipient if online (else it waits, `queued`), `ok`, the event. */
  private deliverPrivately(connection: Peer, member: Member, frame: SayFrame, to: string, target: Member | undefined, ts: number, msgid: Recorded): void {
    if (msgid === DEFERRED) return this.deliverDeferred(connection, member, frame, to, target, ts);
    const { hub } = this.deps;
    const recipients = target ? hub.sendTo({ type: 'message', from: member.user, to, text: frame.text, ts, msgid }, [target]) : 0;
    const queued = target === undefined;
    if (frame.id !== undefined) connection.send({ type: 'ok', id: frame.id, msgid, ...(queued && { queued }) });
    this.deps.events.emit('message', { id: connection.id, from: member.user, text: frame.text, ts, to, msgid, recipients, ...(queued && { queued }) });
  }

  /**
   * A private message a cluster node kept to store later (see {@link relayDeferred}): to its
   * recipient only if on this node, without a msgid; `ok` with `deferred`.
   */
  private deliverDeferred(connection: Peer, member: Member, frame: SayFrame, to: string, target: Member | undefined, ts: number): void {
    const local = target?.node === undefined ? target : undefined;
    const recipients = local ? this.deps.hub.sendTo({ type: 'message', from: member.user, to, text: frame.text, ts }, [local]) : 0;
    if (frame.id !== undefined) connection.send({ type: 'ok', id: frame.id, deferred: true });
    this.deps.events.emit('message', { id: connection.id, from: member.user, text: frame.text, ts, to, recipients, deferred: true });
  }

  /**
   * A message the store could neither record nor keep for later (a cluster's Redis is away and
   * its spool is full or failing): `internal`, saying that nothing was stored or sent, so the
   * client may send it again. Anything else is a server bug.
   * Only that say fails: the says issued after it (overlapping) are answered in their turn and may
   * well have been recorded, so a client resending it sees it after them.
   */
  private notRecorded(connection: Peer, id: RequestId | undefined, error: unknown): void {
    if (!(error instanceof UnavailableError)) throw error;
    // Its turn has come (it is the answer being chained): sent now, not behind later says.
    this.replyNow(connection, id, 'internal', `your message was not sent: ${error.message}; nothing was stored, try again shortly`);
  }

  /** Steps 8–9: `bye` to the user, `presence offline` to the others; the client closes first (10). */
  private quit(connection: Peer, member: Member, id: RequestId | undefined): void {
    this.depart(connection, 'quit', false);
    connection.close({ last: { type: 'bye', ...idField(id) }, waitForPeer: true });
    // After a quit the presence carries no reason (the other departures say why).
    this.announceOffline(member, undefined);
  }

  /** Extension: who is online (`users`), or who is in a room; paged like `welcome` when long. */
  private who(connection: Peer, frame: WhoFrame): void {
    const room = frame.room ?? LOBBY;
    if (!this.deps.hub.hasRoom(room)) return this.reply(connection, frame.id, 'unknown_room', `there is no room "${room}"`);
    this.sendUsers(connection, { type: 'users', users: this.deps.hub.roomUsers(room), ...(frame.room !== undefined && { room }), ...idField(frame.id) });
  }

  /**
   * A `users` answer, paged to fit (`more: true` on all but the last frame, same id and room).
   * Encoded here, page by page, through the one splitter every tool uses: no page can be too large.
   */
  private sendUsers(connection: Peer, frame: UsersFrame): void {
    for (const page of pageUserList(frame, this.deps.limits.listFrameBytes)) connection.deliver(encodeFrame(page));
  }

  /**
   * Extension: enter a room (created if needed). The answer is the room's `users`, then its last
   * messages and `history_end` with the room; the other members get `presence` with the room.
   * Joining a room one is in (lobby included) changes nothing but answers the same way.
   */
  private join(connection: Peer, member: Member, room: string, id: RequestId | undefined): void | Promise<void> {
    const { hub, limits } = this.deps;
    if (!hub.isInRoom(member, room)) {
      if (hub.roomCount(member) >= limits.maxRoomsPerUser) {
        return this.reply(connection, id, 'bad_request', `you are in ${limits.maxRoomsPerUser} rooms already (the most allowed); leave one first`);
      }
      hub.enterRoom(member, room);
      hub.send({ type: 'presence', user: member.user, status: 'online', room }, { room }, member);
      this.deps.events.emit('room', { id: connection.id, user: member.user, room, action: 'join' });
    }
    this.sendUsers(connection, { type: 'users', room, users: hub.roomUsers(room), ...idField(id) });
    const tail = this.deps.history.roomTail(room, limits.historyReplayLimit);
    if (!isPending(tail)) return this.joinReplay(connection, room, tail);
    // Read in the same turn as the member entered the room: from here its live frames are held.
    if (member instanceof PeerMember) member.gate ??= new ReplayGate(limits.maxOutputBytes);
    return this.lateJoinReplay(connection, member, room, tail);
  }

  /** The room's last messages after `join`, then `history_end` with the room. */
  private joinReplay(connection: Peer, room: string, messages: readonly StoredMessage[]): void {
    const { sent, truncated } = this.sendHistory(connection, messages);
    connection.send({ type: 'history_end', room, count: sent.length, last_msgid: sent.at(-1)?.msgid ?? 0, ...(truncated && { truncated }) });
  }

  /**
   * The join replay read from a shared store: written when it comes, then the frames held
   * meanwhile. If the store is away the user is in the room all the same: an empty replay, and an
   * `error` saying the history could not be read.
   */
  private async lateJoinReplay(connection: Peer, member: Member, room: string, tail: Promise<StoredMessage[]>): Promise<void> {
    let messages: StoredMessage[] = [];
    try {
      messages = await tail;
    } catch (error) {
      if (!(error instanceof UnavailableError)) {
        this.openGate(connection, member, NO_HORIZONS);
        throw error;
      }
      this.reply(connection, undefined, 'internal', `you joined "${room}", but its history cannot be read now: ${error.message}`);
    }
    this.joinReplay(connection, room, messages);
    this.openGate(connection, member, new Map<ConversationKey, number>([[`#${room}`, messages.at(-1)?.msgid ?? 0]]));
  }

  /** Extension: leave a room (never lobby); `ok`; the remaining members get `presence` offline with the room. */
  private leave(connection: Peer, member: Member, room: string, id: RequestId | undefined): void {
    const { hub } = this.deps;
    if (room === LOBBY) return this.reply(connection, id, 'bad_request', 'everyone stays in lobby: it cannot be left');
    if (!hub.hasRoom(room)) return this.reply(connection, id, 'unknown_room', `there is no room "${room}"`);
    if (!hub.leaveRoom(member, room)) return this.reply(connection, id, 'not_in_room', `you are not in "${room}"`);
    hub.send({ type: 'presence', user: member.user, status: 'offline', room }, { room });
    if (id !== undefined) connection.send({ type: 'ok', id });
    this.deps.events.emit('room', { id: connection.id, user: member.user, room, action: 'leave' });
  }

  /** Extension: page back through a room (member only) or a private conversation; then `history_end`. */
  private history(connection: Peer, member: Member, frame: HistoryFrame): void | Promise<void> {
    const { hub, history, limits } = this.deps;
    if (frame.room !== undefined && frame.to !== undefined) {
      return this.reply(connection, frame.id, 'bad_request', 'history is of a room or of a private conversation ("to"), not both');
    }
    const limit = Math.min(frame.limit ?? HISTORY_PAGE_DEFAULT, limits.historyPageLimit);
    const before = frame.before ?? Number.MAX_SAFE_INTEGER;
    if (frame.to !== undefined) {
      const to = frame.to;
      if (to === member.user) return this.reply(connection, frame.id, 'bad_request', 'there is no private conversation with yourself');
      if (!hub.isOnline(to) && this.refuseOfflineTarget(connection, frame.id, to)) return;
      return this.historyPage(connection, frame.id, { to }, history.conversationPage(member.user, to, before, limit));
    }
    const room = frame.room ?? LOBBY;
    if (!hub.hasRoom(room)) return this.reply(connection, frame.id, 'unknown_room', `there is no room "${room}"`);
    if (!hub.isInRoom(member, room)) return this.reply(connection, frame.id, 'not_in_room', `join "${room}" to read its history`);
    return this.historyPage(connection, frame.id, { room }, history.roomPage(room, before, limit));
  }

  /** A `history` page as read (now, or once a shared store answers), then `history_end`; `internal` if the store is away. */
  private historyPage(connection: Peer, id: RequestId | undefined, of: { room: string } | { to: string }, page: Awaitable<StoredMessage[]>): void | Promise<void> {
    if (isPending(page)) {
      return page.then(
        (messages) => this.historyPage(connection, id, of, messages),
        (error: unknown) => {
          if (!(error instanceof UnavailableError)) throw error;
          this.reply(connection, id, 'internal', `the history cannot be read now: ${error.message}; try again shortly`);
        },
      );
    }
    const { sent, truncated } = this.sendHistory(connection, page);
    connection.send({ type: 'history_end', ...of, count: sent.length, ...(truncated && { truncated }), ...idField(id) });
  }

  /**
   * Extension: the file-transfer frames, checked and relayed by {@link FileRelay}. An offer is
   * always answered `ok` with the transfer id (the sender needs it); the others only when they
   * carry an id. Refused chunks and acks cost a rate-limit token (accepted ones are paced by the window).
   */
  private file(connection: Peer, member: Member, frame: ClientFrame): void {
    const { files, hub } = this.deps;
    // A transfer relayed by another node of a cluster: that node checks it and answers.
    if ('transfer' in frame && !files.knows(frame.transfer) && hub.forwardFileFrame(member, frame)) return;
    const answer = (reply: ServerFrame): void => void connection.send(reply);
    const refused = (id: RequestId | undefined, code: ErrorCode, message: string, charged: boolean): void =>
      charged ? this.refuse(connection, id, code, message, true) : this.reply(connection, id, code, message);
    this.relayFile(member, frame, answer, refused, () => this.admit(connection, frame.id));
  }

  /**
   * Cluster: a file frame of a user on another node, for a transfer relayed here (forwarded by
   * that user's node). Checked by the same relay; the answer goes back to the user through the hub.
   */
  remoteFile(member: Member, frame: ClientFrame): void {
    const answer = (reply: ServerFrame): void => void this.deps.hub.sendTo(reply, [member]);
    const refused = (id: RequestId | undefined, code: ErrorCode, message: string): void => answer({ type: 'error', code, message, ...idField(id) });
    this.relayFile(member, frame, answer, refused, () => true);
  }

  /** The file relay's checks and answers, whoever carries them (see {@link file}, {@link remoteFile}). */
  private relayFile(
    member: Member,
    frame: ClientFrame,
    answer: (reply: ServerFrame) => void,
    refused: (id: RequestId | undefined, code: ErrorCode, message: string, charged: boolean) => void,
    chargeRepeat: () => boolean,
  ): void {
    const { files } = this.deps;
    let refusal: Refusal | undefined;
    switch (frame.type) {
      case 'file_offer': {
        const offered = files.offer(member, frame);
        if ('code' in offered) return refused(frame.id, offered.code, offered.message, false);
        answer({ type: 'ok', ...idField(frame.id), transfer: offered.transfer, users: offered.users });
        return;
      }
      case 'file_accept':
      case 'file_decline':
        refusal = files.answer(member, frame.transfer, frame.type === 'file_accept');
        break;
      case 'file_chunk':
        refusal = files.chunk(member, frame);
        if (refusal) return refused(frame.id, refusal.code, refusal.message, true);
        break;
      case 'file_ack': {
        const acked = files.ack(member, frame.transfer, frame.seq);
        if (acked === false && !chargeRepeat()) return; // a repeated ack is not free
        if (typeof acked === 'object') return refused(frame.id, acked.code, acked.message, true);
        break;
      }
      case 'file_end':
        refusal = files.end(member, frame.transfer);
        break;
      case 'file_result':
        refusal = files.result(member, frame.transfer, frame.ok, frame.reason);
        break;
      case 'file_cancel':
        refusal = files.cancel(member, frame.transfer, frame.reason);
        break;
      default:
        return;
    }
    if (refusal) return refused(frame.id, refusal.code, refusal.message, false);
    if (frame.id !== undefined) answer({ type: 'ok', id: frame.id });
  }

  // ------------------------------------------------------------ helpers

  /** Takes a user out of the chat (if logged in on this connection); tells the others if asked. */
  private depart(connection: Peer, reason: LogoutReason, announce: boolean): void {
    const member = connection.member;
    if (!member) return;
    connection.member = undefined;
    if (!this.deps.hub.leave(member)) return;
    this.deps.files.departed(member, reason);
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
  private reply(connection: Peer, id: RequestId | undefined, code: ErrorCode, message: string, logged = message): void {
    // Only an overlapping say is handled while earlier says wait for the store: its refusal (not
    // in the room, rate limited, …) waits for their answers, so the client sees them in order.
    const earlier = this.lastAnswers.get(connection);
    if (earlier === undefined) return this.replyNow(connection, id, code, message, logged);
    this.answerInTurn(
      connection,
      earlier.then(() => this.replyNow(connection, id, code, message, logged)),
    );
  }

  /** {@link reply}, now, whatever is pending. */
  private replyNow(connection: Peer, id: RequestId | undefined, code: ErrorCode, message: string, logged = message): void {
    connection.send({ type: 'error', code, message, ...idField(id) });
    this.deps.events.emit('error', { id: connection.id, remote: connection.remote, user: connection.member?.user, code, message: logged, fatal: false });
  }

  /** Sends an `error`, then closes this connection only (the others never notice but a presence). */
  private fatal(connection: Peer, code: ErrorCode, message: string, options: Pick<CloseOptions, 'flush' | 'drainMs'> = {}): void {
    if (connection.state !== 'open') return;
    this.deps.events.emit('error', { id: connection.id, remote: connection.remote, user: connection.member?.user, code, message, fatal: true });
    this.depart(connection, code, true);
    connection.close({ last: { type: 'error', code, message }, flush: options.flush ?? true, drainMs: options.drainMs });
  }
}

/** A rejection handled elsewhere (further down the same chain). */
function ignoreHere(): void {}

/** No conversation covered by a replay read later (one process, or a replay that failed). */
const NO_HORIZONS: ReadonlyMap<ConversationKey, number> = new Map();

/**
 * What a login replay read later covered: lobby, and the member's private conversations (the
 * queue included), each up to the highest msgid it read. Not `since`: a client may send any
 * number there (2^53 − 1 for "nothing old"), and nothing above what was read may be dropped.
 */
function loginHorizons([lobby = [], privates = [], queued = []]: readonly StoredMessage[][]): ReadonlyMap<ConversationKey, number> {
  const highest = (messages: readonly StoredMessage[]): number => messages.reduce((top, message) => Math.max(top, message.msgid), 0);
  return new Map<ConversationKey, number>([
    [`#${LOBBY}`, highest(lobby)],
    ['@', Math.max(highest(privates), highest(queued))],
  ]);
}

/** A stored message as a replayed `message` frame. */
function historyFrame(message: StoredMessage): MessageFrame {
  return {
    type: 'message',
    from: message.from,
    ...(message.room !== undefined ? { room: message.room } : { to: message.to as string }),
    text: message.text,
    ts: message.ts,
    msgid: message.msgid,
    history: true,
    ...(message.queued && { queued: true }),
  };
}

function idField(id: RequestId | undefined): { id?: RequestId } {
  return id === undefined ? {} : { id };
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
