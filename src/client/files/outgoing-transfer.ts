import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { FILE_WINDOW_CHUNKS, MAX_FILE_CHUNK_BYTES } from '../../protocol/index.ts';
import { ClientError } from '../errors.ts';
import type { FileServerFrame } from '../chat-client.ts';
import { percent } from './bytes.ts';
import type { FileLink } from './file-link.ts';
import type { TransferEvent, TransferTarget } from './transfer-events.ts';

/** Settings of one outgoing transfer. */
export interface OutgoingTransferOptions {
  link: FileLink;
  transfer: string;
  path: string;
  name: string;
  size: number;
  sha256: string;
  target: TransferTarget;
  /** Who is expected to answer (the user; a room's other members). Sending starts once all did. */
  expected: ReadonlySet<string>;
  /** Room offers: start sending this long after the first accept even if some members never answer. */
  startDelayMs: number;
  /** Give up when nobody accepted within this time. */
  offerTimeoutMs: number;
  /** After `file_end`, how long to wait for every receiver's `file_result`. */
  resultTimeoutMs: number;
  emit: (event: TransferEvent) => void;
  /** Called once, when the transfer is over whatever the outcome: `failed` unless it completed. */
  onDone: (failed: boolean) => void;
}

interface Receiver {
  /** Highest chunk seq acknowledged; -1 before any. */
  acked: number;
  finished: boolean;
}

/**
 * Sends one file: waits for the answers to the offer, then streams chunks of at most
 * {@link MAX_FILE_CHUNK_BYTES} (base64) while every receiver has fewer than
 * {@link FILE_WINDOW_CHUNKS} chunks unacknowledged, sends `file_end`, and collects each receiver's
 * `file_result`. The file is read again while sending and hashed: if it changed since the offer,
 * the transfer is cancelled rather than delivering something that fails the check.
 */
export class OutgoingTransfer {
  private readonly receivers = new Map<string, Receiver>();
  private readonly answered = new Set<string>();
  private readonly chunks: number;
  private readonly hash: Hash = createHash('sha256');
  private state: 'offering' | 'sending' | 'ended' | 'over' = 'offering';
  private nextSeq = 0;
  private file: FileHandle | undefined;
  private pumping = false;
  private timer: NodeJS.Timeout | undefined;
  private lastPercent = -1;
  private delivered = 0;
  private startScheduled = false;

  constructor(private readonly options: OutgoingTransferOptions) {
    this.chunks = Math.ceil(options.size / MAX_FILE_CHUNK_BYTES);
    this.timer = setTimeout(() => this.abort('nobody accepted the file in time'), options.offerTimeoutMs);
  }

  /** The transfer id. */
  get id(): string {
    return this.options.transfer;
  }

  /** A one-line summary for a status display. */
  get summary(): { name: string; percent: number; state: string } {
    return { name: this.options.name, percent: Math.max(0, this.lastPercent), state: this.state };
  }

  /** A frame the server relayed about this transfer. */
  handle(frame: FileServerFrame): void {
    switch (frame.type) {
      case 'file_accept':
        return this.accepted(frame.user);
      case 'file_decline':
        return this.declined(frame.user);
      case 'file_ack':
        return this.acked(frame.user, frame.seq);
      case 'file_result':
        return this.result(frame.user, frame.ok, frame.reason);
      case 'file_cancel':
        return this.cancelled(frame.reason, frame.user);
      default:
        return;
    }
  }

  /** Stops the transfer on this side's initiative: tells the server, reports `failed`. */
  abort(reason: string): void {
    if (this.state === 'over') return;
    try {
      this.options.link.sendFileFrame({ type: 'file_cancel', transfer: this.id, reason });
    } catch {
      // Not connected any more: the server cancels it for the others anyway.
    }
    this.fail(reason, true);
  }

  /** The connection is gone: the transfer is over. */
  connectionLost(reason: string): void {
    if (this.state === 'over') return;
    this.fail(reason, true);
  }

  // ------------------------------------------------------------ answers

  private accepted(user: string): void {
    if (this.state === 'over' || this.answered.has(user)) return;
    this.answered.add(user);
    this.emit({ kind: 'accepted', user });
    if (this.state !== 'offering') {
      // The chunks so far went to the others: this receiver would get a file without its start.
      this.emit({ kind: 'failed', direction: 'send', user, reason: `${user} accepted after the transfer had started`, interrupted: false });
      return;
    }
    this.receivers.set(user, { acked: -1, finished: false });
    this.maybeStart();
  }

  private declined(user: string): void {
    if (this.state === 'over' || this.answered.has(user)) return;
    this.answered.add(user);
    this.emit({ kind: 'declined', user });
    if (this.state === 'offering') this.maybeStart();
  }

  /** Starts sending once everyone expected answered, or a while after the first accept (rooms). */
  private maybeStart(): void {
    const everyone = [...this.options.expected].every((user) => this.answered.has(user));
    if (everyone) {
      if (this.receivers.size === 0) return this.complete();
      return void this.start();
    }
    if (this.receivers.size > 0 && this.options.target.room !== undefined && !this.startScheduled) {
      // Not everyone answered yet: give the others a moment, then start with those who accepted.
      this.startScheduled = true;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.start(), this.options.startDelayMs);
    }
  }

  // ------------------------------------------------------------ sending

  private async start(): Promise<void> {
    if (this.state !== 'offering') return;
    clearTimeout(this.timer);
    this.state = 'sending';
    try {
      this.file = await open(this.options.path, 'r');
    } catch (error) {
      return this.abort(`cannot read the file: ${(error as Error).message}`);
    }
    if (this.state !== 'sending') {
      await this.file.close().catch(() => {});
      return;
    }
    this.emitProgress();
    await this.pump();
  }

  private windowOpen(): boolean {
    for (const receiver of this.receivers.values()) {
      if (!receiver.finished && this.nextSeq - receiver.acked > FILE_WINDOW_CHUNKS) return false;
    }
    return true;
  }

  /** Sends chunks while the window allows; after the last one, `file_end`. One pump at a time. */
  private async pump(): Promise<void> {
    if (this.pumping || this.state !== 'sending' || !this.file) return;
    this.pumping = true;
    try {
      while (this.state === 'sending' && this.nextSeq < this.chunks && this.windowOpen()) {
        const seq = this.nextSeq;
        const offset = seq * MAX_FILE_CHUNK_BYTES;
        const length = Math.min(MAX_FILE_CHUNK_BYTES, this.options.size - offset);
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await this.file.read(buffer, 0, length, offset);
        if (this.state !== 'sending') return;
        if (bytesRead !== length) return this.abort('the file got shorter while it was being sent');
        this.hash.update(buffer);
        this.options.link.sendFileFrame({ type: 'file_chunk', transfer: this.id, seq, data: buffer.toString('base64') });
        this.nextSeq = seq + 1;
      }
      if (this.state === 'sending' && this.nextSeq === this.chunks) {
        if (this.hash.digest('hex') !== this.options.sha256) return this.abort('the file changed while it was being sent');
        this.options.link.sendFileFrame({ type: 'file_end', transfer: this.id });
        this.state = 'ended';
        await this.closeFile();
        this.timer = setTimeout(() => this.giveUpOnResults(), this.options.resultTimeoutMs);
        this.timer.unref();
      }
    } catch (error) {
      // The connection is closing (this user quit, or it dropped): connectionLost() says so.
      if (error instanceof ClientError && error.code === 'not_connected') return;
      this.abort(`sending failed: ${(error as Error).message}`);
    } finally {
      this.pumping = false;
    }
  }

  private acked(user: string, seq: number): void {
    const receiver = this.receivers.get(user);
    if (!receiver || receiver.finished || this.state === 'over') return;
    if (seq > receiver.acked) receiver.acked = Math.min(seq, this.nextSeq - 1);
    this.emitProgress();
    void this.pump();
  }

  /** Progress = what every active receiver has acknowledged. */
  private emitProgress(): void {
    const active = [...this.receivers.values()].filter((r) => !r.finished);
    if (active.length === 0) return;
    const acked = Math.min(...active.map((r) => r.acked));
    const bytes = Math.min(this.options.size, (acked + 1) * MAX_FILE_CHUNK_BYTES);
    const done = percent(bytes, this.options.size);
    if (done === this.lastPercent) return;
    this.lastPercent = done;
    this.emit({ kind: 'progress', direction: 'send', bytes, size: this.options.size, percent: done });
  }

  // ------------------------------------------------------------ outcome

  private result(user: string, ok: boolean, reason: string | undefined): void {
    const receiver = this.receivers.get(user);
    if (!receiver || receiver.finished || this.state === 'over') return;
    receiver.finished = true;
    if (ok) {
      this.delivered++;
      this.emit({ kind: 'delivered', user });
    } else {
      this.emit({ kind: 'rejected', user, reason: reason ?? 'the file failed the check' });
    }
    this.checkFinished();
  }

  private cancelled(reason: string, user: string | undefined): void {
    if (this.state === 'over') return;
    const receiver = user === undefined ? undefined : this.receivers.get(user);
    const oneOfSeveral = user !== undefined && this.options.target.room !== undefined;
    if (oneOfSeveral && (receiver || !this.answered.has(user))) {
      // One room member dropped out; the others carry on.
      this.answered.add(user);
      if (receiver) receiver.finished = true;
      this.emit({ kind: 'failed', direction: 'send', user, reason, interrupted: true, cancelledBy: user });
      if (this.state === 'offering') return this.maybeStart();
      return this.checkFinished();
    }
    this.fail(reason, true, user, user);
  }

  private checkFinished(): void {
    const active = [...this.receivers.values()].filter((r) => !r.finished);
    if (active.length > 0) {
      if (this.state === 'sending') void this.pump();
      return;
    }
    if (this.state === 'ended') return this.complete();
    if (this.state === 'sending') this.abort('no recipient is left');
  }

  private giveUpOnResults(): void {
    for (const [user, receiver] of this.receivers) {
      if (receiver.finished) continue;
      receiver.finished = true;
      this.emit({ kind: 'failed', direction: 'send', user, reason: `${user} never confirmed the file`, interrupted: true });
    }
    this.complete();
  }

  private complete(): void {
    if (this.state === 'over') return;
    this.emit({ kind: 'complete', offered: this.options.expected.size, accepted: this.receivers.size, delivered: this.delivered });
    this.cleanUp(false);
  }

  private fail(reason: string, interrupted: boolean, user?: string, cancelledBy?: string): void {
    if (this.state === 'over') return;
    this.emit({ kind: 'failed', direction: 'send', reason, interrupted, ...(user !== undefined && { user }), ...(cancelledBy !== undefined && { cancelledBy }) });
    this.cleanUp(true);
  }

  private cleanUp(failed: boolean): void {
    this.state = 'over';
    clearTimeout(this.timer);
    void this.closeFile();
    this.options.onDone(failed);
  }

  private async closeFile(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await file?.close().catch(() => {});
  }

  private emit(event: DistributiveOmit<TransferEvent, 'transfer' | 'name'>): void {
    this.options.emit({ ...event, transfer: this.id, name: this.options.name } as TransferEvent);
  }
}

/** Omit over each member of a union (the built-in Omit collapses the union). */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
