/**
 * A {@link Peer} with no transport, for the core's playbook: what the server sends it is encoded,
 * then decoded back (the real wire bytes, one shared buffer per broadcast) into a list the script
 * consumes; what the script sends it is decoded as a connection would, then handed to the core.
 * It has no outbox: output reaches the list at once, so `flush: false` drops nothing here (the
 * outbox and its bounds are tested over TCP). Its timers run on the playbook's manual clock.
 */
import { FrameDecoder, FrameTooLargeError, encodeFrame, type DecodeResult, type RawFrame, type ServerFrame } from '../src/protocol/index.ts';
import type { Clock, CloseOptions, Member, Peer, PeerHandler, PeerState, TimerHandle } from '../src/server/index.ts';

/** One scripted client of the playbook. */
export class FakePeer implements Peer {
  member: Member | undefined;
  lastUser: string | undefined;
  readonly remote: string;
  /** Frames the server sent this peer that the script has not consumed yet, oldest first. */
  readonly received: RawFrame[] = [];
  private stateValue: PeerState = 'open';
  private readonly fromServer = new FrameDecoder();
  private readonly fromClient = new FrameDecoder();
  private readonly timers = new Set<TimerHandle>();
  private inputEnded = false;

  /**
   * @param name what the script calls this peer.
   * @param closeGraceMs how long a close that waits for the client (after `quit`) waits before it gives up.
   */
  constructor(
    readonly name: string,
    readonly id: number,
    readonly address: string,
    private readonly handler: PeerHandler,
    private readonly clock: Clock,
    private readonly closeGraceMs: number,
  ) {
    this.remote = `${address}:${40_000 + id}`;
  }

  get state(): PeerState {
    return this.stateValue;
  }

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
    return this.deliver(bytes);
  }

  deliver(bytes: Buffer): boolean {
    if (this.stateValue !== 'open') return false;
    this.take(bytes);
    return true;
  }

  close(options: CloseOptions = {}): void {
    if (this.stateValue !== 'open') return;
    this.stateValue = 'closing';
    if (options.last) {
      try {
        this.take(encodeFrame(options.last));
      } catch (error) {
        this.handler.failed(this, error);
      }
    }
    // As over TCP: after `quit` the server waits for the client to close first (or the grace to
    // pass); otherwise it closes its side and the transport is gone a moment later.
    if (options.waitForPeer && !this.inputEnded) this.after(this.closeGraceMs, this.disconnected);
    else queueMicrotask(this.disconnected);
  }

  after(ms: number, action: () => void): TimerHandle {
    const timer = this.clock.setTimer(ms, () => {
      this.timers.delete(timer);
      action();
    });
    this.timers.add(timer);
    return timer;
  }

  cancel(timer: TimerHandle | undefined): void {
    if (!timer) return;
    this.clock.clearTimer(timer);
    this.timers.delete(timer);
  }

  /** Decodes bytes the client sends, as a connection would: the items to hand to the core, in order. */
  decodeInput(bytes: Uint8Array): DecodeResult[] {
    return this.fromClient.push(bytes);
  }

  /** The client closes its sending side: what the decoder still held (a cut-off frame), if anything. */
  endInput(): DecodeResult[] {
    this.inputEnded = true;
    return this.fromClient.end();
  }

  /** The transport is gone (the client's close, a lost connection, or the end of a close): the core hears `closed` once. */
  readonly disconnected = (): void => {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    for (const timer of this.timers) this.clock.clearTimer(timer);
    this.timers.clear();
    this.handler.closed(this);
  };

  private take(bytes: Buffer): void {
    for (const item of this.fromServer.push(bytes)) {
      if (!item.ok) throw new Error(`the server sent ${this.name} bytes that are not a frame: ${item.message}`);
      this.received.push(item.frame);
    }
  }
}
