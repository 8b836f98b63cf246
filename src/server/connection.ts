import type { Socket } from 'node:net';
import { FrameDecoder, FrameTooLargeError, encodeFrame, type DecodeResult, type RawFrame, type ServerFrame } from '../protocol/index.ts';
import { SYSTEM_CLOCK, type Clock, type TimerHandle } from './clock.ts';
import type { ServerLimits } from './limits.ts';
import { FlushScheduler, Outbox } from './outbox.ts';
import type { InputConsumer, OutputBudget } from './output-budget.ts';
import type { Member } from './hub.ts';
import type { CloseOptions, Peer, PeerHandler, PeerState } from './peer.ts';

export type { CloseOptions } from './peer.ts';

/** What the protocol logic does with a TCP connection's input and life events (the {@link PeerHandler} of the core). */
export type ConnectionHandler = PeerHandler;

/**
 * Bytes of every connection's output bound kept free for the frame that closes it (the
 * `output_overflow` error is ~150 bytes), so the limit never makes that frame impossible.
 */
export const CLOSING_FRAME_RESERVE = 1024;

/**
 * How many overlapping items (a cluster's `say`s, each waiting for its Redis record) one connection
 * may have in flight; past it the socket is paused as for any pending item. Enough to fill a Redis
 * round trip with a pipelining client's burst, small enough to bound what one client holds.
 */
export const MAX_OVERLAPPING = 64;

const END_OF_INPUT = Symbol('end of input');
type InboxItem = DecodeResult | typeof END_OF_INPUT;

/** The socket's own link to its connection, so its listeners are shared functions rather than closures per connection. */
const CONNECTION = Symbol('chatlab connection');
type OwnedSocket = Socket & { [CONNECTION]: Connection };

/**
 * One client connection: the thin socket shell around the protocol logic. It decodes input with
 * {@link FrameDecoder}, hands items to the handler strictly in order, owns the bounded
 * {@link Outbox} and the connection's timers, and closes cleanly whatever
 * the peer does. It never throws out of a socket callback. While the server's {@link OutputBudget}
 * is paused it handles no frame: it parks itself, pauses its socket, and carries on where it
 * stopped when the budget resumes it (frames already read wait in the inbox; nothing is lost).
 */
export class Connection implements Peer, InputConsumer {
  /** The user logged in on this connection, as the hub knows them; undefined before login. */
  member: Member | undefined;
  /** The last user who logged in on this connection (kept after logout, for logs and events). */
  lastUser: string | undefined;
  /** Resolves once the socket is closed. */
  readonly closed: Promise<void>;
  /** The peer's address as `host:port`. */
  readonly remote: string;
  /** The peer's IP address alone (what per-address limits count). */
  readonly address: string;
  /** 'open': reading and answering. 'closing': said its last word, input ignored. 'closed'. */
  private stateValue: PeerState = 'open';
  private readonly outbox: Outbox;
  private readonly decoder = new FrameDecoder();
  private inbox: InboxItem[] = [];
  private inboxHead = 0;
  /** Items handed to the handler whose promise has not settled yet. */
  private inFlight = 0;
  /** Whether what is in flight overlaps (then later overlapping items may join it, up to {@link MAX_OVERLAPPING}). */
  private overlapping = false;
  /** Waiting in the output budget's queue for room (input paused). */
  private parked = false;
  private peerHasEnded = false;
  private waitingForPeer = false;
  /** Timers made by {@link after} and still pending (an array made on first use: most connections have one or none). */
  private timers: TimerHandle[] | undefined;
  /** While closing: when (`clock.now()`) the socket is destroyed even if it still holds unsent bytes. */
  private drainDeadline = 0;
  private resolveClosed!: () => void;

  /**
   * @param socket the accepted socket (created with `allowHalfOpen: true`).
   * @param id a number naming this connection in events and logs.
   * @param budget the server's account of queued output, which may pause this connection's input.
   * @param clock the timers' clock (the close grace, the core's login deadline).
   */
  constructor(
    readonly socket: Socket,
    readonly id: number,
    private readonly limits: ServerLimits,
    scheduler: FlushScheduler,
    private readonly handler: ConnectionHandler,
    private readonly budget: OutputBudget,
    private readonly clock: Clock = SYSTEM_CLOCK,
  ) {
    this.address = socket.remoteAddress ?? '?';
    this.remote = `${this.address}:${socket.remotePort ?? '?'}`;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    // The outbox's bound leaves room for the closing frame: the `output_overflow` error written
    // after an overflow still fits within maxOutputBytes.
    const outboxBytes = Math.max(0, limits.maxOutputBytes - CLOSING_FRAME_RESERVE);
    this.outbox = new Outbox(socket, outboxBytes, scheduler, (info) => this.guard(() => this.handler.overflowed(this, info)), budget);
    socket.setNoDelay(true); // we coalesce writes ourselves; Nagle would only add latency
    if (limits.keepAliveMs > 0) socket.setKeepAlive(true, limits.keepAliveMs);
    // Shared listeners (found through the socket) instead of four closures per connection: with
    // 10,000 users online, each per-connection object counts.
    (socket as OwnedSocket)[CONNECTION] = this;
    socket.on('data', Connection.onSocketData);
    socket.on('end', Connection.onSocketEnd);
    socket.on('error', Connection.onSocketError);
    socket.on('close', Connection.onSocketClose);
  }

  private static onSocketData(this: Socket, chunk: Buffer): void {
    (this as OwnedSocket)[CONNECTION].onData(chunk);
  }

  private static onSocketEnd(this: Socket): void {
    (this as OwnedSocket)[CONNECTION].onEnd();
  }

  private static onSocketError(this: Socket, error: Error): void {
    const connection = (this as OwnedSocket)[CONNECTION];
    connection.guard(() => connection.handler.socketError(connection, error));
  }

  private static onSocketClose(this: Socket): void {
    (this as OwnedSocket)[CONNECTION].onClose();
  }

  /** 'open', 'closing' (the server has said its last word) or 'closed'. */
  get state(): PeerState {
    return this.stateValue;
  }

  /** Bytes waiting to be sent to this client. */
  get pendingOutputBytes(): number {
    return this.outbox.pendingBytes;
  }

  /**
   * Encodes and queues one frame for this client; returns false if it was dropped (connection
   * closing, or the outbox overflowed).
   */
  send(frame: ServerFrame | RawFrame): boolean {
    if (this.stateValue !== 'open') return false;
    let bytes: Buffer;
    try {
      bytes = encodeFrame(frame);
    } catch (error) {
      if (!(error instanceof FrameTooLargeError)) throw error;
      this.handler.failed(this, error);
      return false;
    }
    return this.outbox.push(bytes);
  }

  /** Queues already-encoded bytes (a broadcast shares one buffer among all its recipients). */
  deliver(bytes: Buffer): boolean {
    if (this.stateValue !== 'open') return false;
    return this.outbox.push(bytes);
  }

  /** Runs `action` after `ms` unless the connection closes first. */
  after(ms: number, action: () => void): TimerHandle {
    const timer = this.clock.setTimer(ms, () => {
      this.forget(timer);
      action();
    });
    (this.timers ??= []).push(timer);
    return timer;
  }

  /** Cancels a timer made by {@link after}. */
  cancel(timer: TimerHandle | undefined): void {
    if (!timer) return;
    this.clock.clearTimer(timer);
    this.forget(timer);
  }

  private forget(timer: TimerHandle): void {
    const timers = this.timers;
    const at = timers?.indexOf(timer) ?? -1;
    if (at === -1) return;
    timers?.splice(at, 1);
    if (timers?.length === 0) this.timers = undefined;
  }

  /** Ends the connection: optionally one last frame, then the TCP close (see {@link CloseOptions}). */
  close(options: CloseOptions = {}): void {
    if (this.stateValue !== 'open') {
      // Already closing (e.g. a slow reader draining its last frames): a later close, such as the
      // server's shutdown, gets no more than its own grace, so stop() is never held up by it.
      if (this.stateValue === 'closing') this.drainDeadline = Math.min(this.drainDeadline, this.clock.now() + this.drainMsOf(options));
      return;
    }
    this.stateValue = 'closing';
    this.inbox = [];
    this.inboxHead = 0;
    if (this.parked) {
      // Input is ignored from now on, but it must be read: the peer's close has to be seen.
      this.parked = false;
      this.socket.resume();
    }
    let last: Buffer | undefined;
    try {
      last = options.last ? encodeFrame(options.last) : undefined;
    } catch (error) {
      this.handler.failed(this, error);
    }
    this.outbox.close({ flush: options.flush ?? true, last });
    this.waitingForPeer = options.waitForPeer === true && !this.peerHasEnded;
    if (!this.waitingForPeer) this.endSocket();
    const graceMs = this.limits.closeGraceMs;
    this.drainDeadline = this.clock.now() + this.drainMsOf(options);
    this.after(graceMs, this.onCloseGraceOver);
  }

  /** How long a close lets the socket drain: `drainMs`, never less than `closeGraceMs`. */
  private drainMsOf(options: CloseOptions): number {
    const graceMs = this.limits.closeGraceMs;
    return Math.max(graceMs, options.drainMs ?? graceMs);
  }

  /**
   * A grace period after the last word is over and the peer has not closed. If the socket has
   * handed everything to the kernel, it is destroyed: the kernel still delivers what it holds, and
   * the FIN after it. If it still holds bytes (a slow reader, the last frame behind them), it is
   * given more time, up to the drain deadline: destroying it now would cut a frame in half.
   */
  private readonly onCloseGraceOver = (): void => {
    const left = this.drainDeadline - this.clock.now();
    if (left <= 0 || this.socket.writableLength === 0) {
      this.socket.destroy();
      return;
    }
    this.after(Math.min(this.limits.closeGraceMs, left), this.onCloseGraceOver);
  };

  /** Drops the connection at once, without a last word. */
  destroy(): void {
    this.stateValue = this.stateValue === 'closed' ? 'closed' : 'closing';
    this.outbox.close({ flush: false });
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.stateValue !== 'open') return;
    for (const item of this.decoder.push(chunk)) this.inbox.push(item);
    this.pump();
  }

  private onEnd(): void {
    this.peerHasEnded = true;
    if (this.stateValue === 'open') {
      for (const item of this.decoder.end()) this.inbox.push(item);
      this.inbox.push(END_OF_INPUT);
      this.pump();
    } else if (this.waitingForPeer) {
      this.waitingForPeer = false;
      this.endSocket();
    }
  }

  private onClose(): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    for (const timer of this.timers ?? []) this.clock.clearTimer(timer);
    this.timers = undefined;
    this.outbox.close({ flush: false });
    this.inbox = [];
    this.inboxHead = 0;
    this.guard(() => this.handler.closed(this));
    this.resolveClosed();
  }

  /** Runs a handler callback from a socket event: a bug in it is reported, never thrown into Node. */
  private guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      try {
        this.handler.failed(this, error);
      } catch {
        // Reporting failed too; there is nothing sensible left to do but carry on.
      }
    }
  }

  /** Called by the output budget once there is room again: read and handle input again. */
  resumeInput(): void {
    if (!this.parked) return;
    this.parked = false;
    if (this.stateValue !== 'open') return;
    this.pumpAndRead();
  }

  /**
   * Hands queued items to the handler in order. While one's promise is pending, the next waits
   * (the socket paused) unless everything in flight overlaps and so does the next, within
   * {@link MAX_OVERLAPPING}; while the output budget is paused everything waits in the inbox.
   */
  private pump(): void {
    while (this.stateValue === 'open' && this.inboxHead < this.inbox.length) {
      if (this.parked || this.budget.paused) {
        this.park();
        break;
      }
      const item = this.inbox[this.inboxHead] as InboxItem;
      if (this.inFlight > 0 && !this.mayOverlap(item)) {
        this.socket.pause();
        break;
      }
      this.inboxHead++;
      let pending: void | Promise<void>;
      try {
        pending = item === END_OF_INPUT ? this.handler.peerEnded(this) : this.handler.receive(this, item);
      } catch (error) {
        this.guard(() => this.handler.failed(this, error));
        continue;
      }
      if (pending) this.hold(item, pending);
    }
    if (this.inboxHead >= this.inbox.length) {
      this.inbox = [];
      this.inboxHead = 0;
    }
  }

  /** Whether `item` may join what is in flight (see {@link pump}). */
  private mayOverlap(item: InboxItem): boolean {
    return this.overlapping && this.inFlight < MAX_OVERLAPPING && item !== END_OF_INPUT && this.handler.overlaps?.(this, item) === true;
  }

  /** Counts a pending item until it settles; the first one in flight decides whether later ones may overlap it. */
  private hold(item: InboxItem, pending: Promise<void>): void {
    if (this.inFlight === 0) this.overlapping = item !== END_OF_INPUT && this.handler.overlaps?.(this, item) === true;
    this.inFlight++;
    if (!this.overlapping || this.inFlight >= MAX_OVERLAPPING) this.socket.pause();
    pending.catch(this.onHandlerRejected).finally(this.onSettled);
  }

  private readonly onHandlerRejected = (error: unknown): void => {
    this.guard(() => this.handler.failed(this, error));
  };

  private readonly onSettled = (): void => {
    this.inFlight--;
    this.pumpAndRead();
  };

  /** Hands on what the inbox holds, then reads the socket again unless a pending item or the budget still holds it. */
  private pumpAndRead(): void {
    this.pump();
    if (this.parked || this.stateValue !== 'open') return;
    const held = this.inFlight > 0 && (!this.overlapping || this.inFlight >= MAX_OVERLAPPING || this.inboxHead < this.inbox.length);
    if (!held) this.socket.resume();
  }

  private park(): void {
    if (this.parked) return;
    this.parked = true;
    this.socket.pause();
    this.budget.park(this);
  }

  private endSocket(): void {
    if (!this.socket.writableEnded && !this.socket.destroyed) this.socket.end();
  }
}
