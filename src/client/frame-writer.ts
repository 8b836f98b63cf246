import type { Socket } from 'node:net';
import { ClientError } from './errors.ts';

/**
 * Writes encoded frames to a socket without ignoring backpressure: once `socket.write()` returns
 * false, further frames wait in a bounded queue until the socket drains, in order.
 */
export class FrameWriter {
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private congested = false;

  /** @param maxQueuedBytes most bytes held while the socket is congested. */
  constructor(
    private readonly socket: Socket,
    private readonly maxQueuedBytes: number,
  ) {
    socket.on('drain', () => this.flush());
  }

  /** Bytes waiting in this writer's own queue (not counting the socket's buffer). */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  /**
   * Sends one frame's bytes now, or queues them behind a congested socket.
   * @throws ClientError `send_queue_full` when the queue would exceed its bound (nothing is queued).
   */
  write(bytes: Buffer): void {
    if (!this.congested) {
      this.congested = !this.socket.write(bytes);
      return;
    }
    if (this.queuedBytes + bytes.length > this.maxQueuedBytes) {
      throw new ClientError('send_queue_full', `the connection is congested: ${this.queuedBytes} bytes already wait to be sent (limit ${this.maxQueuedBytes})`);
    }
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
  }

  private flush(): void {
    this.congested = false;
    while (!this.congested && this.queue.length > 0) {
      const bytes = this.queue.shift() as Buffer;
      this.queuedBytes -= bytes.length;
      this.congested = !this.socket.write(bytes);
    }
  }
}
