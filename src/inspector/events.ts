import type { Direction } from '../protocol/index.ts';

/** A TCP endpoint. */
export interface Endpoint {
  host: string;
  port: number;
}

/** How the inspector cuts a byte stream into frames. `auto` decides per connection. */
export type FramingMode = 'auto' | 'chatlab' | 'lines' | 'raw';

/** The framing modes a user may ask for, in the order the help text lists them. */
export const FRAMING_MODES: readonly FramingMode[] = ['auto', 'chatlab', 'lines', 'raw'];

/** Faults the proxy injects on the path, to test a learner's framing and timeouts. */
export interface FaultOptions {
  /** Re-chunk forwarded bytes into pieces of at most this many bytes, each sent on its own. */
  fragment?: number;
  /** Hold every forwarded piece this many milliseconds before sending it on. */
  delayMs?: number;
  /** Cut (reset) a connection once this many bytes, both directions counted, went through it. */
  dropAfter?: number;
  /** UDP: drop each datagram with this probability (0–1). */
  loss?: number;
  /** UDP: hold back some datagrams (half of them, chosen by the seed) and send each after the next one: they arrive out of order. */
  reorder?: boolean;
  /** UDP: send each datagram a second time with this probability (0–1). */
  duplicate?: number;
  /** UDP: the seed of the fault decisions, so a run's losses can be replayed exactly. */
  seed?: number;
}

/** The transports the inspector taps: TCP byte streams, or UDP datagrams (one frame each). */
export type Transport = 'tcp' | 'udp';

/** What became of a datagram at the UDP tap: forwarded, dropped (fault injection), or an extra copy the tap sent. */
export type DatagramFate = 'delivered' | 'lost' | 'duplicate';

/**
 * One thing the proxy saw on the wire. This is the whole input of the diagram model and the
 * content of a trace file: the live proxy and a replayed trace produce the very same events.
 * `t` is wall-clock time in milliseconds since the epoch (fractional); `conn` numbers the client
 * connections from 1 in the order they arrived.
 */
export type WireEvent =
  /** The inspector is listening and will forward every connection to `target`. */
  | { kind: 'listening'; t: number; listen: Endpoint; target: Endpoint; framing: FramingMode; faults?: FaultOptions; transport?: Transport }
  /** A client opened a TCP connection to the inspector, or (UDP) a new address sent its first datagram (`peer` is its address). */
  | { kind: 'open'; t: number; conn: number; peer: string }
  /** The inspector's own connection to the server succeeded: the server accepted. */
  | { kind: 'upstream'; t: number; conn: number; local: string }
  /**
   * Bytes forwarded in one direction, exactly as they went on. `read` numbers the pieces of that
   * direction from 1: one TCP read of the sender, or one piece when `--fragment` re-chunks them.
   */
  | { kind: 'data'; t: number; conn: number; dir: Direction; read: number; bytes: Buffer }
  /**
   * UDP: one datagram between a client address (`conn`, announced by an `open`) and the server.
   * `seq` numbers the datagrams of that direction from 1 in the order they reached the tap, so a
   * datagram delivered after a later one shows as late; `fate` says whether it went on.
   */
  | { kind: 'datagram'; t: number; conn: number; dir: Direction; seq: number; bytes: Buffer; fate: DatagramFate }
  /** The sender of `dir` half-closed (sent FIN): c2s = the client closed its side, s2c = the server did. */
  | { kind: 'end'; t: number; conn: number; dir: Direction }
  /**
   * One side's socket is closed. `error` is set (e.g. `ECONNRESET`, `ECONNREFUSED`) when it ended
   * abnormally; `reset` when it was torn down without a FIN.
   */
  | { kind: 'close'; t: number; conn: number; side: 'client' | 'server'; error?: string; reset?: boolean }
  /** The inspector itself interfered (fault injection), e.g. cut the connection. */
  | { kind: 'fault'; t: number; conn: number; fault: 'drop'; detail: string }
  /**
   * The server accepted the inspector's connection but sent nothing within `ms` (no `hello`): not
   * a chatlab/1 server, or one too overloaded to accept. Only when the hello watch is on.
   */
  | { kind: 'silent'; t: number; conn: number; ms: number }
  /** The view fell behind and `bytes` bytes of `dir` were not decoded (forwarding was not affected). */
  | { kind: 'gap'; t: number; conn: number; dir: Direction; bytes: number };

/** The kinds of {@link WireEvent}. */
export type WireEventKind = WireEvent['kind'];

/** Current time in fractional milliseconds since the epoch (sub-millisecond resolution). */
export function now(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000) / 1000;
}
