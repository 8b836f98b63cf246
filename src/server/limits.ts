import { MAX_FRAME_BYTES } from '../protocol/index.ts';

/**
 * Every tunable limit of the reference server, with its default. Pass a `Partial<ServerLimits>` as
 * `new ChatServer({ limits })`; anything left out keeps its default.
 */
export interface ServerLimits {
  /**
   * Most connections open at once (logged in or not); one more gets `too_many_connections`.
   * Default 10,000: a room of 10,000 users on one machine. The process needs a file-descriptor
   * limit above it (`ulimit -n`), or accepts fail with EMFILE (reported as an `error` event).
   */
  maxConnections: number;
  /**
   * Most bytes waiting to be sent to one client (queued here plus buffered in the socket). A client
   * that reads too slowly to stay under it is disconnected with `output_overflow`.
   *
   * Default 2 MiB. Clients that keep reading are held together under {@link outputHighWaterBytes};
   * this bound only sizes what one client that stopped reading can hold (at most
   * `maxConnections` × this in the worst case, hence far below the old 8 MiB). It must stay above
   * the largest burst a healthy client gets in one go: a login replays up to
   * 2 × `historyReplayLimit` + `offlineReplayLimit` = 300 messages, about 1.2 MiB if every one is
   * 4,000 ASCII characters long. A replay (login, join, `history` page) is cut to half of this
   * anyway, oldest messages first (`history_end` then says `"truncated": true`), so long or
   * escape-heavy messages cannot push a client over it.
   */
  maxOutputBytes: number;
  /**
   * Server-level backpressure: when the bytes queued in memory for all clients together pass this,
   * the server stops reading input (every connection's further frames wait, in the kernel and the
   * senders) until the writes bring the total down to {@link outputLowWaterBytes}. So an offered
   * load above capacity costs latency, not memory; nothing is lost. Clients stuck for
   * {@link outputStallMs} cannot hold the server: see there.
   *
   * Default 32 MiB: enough for a broadcast of many messages to 1,000 clients per write (the
   * writes stay large, so throughput stays at its peak), small next to a machine's memory.
   */
  outputHighWaterBytes: number;
  /**
   * The server reads input again once the bytes queued for all clients fall to this. Default
   * 16 MiB; when only {@link outputHighWaterBytes} is overridden, half of it. Must not exceed it.
   */
  outputLowWaterBytes: number;
  /**
   * While input is paused by {@link outputHighWaterBytes}, a client whose socket has not drained
   * for this long (ms; no `'drain'` since a write it pushed back on) counts as stuck. When the stuck
   * clients alone keep the total above {@link outputLowWaterBytes}, the largest of them are cut
   * off with `output_overflow` until it is below, so a few clients that never read cannot stall
   * everyone for longer than about this. Default 1,000 ms.
   */
  outputStallMs: number;
  /** Frames per second a connection may send in the long run (token bucket refill rate). */
  rateLimitPerSecond: number;
  /** Frames a connection may send in one burst (token bucket size). */
  rateLimitBurst: number;
  /** A connection that has not logged in after this many ms gets `idle_timeout` and is closed. */
  loginTimeoutMs: number;
  /**
   * How long the server waits for the peer to close after the server said its last word
   * (`bye` after `quit`, a fatal error, shutdown) before it destroys the socket anyway. After
   * `output_overflow` the socket stays longer while it still holds bytes the client has not read
   * (up to 10 × this), so that the error, behind them, arrives whole.
   */
  closeGraceMs: number;
  /** Idle time before the first TCP keepalive probe, in ms (0 turns keepalive off). */
  keepAliveMs: number;
  /**
   * Most connections open at once from one IP address; one more gets `too_many_connections` and is
   * closed. Loopback addresses are exempt while {@link exemptLoopback} is true.
   */
  maxConnectionsPerAddress: number;
  /** Whether 127.0.0.0/8 and ::1 escape {@link maxConnectionsPerAddress} (a classroom on one machine). */
  exemptLoopback: boolean;
  /**
   * Failed attempts one connection may make in a burst: logins (wrong password, unknown user),
   * registrations (name taken or look-alike) and `unknown_user` answers to a private `say` or
   * `history`. A token bucket refilled over {@link loginAttemptWindowMs}, reserved before any
   * password work (see LoginThrottle): once it is empty, `login` and `register` get `rate_limited`
   * without the password being checked, and so do `say`/`history` to a user who is not online.
   */
  loginAttemptsPerConnection: number;
  /** The same, for all connections from one IP address together (loopback included). */
  loginAttemptsPerAddress: number;
  /** Time in which an empty login-attempt bucket fills up again, in ms. */
  loginAttemptWindowMs: number;
  /** Messages of each conversation replayed after `welcome` and after `join` (0 turns replay off). */
  historyReplayLimit: number;
  /** Largest `limit` a `history` request may ask for (a larger one is lowered to this). */
  historyPageLimit: number;
  /**
   * Messages kept per room and per private conversation (a pair of users); older ones are
   * deleted from the database as new ones arrive (0 keeps everything). Private messages still
   * waiting for their offline recipient are never deleted before they are delivered.
   */
  historyRetainPerConversation: number;
  /** Most stored private messages delivered to a user at one login (the rest wait for the next). */
  offlineReplayLimit: number;
  /** Rooms (besides lobby) one user may be in at once. */
  maxRoomsPerUser: number;
  /** Largest file a `file_offer` may announce, in bytes; larger gets `file_too_large`. */
  maxFileBytes: number;
  /** File transfers one user may have offered and not finished at once; one more gets `rate_limited`. */
  maxTransfersPerUser: number;
  /**
   * Largest frame of a user list (`welcome`, `users`), newline included: a longer list is paged
   * (`more`). Default and maximum: the frame limit, 65,536. Lower it only to see paging with a few
   * users (tests, demos); at least 1,024, so that any page has room for a name.
   */
  listFrameBytes: number;
}

/** The defaults: generous for a classroom, tight enough that one client cannot hurt the others. */
export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxConnections: 10_000,
  maxOutputBytes: 2 * 1024 * 1024,
  outputHighWaterBytes: 32 * 1024 * 1024,
  outputLowWaterBytes: 16 * 1024 * 1024,
  outputStallMs: 1_000,
  rateLimitPerSecond: 20,
  rateLimitBurst: 40,
  loginTimeoutMs: 60_000,
  closeGraceMs: 2_000,
  keepAliveMs: 30_000,
  maxConnectionsPerAddress: 20,
  exemptLoopback: true,
  loginAttemptsPerConnection: 5,
  loginAttemptsPerAddress: 20,
  loginAttemptWindowMs: 60_000,
  historyReplayLimit: 50,
  historyPageLimit: 200,
  historyRetainPerConversation: 10_000,
  offlineReplayLimit: 200,
  maxRoomsPerUser: 32,
  maxFileBytes: 100 * 1024 * 1024,
  maxTransfersPerUser: 8,
  listFrameBytes: MAX_FRAME_BYTES,
});

/** Smallest {@link ServerLimits.listFrameBytes}: room for the largest envelope (a 64-character id escaped) and a name. */
export const MIN_LIST_FRAME_BYTES = 1_024;

/**
 * Limits that may be 0: keepalive off, history replay off, keep all history, resume input only
 * once all output is written.
 */
const MAY_BE_ZERO = new Set<keyof ServerLimits>(['keepAliveMs', 'historyReplayLimit', 'historyRetainPerConversation', 'outputLowWaterBytes']);

/**
 * Merges overrides into the defaults and checks every value.
 * @throws RangeError naming the first limit that is not a usable number.
 */
export function resolveLimits(overrides: Partial<ServerLimits> = {}): ServerLimits {
  const limits: ServerLimits = { ...DEFAULT_SERVER_LIMITS };
  for (const [name, value] of Object.entries(overrides) as [keyof ServerLimits, unknown][]) {
    if (value === undefined) continue;
    if (!Object.hasOwn(DEFAULT_SERVER_LIMITS, name)) throw new RangeError(`unknown server limit "${name}"`);
    if (typeof DEFAULT_SERVER_LIMITS[name] === 'boolean') {
      if (typeof value !== 'boolean') throw new RangeError(`server limit "${name}" must be true or false, got ${String(value)}`);
      (limits as unknown as Record<string, unknown>)[name] = value;
      continue;
    }
    const minimum = MAY_BE_ZERO.has(name) ? 0 : name === 'rateLimitPerSecond' ? Number.MIN_VALUE : 1;
    if (typeof value !== 'number' || Number.isNaN(value) || value < minimum) {
      throw new RangeError(`server limit "${name}" must be a number ${minimum === Number.MIN_VALUE ? '> 0' : `≥ ${minimum}`}, got ${String(value)}`);
    }
    (limits as unknown as Record<string, unknown>)[name] = value;
  }
  if (!Number.isInteger(limits.listFrameBytes) || limits.listFrameBytes < MIN_LIST_FRAME_BYTES || limits.listFrameBytes > MAX_FRAME_BYTES) {
    throw new RangeError(`server limit "listFrameBytes" must be a whole number from ${MIN_LIST_FRAME_BYTES} to ${MAX_FRAME_BYTES}, got ${limits.listFrameBytes}`);
  }
  if (overrides.outputHighWaterBytes !== undefined && overrides.outputLowWaterBytes === undefined) {
    limits.outputLowWaterBytes = Math.floor(limits.outputHighWaterBytes / 2);
  }
  if (limits.outputLowWaterBytes > limits.outputHighWaterBytes) {
    throw new RangeError(`server limit "outputLowWaterBytes" (${limits.outputLowWaterBytes}) must not exceed "outputHighWaterBytes" (${limits.outputHighWaterBytes})`);
  }
  return limits;
}
