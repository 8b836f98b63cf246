import type { Socket } from 'node:net';

/**
 * Flushes every outbox that got frames during this event-loop turn, once, in a `setImmediate`
 * (after all of the turn's reads were handled). One scheduler serves the whole server, so a
 * broadcast to 1,000 clients costs one timer, not 1,000.
 */
export class FlushScheduler {
  private dirty = new Set<Outbox>();
  private scheduled = false;

  /** Marks an outbox as having frames to write this turn. */
  schedule(outbox: Outbox): void {
    this.dirty.add(outbox);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.run);
  }

  private readonly run = (): void => {
    this.scheduled = false;
    const batch = this.dirty;
    this.dirty = new Set();
    for (const outbox of batch) outbox.flush();
  };
}

/**
 * One client's bounded output queue. Frames (already-encoded buffers, often the very same buffer
 * shared by every recipient of a broadcast) are queued, then written once per event-loop turn as
 * ONE `write` of their concatenation. When the socket reports back-pressure (`write` returned
 * false) nothing more is written until `'drain'`; frames keep queueing up to `maxBytes` in all
 * (queued here + buffered in the socket). Past that the client is too slow: the outbox stops
 * accepting and calls `onOverflow` once (on the next tick, never inside the caller's loop).
 */
export class Outbox {
  private chunks: Buffer[] = [];
  private queuedBytes = 0;
  private waitingForDrain = false;
  private state: 'open' | 'overflowed' | 'closed' = 'open';

  /**
   * @param socket where the bytes go.
   * @param maxBytes most bytes allowed to be pending for this client.
   * @param scheduler the server's shared flush scheduler.
   * @param onOverflow called once when `maxBytes` would be exceeded.
   */
  constructor(
    private readonly socket: Socket,
    private readonly maxBytes: number,
    private readonly scheduler: FlushScheduler,
    private readonly onOverflow: (pendingBytes: number) => void,
  ) {
    socket.on('drain', () => {
      this.waitingForDrain = false;
      this.flush();
    });
  }

  /** Bytes accepted but not yet handed to the kernel (queued here plus buffered in the socket). */
  get pendingBytes(): number {
    return this.queuedBytes + this.socket.writableLength;
  }

  /** Whether the outbox still accepts frames. */
  get isOpen(): boolean {
    return this.state === 'open';
  }

  /**
   * Queues bytes for this turn's write. Returns false when they were dropped: the outbox is closed,
   * the socket is gone, or this would pass the bound (which triggers the overflow).
   */
  push(bytes: Buffer): boolean {
    if (this.state !== 'open' || !this.socket.writable) return false;
    if (this.pendingBytes + bytes.length > this.maxBytes) {
      this.overflow();
      return false;
    }
    this.chunks.push(bytes);
    this.queuedBytes += bytes.length;
    if (!this.waitingForDrain) this.scheduler.schedule(this);
    return true;
  }

  /** Writes everything queued as one write, unless the socket asked us to wait for `'drain'`. */
  flush(): void {
    if (this.waitingForDrain || this.queuedBytes === 0) return;
    if (!this.socket.writable) {
      this.discard();
      return;
    }
    const data = this.takeQueued();
    if (!this.socket.write(data)) this.waitingForDrain = true;
  }

  /**
   * Closes the outbox for good. With `flush`, whatever is queued is handed to the socket now (even
   * while waiting for 'drain': it is bounded, and the connection is ending), plus `last` if given;
   * otherwise the queue is dropped. The caller then ends the socket.
   */
  close(options: { flush: boolean; last?: Buffer }): void {
    if (this.state === 'closed') return;
    const keep = options.flush && this.state === 'open';
    this.state = 'closed';
    if (!this.socket.writable) {
      this.discard();
      return;
    }
    if (keep && this.queuedBytes > 0) this.socket.write(this.takeQueued());
    else this.discard();
    if (options.last) this.socket.write(options.last);
  }

  private overflow(): void {
    if (this.state !== 'open') return;
    this.state = 'overflowed';
    const pending = this.pendingBytes;
    this.discard();
    process.nextTick(this.onOverflow, pending);
  }

  private takeQueued(): Buffer {
    const data = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.queuedBytes);
    this.chunks = [];
    this.queuedBytes = 0;
    return data;
  }

  private discard(): void {
    this.chunks = [];
    this.queuedBytes = 0;
  }
}
