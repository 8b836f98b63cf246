/**
 * The seam between the protocol rules (`ChatCore`) and a transport. A `Peer` is one client
 * as the core sees it, whatever carries its frames: the TCP `Connection` today, a WebSocket
 * connection or a user on another server process next, and a fake peer in the core's playbook
 * tests. It holds exactly what the core touches, nothing of sockets.
 */
import type { DecodeResult, RawFrame, ServerFrame } from '../protocol/index.ts';
import type { TimerHandle } from './clock.ts';
import type { Member } from './recipients.ts';

/** How a peer's connection ends. */
export interface CloseOptions {
  /** A last frame to send after everything queued (e.g. `bye` or a fatal `error`). */
  last?: ServerFrame;
  /** Whether frames already queued are still sent (false after an output overflow). Default true. */
  flush?: boolean;
  /**
   * Wait for the peer to close first (after `quit`: step 10 is the client's), ending our side when
   * it does. Otherwise the server ends its side now. Either way the transport is dropped after
   * `closeGraceMs` if the peer has not closed by then.
   */
  waitForPeer?: boolean;
  /**
   * How long (ms) the transport may stay open while it still holds bytes the peer has not taken
   * yet: a slow reader working through its backlog up to the last frame (after `output_overflow`).
   * Default (and never less than) `closeGraceMs`. Once it holds nothing more, the usual
   * `closeGraceMs` rule applies; past this, it is dropped whatever it still holds.
   */
  drainMs?: number;
}

/** What a transport reports when a client's output stops being accepted (the core then cuts it off). */
export interface OverflowInfo {
  /** Bytes that were waiting for the client (queued plus buffered in the transport). */
  pendingBytes: number;
  /** Set when the server cut the client off for being stuck while input was paused: for how long, in ms. */
  stalledMs?: number;
}

/** 'open': reading and answering. 'closing': the server said its last word, input is ignored. 'closed'. */
export type PeerState = 'open' | 'closing' | 'closed';

/** One client as the protocol rules see it. */
export interface Peer {
  /** A number naming this peer in events and logs. */
  readonly id: number;
  /** The client's address as `host:port` (for events and logs). */
  readonly remote: string;
  /** The client's IP address alone (what per-address limits count). */
  readonly address: string;
  /** The user logged in through this peer, as the hub knows them; undefined before login. Set by the core. */
  member: Member | undefined;
  /** The last user who logged in through this peer (kept after logout, for logs and events). Set by the core. */
  lastUser: string | undefined;
  /** Whether the peer still takes frames (see {@link PeerState}). */
  readonly state: PeerState;
  /** Encodes and queues one frame; false if it was dropped (closing, or the output bound was hit). */
  send(frame: ServerFrame | RawFrame): boolean;
  /** Queues already-encoded frame bytes (a broadcast shares one buffer among all its recipients). */
  deliver(bytes: Buffer): boolean;
  /** Ends the connection: optionally one last frame, then the close (see {@link CloseOptions}). */
  close(options?: CloseOptions): void;
  /** Runs `action` after `ms` unless the peer closes first. */
  after(ms: number, action: () => void): TimerHandle;
  /** Cancels a timer made by {@link after}. */
  cancel(timer: TimerHandle | undefined): void;
}

/** What the protocol rules do with a peer's input and life events; the transport calls it. */
export interface PeerHandler {
  /**
   * One decoded frame (or framing error), in arrival order. If it returns a promise, the transport
   * holds the next item until it settles, so a peer's frames are always handled in order; only
   * items the handler says {@link overlaps} may be handed over meanwhile (a bounded number).
   */
  receive(peer: Peer, item: DecodeResult): void | Promise<void>;
  /**
   * Whether `item` may be handed over while earlier items' promises are still pending, all of them
   * overlapping too (a logged-in `say`: its checks are synchronous, its record is issued at once,
   * and the handler answers overlapping items in their order). Asked only when a promise is pending
   * or was just returned, so a handler that answers at once never pays for it. Absent: never.
   */
  overlaps?(peer: Peer, item: DecodeResult): boolean;
  /** The client closed its sending side (after every earlier frame was handled). */
  peerEnded(peer: Peer): void;
  /**
   * The peer's output passed its bound, or the server's output budget found it stuck in
   * everyone's way (`info.stalledMs` set); the client must be cut off.
   */
  overflowed(peer: Peer, info: OverflowInfo): void;
  /** A handler threw or rejected: a server bug, reported, never fatal to the process. */
  failed(peer: Peer, error: unknown): void;
  /** The transport reported an error (ECONNRESET, EPIPE, …); {@link closed} follows. */
  socketError(peer: Peer, error: Error): void;
  /** The transport is closed: the peer is gone. */
  closed(peer: Peer): void;
}
