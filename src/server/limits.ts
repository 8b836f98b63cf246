/**
 * Every tunable limit of the reference server, with its default. Pass a `Partial<ServerLimits>` as
 * `new ChatServer({ limits })`; anything left out keeps its default.
 */
export interface ServerLimits {
  /** Most connections open at once (logged in or not); one more gets `too_many_connections`. */
  maxConnections: number;
  /**
   * Most bytes waiting to be sent to one client (queued here plus buffered in the socket). A client
   * that reads too slowly to stay under it is disconnected with `output_overflow`.
   */
  maxOutputBytes: number;
  /** Frames per second a connection may send in the long run (token bucket refill rate). */
  rateLimitPerSecond: number;
  /** Frames a connection may send in one burst (token bucket size). */
  rateLimitBurst: number;
  /** A connection that has not logged in after this many ms gets `idle_timeout` and is closed. */
  loginTimeoutMs: number;
  /**
   * How long the server waits for the peer to close after the server said its last word
   * (`bye` after `quit`, a fatal error, shutdown) before it destroys the socket anyway.
   */
  closeGraceMs: number;
  /** Idle time before the first TCP keepalive probe, in ms (0 turns keepalive off). */
  keepAliveMs: number;
}

/** The defaults: generous for a classroom, tight enough that one client cannot hurt the others. */
export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxConnections: 1_500,
  maxOutputBytes: 8 * 1024 * 1024,
  rateLimitPerSecond: 20,
  rateLimitBurst: 40,
  loginTimeoutMs: 60_000,
  closeGraceMs: 2_000,
  keepAliveMs: 30_000,
});

/**
 * Merges overrides into the defaults and checks every value.
 * @throws RangeError naming the first limit that is not a usable number.
 */
export function resolveLimits(overrides: Partial<ServerLimits> = {}): ServerLimits {
  const limits: ServerLimits = { ...DEFAULT_SERVER_LIMITS };
  for (const [name, value] of Object.entries(overrides) as [keyof ServerLimits, unknown][]) {
    if (value === undefined) continue;
    if (!Object.hasOwn(DEFAULT_SERVER_LIMITS, name)) throw new RangeError(`unknown server limit "${name}"`);
    const minimum = name === 'keepAliveMs' ? 0 : name === 'rateLimitPerSecond' ? Number.MIN_VALUE : 1;
    if (typeof value !== 'number' || Number.isNaN(value) || value < minimum) {
      throw new RangeError(`server limit "${name}" must be a number ≥ ${minimum === Number.MIN_VALUE ? '> 0' : minimum}, got ${String(value)}`);
    }
    limits[name] = value;
  }
  return limits;
}
