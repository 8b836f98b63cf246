import { createHash, type Hash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { MAX_FILE_CHUNK_BYTES, base64DecodedLength, sanitizeFileName, uniqueDownloadPath, type FileOfferedFrame } from '../../protocol/index.ts';
import type { FileServerFrame } from '../chat-client.ts';
import { percent } from './bytes.ts';
import type { FileLink } from './file-link.ts';
import { partFileName } from './stale-parts.ts';
import type { DistributiveOmit } from './outgoing-transfer.ts';
import type { TransferEvent } from './transfer-events.ts';

/** Settings of one incoming transfer. */
export interface IncomingTransferOptions {
  link: FileLink;
  /** The download folder: the only place a file is ever written. */
  directory: string;
  emit: (event: TransferEvent) => void;
  /**
   * Called once, the moment the transfer is over whatever the outcome (before the temporary file
   * is deleted): `failed` is true unless the file was received and checked.
   */
  onDone: (failed: boolean) => void;
}

/** How a failure is told to the sender: a `file_result` (the check failed), a `file_cancel`, or nothing (they know). */
type Notify = 'result' | 'cancel' | 'none';

/**
 * Receives one offered file. Nothing touches the disk before `accept()`; then the bytes go to a
 * hidden temporary file in the download folder (named by {@link partFileName}, so that the next
 * client start can recognise it if this process dies before it is done), in order, each chunk acknowledged once written.
 * At `file_end` the size and SHA-256 are checked: a good file is moved to its final, sanitized,
 * unique name (never replacing an existing file); a bad or interrupted one is deleted. Either way
 * the sender hears the verdict (`file_result` or `file_cancel`).
 */
export class IncomingTransfer {
  /** The sanitized name the file will have (before a ` (1)` suffix if that name is taken). */
  readonly safeName: string;
  private state: 'offered' | 'accepting' | 'receiving' | 'verifying' | 'over' = 'offered';
  private file: FileHandle | undefined;
  private tempPath: string | undefined;
  private readonly hash: Hash = createHash('sha256');
  private expectedSeq = 0;
  /** Bytes announced by the chunks received so far (written or still being written). */
  private announced = 0;
  private written = 0;
  private writing: Promise<void> = Promise.resolve();
  private lastPercent = -1;

  constructor(
    readonly offer: FileOfferedFrame,
    private readonly options: IncomingTransferOptions,
  ) {
    this.safeName = sanitizeFileName(offer.name);
  }

  /** The transfer id. */
  get id(): string {
    return this.offer.transfer;
  }

  /** Whether it still waits for accept or decline. */
  get pending(): boolean {
    return this.state === 'offered';
  }

  /** A one-line summary for a status display. */
  get summary(): { name: string; percent: number; state: string } {
    return { name: this.offer.name, percent: Math.max(0, this.lastPercent), state: this.state };
  }

  /**
   * Accepts: creates the download folder and a temporary file in it, then sends `file_accept`.
   * @throws the file-system error when the temporary file cannot be created (nothing is sent).
   */
  async accept(): Promise<void> {
    if (this.state !== 'offered') return;
    this.state = 'accepting';
    const directory = this.options.directory;
    const temp = join(directory, partFileName(this.id));
    let file: FileHandle;
    try {
      await mkdir(directory, { recursive: true });
      file = await open(temp, 'wx', 0o600);
    } catch (error) {
      if (this.state === 'accepting') this.state = 'offered';
      throw error;
    }
    if (this.state !== 'accepting') {
      // Cancelled while the file was being created.
      await file.close().catch(() => {});
      await unlink(temp).catch(() => {});
      return;
    }
    this.file = file;
    this.tempPath = temp;
    try {
      this.options.link.sendFileFrame({ type: 'file_accept', transfer: this.id });
    } catch (error) {
      await this.fail(`cannot accept: ${(error as Error).message}`, 'none', true);
      throw error;
    }
    this.state = 'receiving';
    this.emit({ kind: 'receiving', from: this.offer.from, directory });
    if (this.offer.size === 0) this.emitProgress();
  }

  /** Declines: sends `file_decline`; nothing was written. */
  decline(): void {
    if (this.state !== 'offered') return;
    this.state = 'over';
    try {
      this.options.link.sendFileFrame({ type: 'file_decline', transfer: this.id });
    } finally {
      this.options.onDone(true);
    }
  }

  /** Stops on this side's initiative (the user cancelled): tells the sender, deletes the partial file. */
  cancel(reason: string): Promise<void> {
    return this.fail(reason, 'cancel', true);
  }

  /** The connection is gone: delete the partial file. */
  connectionLost(reason: string): Promise<void> {
    return this.fail(reason, 'none', true);
  }

  /** A frame the server relayed about this transfer. */
  handle(frame: FileServerFrame): void {
    switch (frame.type) {
      case 'file_chunk':
        return this.chunk(frame.seq, frame.data);
      case 'file_end':
        return this.end();
      case 'file_cancel':
        // Only the sender (or the server, for the sender's lost connection) can stop our copy.
        if (frame.user === undefined || frame.user === this.offer.from) void this.fail(frame.reason, 'none', true, frame.user ?? this.offer.from);
        return;
      default:
        return;
    }
  }

  private chunk(seq: number, data: string): void {
    if (this.state !== 'receiving') return;
    if (seq !== this.expectedSeq) {
      const why = this.expectedSeq === 0 ? 'the start of the file was sent before this client accepted' : `chunk ${seq} came where chunk ${this.expectedSeq} was expected`;
      return void this.fail(why, 'cancel', true);
    }
    const length = base64DecodedLength(data);
    if (length === null) return void this.fail(`chunk ${seq} is not valid base64`, 'cancel', false);
    if (length > MAX_FILE_CHUNK_BYTES) return void this.fail(`chunk ${seq} holds ${length} bytes, more than ${MAX_FILE_CHUNK_BYTES}`, 'cancel', false);
    if (this.announced + length > this.offer.size) return void this.fail(`more data than the ${this.offer.size} bytes offered`, 'cancel', false);
    this.expectedSeq = seq + 1;
    this.announced += length;
    const bytes = Buffer.from(data, 'base64');
    this.writing = this.writing.then(async () => {
      if (this.state !== 'receiving' && this.state !== 'verifying') return;
      try {
        await (this.file as FileHandle).write(bytes, 0, bytes.length);
      } catch (error) {
        return this.fail(`cannot write the file: ${(error as Error).message}`, 'cancel', false);
      }
      this.hash.update(bytes);
      this.written += bytes.length;
      // Stopped while this chunk was being written: the transfer is over, say nothing more about it.
      if (this.state !== 'receiving' && this.state !== 'verifying') return;
      try {
        this.options.link.sendFileFrame({ type: 'file_ack', transfer: this.id, seq });
      } catch {
        // The connection is going away; connectionLost() cleans up.
      }
      this.emitProgress();
    });
  }

  private end(): void {
    if (this.state !== 'receiving') return;
    this.state = 'verifying';
    this.writing = this.writing.then(() => this.verify());
  }

  private async verify(): Promise<void> {
    if (this.state !== 'verifying') return;
    await this.closeFile();
    if (this.written !== this.offer.size) return this.fail(`size mismatch: got ${this.written} of ${this.offer.size} bytes`, 'result', false);
    if (this.hash.digest('hex') !== this.offer.sha256) return this.fail('checksum mismatch', 'result', false);
    let path: string;
    try {
      path = await this.place();
    } catch (error) {
      return this.fail(`cannot save the file: ${(error as Error).message}`, 'result', false);
    }
    this.state = 'over';
    this.tempPath = undefined;
    this.notify({ type: 'file_result', transfer: this.id, ok: true });
    this.options.onDone(false);
    this.emit({ kind: 'received', from: this.offer.from, path, size: this.offer.size });
  }

  /** Moves the checked file to a free, sanitized name inside the download folder; never replaces a file. */
  private async place(): Promise<string> {
    const directory = resolve(this.options.directory);
    const temp = this.tempPath as string;
    for (let attempt = 0; ; attempt++) {
      const path = uniqueDownloadPath(directory, this.safeName, existsSync);
      if (!resolve(path).startsWith(directory + sep)) throw new Error(`refusing to write outside ${directory}: ${path}`);
      try {
        // link() fails if the name was taken in the meantime, where rename() would replace it.
        await link(temp, path);
        await unlink(temp);
        return path;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST' && attempt < 20) continue;
        if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV' || code === 'ENOSYS') {
          // A file system without hard links: a plain rename (checked just before) will do.
          await rename(temp, path);
          return path;
        }
        throw error;
      }
    }
  }

  private emitProgress(): void {
    const done = percent(this.written, this.offer.size);
    if (done === this.lastPercent) return;
    this.lastPercent = done;
    this.emit({ kind: 'progress', direction: 'receive', bytes: this.written, size: this.offer.size, percent: done });
  }

  private async fail(reason: string, notify: Notify, interrupted: boolean, cancelledBy?: string): Promise<void> {
    if (this.state === 'over') return;
    const wasOffered = this.state === 'offered';
    this.state = 'over';
    if (notify === 'result') this.notify({ type: 'file_result', transfer: this.id, ok: false, reason });
    if (notify === 'cancel' && !wasOffered) this.notify({ type: 'file_cancel', transfer: this.id, reason });
    this.options.onDone(true);
    await this.discard();
    const by = cancelledBy !== undefined ? { user: cancelledBy, cancelledBy } : {};
    this.emit({ kind: 'failed', direction: 'receive', reason, interrupted, ...by, ...(wasOffered && { withdrawn: true }) });
  }

  private notify(frame: Parameters<FileLink['sendFileFrame']>[0]): void {
    try {
      this.options.link.sendFileFrame(frame);
    } catch {
      // Not connected: the sender learns from the server that this side is gone.
    }
  }

  /** Closes and deletes the temporary file: a failed transfer leaves nothing behind. */
  private async discard(): Promise<void> {
    await this.closeFile();
    const temp = this.tempPath;
    this.tempPath = undefined;
    if (temp) await unlink(temp).catch(() => {});
  }

  private async closeFile(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await file?.close().catch(() => {});
  }

  private emit(event: DistributiveOmit<TransferEvent, 'transfer' | 'name'>): void {
    this.options.emit({ ...event, transfer: this.id, name: this.offer.name } as TransferEvent);
  }
}
