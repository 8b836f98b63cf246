import { EventEmitter } from 'node:events';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ByeFrame } from '../../protocol/index.ts';
import type { FileServerFrame } from '../chat-client.ts';
import { ChatClient } from '../chat-client.ts';
import { ChatSession } from '../session.ts';
import { TransferError, type FileLink } from './file-link.ts';
import { hashFile } from './hash-file.ts';
import { IncomingTransfer } from './incoming-transfer.ts';
import { OutgoingTransfer } from './outgoing-transfer.ts';
import { removeStaleParts } from './stale-parts.ts';
import type { IncomingOfferEvent, TransferEvent, TransferTarget } from './transfer-events.ts';

/** Options of {@link FileTransfers}. */
export interface FileTransfersOptions {
  /** The download folder (created on the first accept). Default `./downloads`. */
  downloads?: string;
  /** Largest file this client accepts, in bytes. Default: no limit of its own (the server has one). */
  maxIncomingBytes?: number;
  /** Room offers: start sending this long after the first accept even if not everyone answered. Default 10 s. */
  roomStartDelayMs?: number;
  /** An offer nobody accepts is withdrawn after this long. Default 10 min. */
  offerTimeoutMs?: number;
  /** How long a sender waits for the receivers' verdicts after `file_end`. Default 60 s. */
  resultTimeoutMs?: number;
}

/** The events of {@link FileTransfers}. */
export interface FileTransfersEvents {
  /** A step of some transfer (see ./transfer-events.ts). */
  transfer: [event: TransferEvent];
}

/** Frames about a transfer id not known yet are kept this long at most (an accept racing the offer's `ok`). */
const MAX_EARLY_FRAMES = 64;

/**
 * Every file transfer of one chat connection, both ways. It routes the server's `file_*` frames
 * to the right transfer and reports each step as a `transfer` event. UIs call {@link send},
 * {@link accept}, {@link decline} and {@link cancel}; the wiring to a connection is
 * {@link attachFileTransfers}.
 *
 * ```ts
 * const files = attachFileTransfers(session, { downloads: './downloads' });
 * files.on('transfer', (event) => console.log(event.kind, event.name));
 * await files.send({ to: 'bob' }, './cat.png');
 * ```
 */
export class FileTransfers extends EventEmitter<FileTransfersEvents> {
  /** The download folder. */
  readonly downloads: string;
  private readonly outgoing = new Map<string, OutgoingTransfer>();
  private readonly incoming = new Map<string, IncomingTransfer>();
  private readonly early: FileServerFrame[] = [];
  /** The reports of the transfers the last connection loss stopped (see {@link stopped}). */
  private stopping: Promise<void> = Promise.resolve();
  /** Transfers that failed and whose late answers may still come (see {@link isLateAnswer}). */
  private settling = 0;
  private readonly settings: Required<Omit<FileTransfersOptions, 'downloads'>>;

  constructor(
    private readonly link: FileLink,
    options: FileTransfersOptions = {},
  ) {
    super();
    this.downloads = options.downloads ?? 'downloads';
    this.settings = {
      maxIncomingBytes: options.maxIncomingBytes ?? Number.POSITIVE_INFINITY,
      roomStartDelayMs: options.roomStartDelayMs ?? 10_000,
      offerTimeoutMs: options.offerTimeoutMs ?? 10 * 60_000,
      resultTimeoutMs: options.resultTimeoutMs ?? 60_000,
    };
  }

  /** Offers waiting for this user's answer, oldest first. */
  get pendingOffers(): IncomingOfferEvent[] {
    return [...this.incoming.values()].filter((t) => t.pending).map((t) => toOfferEvent(t));
  }

  /** Transfers under way, for a status display. */
  get active(): { transfer: string; direction: 'send' | 'receive'; name: string; percent: number; state: string }[] {
    return [
      ...[...this.outgoing.values()].map((t) => ({ transfer: t.id, direction: 'send' as const, ...t.summary })),
      ...[...this.incoming.values()].filter((t) => !t.pending).map((t) => ({ transfer: t.id, direction: 'receive' as const, ...t.summary })),
    ];
  }

  /**
   * Deletes the partial downloads a client that died mid-transfer left in the download folder
   * (see ./stale-parts.ts: only this client's `.chatlab-<pid>-….part` files, of a dead process or
   * untouched for a day); resolves with the names removed. The UIs call it once at start.
   */
  removeStaleParts(): Promise<string[]> {
    return removeStaleParts(this.downloads);
  }

  /**
   * Offers the file at `path` to a user or a room; resolves with the transfer id once the server
   * registered the offer. The rest (answers, progress, verdicts) comes as `transfer` events.
   * @throws TransferError (`not_found`, `not_a_file`, `unreadable`) or the server's ProtocolError
   *   (`file_too_large`, `unknown_user`, `unknown_room`, `not_in_room`, …).
   */
  async send(target: TransferTarget, path: string): Promise<string> {
    let size: number;
    try {
      const info = await stat(path);
      if (!info.isFile()) throw new TransferError('not_a_file', `${path} is not a file`);
      size = info.size;
    } catch (error) {
      if (error instanceof TransferError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      throw new TransferError(code === 'ENOENT' ? 'not_found' : 'unreadable', code === 'ENOENT' ? `no such file: ${path}` : `cannot read ${path}: ${(error as Error).message}`, { cause: error });
    }
    let digest: { size: number; sha256: string };
    try {
      digest = await hashFile(path);
    } catch (error) {
      throw new TransferError('unreadable', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
    }
    if (digest.size !== size) throw new TransferError('unreadable', `${path} changed while it was being read`);
    const name = basename(path);
    const { transfer, users } = await this.link.offerFile({ ...target, name, size, sha256: digest.sha256 });
    // Whose answers to wait for: the server's list, else the user, or the room's other members.
    const me = this.link.user;
    const expected = new Set<string>(users ?? (target.to !== undefined ? [target.to] : []));
    if (users === undefined && target.room !== undefined) {
      for (const member of await this.link.who(target.room).catch(() => [] as string[])) if (member !== me) expected.add(member);
    }
    const outgoing = new OutgoingTransfer({
      link: this.link,
      transfer,
      path,
      name,
      size,
      sha256: digest.sha256,
      target,
      expected,
      startDelayMs: this.settings.roomStartDelayMs,
      offerTimeoutMs: this.settings.offerTimeoutMs,
      resultTimeoutMs: this.settings.resultTimeoutMs,
      emit: (event) => this.emit('transfer', event),
      onDone: (failed) => this.done(this.outgoing, transfer, failed),
    });
    this.outgoing.set(transfer, outgoing);
    this.emit('transfer', { kind: 'offered', transfer, name, size, target });
    if (expected.size === 0) {
      outgoing.abort(`nobody else is in #${target.room}`);
      return transfer;
    }
    for (const frame of this.takeEarly(transfer)) outgoing.handle(frame);
    return transfer;
  }

  /**
   * Accepts an offer (`transfer`, or the latest one still waiting); resolves with its id once the
   * temporary file exists and `file_accept` is sent.
   * @throws TransferError `no_offer` / `unknown_transfer` / `too_large`, or the file-system error.
   */
  async accept(transfer?: string): Promise<string> {
    const offer = this.findOffer(transfer);
    if (offer.offer.size > this.settings.maxIncomingBytes) {
      throw new TransferError('too_large', `${offer.offer.name} is ${offer.offer.size} bytes, more than this client accepts (${this.settings.maxIncomingBytes})`);
    }
    await offer.accept();
    return offer.id;
  }

  /** Declines an offer (`transfer`, or the latest one still waiting); returns its id. */
  decline(transfer?: string): string {
    const offer = this.findOffer(transfer);
    offer.decline();
    return offer.id;
  }

  /** Stops a transfer this client sends or receives (default: the only one under way). */
  async cancel(transfer?: string, reason = 'cancelled'): Promise<string> {
    const id = transfer ?? this.onlyActive();
    const outgoing = this.outgoing.get(id);
    if (outgoing) {
      outgoing.abort(reason);
      return id;
    }
    const incoming = this.incoming.get(id);
    if (!incoming) throw new TransferError('unknown_transfer', `no transfer ${id}`);
    if (incoming.pending) incoming.decline();
    else await incoming.cancel(reason);
    return id;
  }

  /** Routes one `file_*` frame from the server. */
  handle(frame: FileServerFrame): void {
    if (frame.type === 'file_offer') {
      if (this.incoming.has(frame.transfer) || this.outgoing.has(frame.transfer)) return;
      const transfer = new IncomingTransfer(frame, {
        link: this.link,
        directory: this.downloads,
        emit: (event) => this.emit('transfer', event),
        onDone: (failed) => this.done(this.incoming, frame.transfer, failed),
      });
      this.incoming.set(frame.transfer, transfer);
      this.emit('transfer', toOfferEvent(transfer));
      return;
    }
    const outgoing = this.outgoing.get(frame.transfer);
    if (outgoing) return outgoing.handle(frame);
    const incoming = this.incoming.get(frame.transfer);
    if (incoming) return incoming.handle(frame);
    // An answer can overtake the `ok` that tells us the transfer id: keep it for a moment.
    if (frame.type === 'file_accept' || frame.type === 'file_decline' || frame.type === 'file_cancel') {
      this.early.push(frame);
      if (this.early.length > MAX_EARLY_FRAMES) this.early.shift();
    }
  }

  /**
   * Whether `error` is the server's answer to a frame of this client that crossed the end of a
   * transfer on the wire: the peer cancelled or left while this client's acks or chunks were on
   * their way, and the server answers each with `unknown_transfer` (docs/protocol-extensions.md,
   * "file_cancel"). Such frames carry no `id`, so neither does the error; this client sends no
   * frame about a transfer once it is over, so an id-less `unknown_transfer` that comes while a
   * failed transfer is settling is one of these. Settling lasts until a `ping` sent right after
   * the failure is answered: the server answers in order, so every late answer came before the
   * `pong`. The UIs show no line for it: the transfer's own `failed` event told the user.
   */
  isLateAnswer(error: { code: string; id?: unknown }): boolean {
    return this.settling > 0 && error.code === 'unknown_transfer' && error.id === undefined;
  }

  /** The connection ended: every transfer on it is over (partial downloads are deleted). */
  connectionClosed(reason = 'the connection was lost'): void {
    for (const transfer of [...this.outgoing.values()]) transfer.connectionLost(reason);
    const incoming = [...this.incoming.values()].map((transfer) => transfer.connectionLost(reason));
    this.stopping = Promise.all([this.stopping, ...incoming]).then(() => {});
    this.early.length = 0;
  }

  /**
   * Resolves once every transfer that a connection's end stopped has reported it (its partial
   * download deleted, its `failed` event emitted): a UI that exits when the session closes
   * awaits it, so that the last transfer lines are not lost.
   */
  stopped(): Promise<void> {
    return this.stopping;
  }

  /** A transfer is over: forget it; after a failure, wait out the server's answers to frames that crossed it. */
  private done(transfers: Map<string, unknown>, transfer: string, failed: boolean): void {
    transfers.delete(transfer);
    if (!failed) return;
    this.settling++;
    const settled = () => void this.settling--;
    // A rejection means not connected (no answer can come any more), or a server without `ping`
    // (whose late answers, if any, are then shown).
    this.link.ping().then(settled, settled);
  }

  private takeEarly(transfer: string): FileServerFrame[] {
    const mine = this.early.filter((frame) => frame.transfer === transfer);
    if (mine.length > 0) this.early.splice(0, this.early.length, ...this.early.filter((frame) => frame.transfer !== transfer));
    return mine;
  }

  private findOffer(transfer: string | undefined): IncomingTransfer {
    if (transfer !== undefined) {
      const found = this.incoming.get(transfer);
      if (!found || !found.pending) throw new TransferError('unknown_transfer', `no file offer ${transfer} is waiting for an answer`);
      return found;
    }
    const waiting = [...this.incoming.values()].filter((t) => t.pending);
    const latest = waiting.at(-1);
    if (!latest) throw new TransferError('no_offer', 'no file offer is waiting for an answer');
    return latest;
  }

  private onlyActive(): string {
    const ids = [...this.outgoing.keys(), ...this.incoming.keys()];
    if (ids.length === 1) return ids[0] as string;
    throw new TransferError(ids.length === 0 ? 'unknown_transfer' : 'no_offer', ids.length === 0 ? 'no transfer is under way' : `several transfers are under way: name one (${ids.join(', ')})`);
  }
}

function toOfferEvent(transfer: IncomingTransfer): IncomingOfferEvent {
  const { offer } = transfer;
  return {
    kind: 'incoming',
    transfer: offer.transfer,
    from: offer.from,
    ...(offer.room !== undefined && { room: offer.room }),
    name: offer.name,
    size: offer.size,
    sha256: offer.sha256,
  };
}

/**
 * File transfers wired to a connection: a {@link ChatSession} (transfers end at each connection
 * loss, new ones work after the reconnect) or a single {@link ChatClient}.
 */
export function attachFileTransfers(source: ChatSession | ChatClient, options: FileTransfersOptions = {}): FileTransfers {
  const files = new FileTransfers(source, options);
  source.on('file', (frame) => files.handle(frame));
  // A clean close is this user's quit, unless the server said bye first.
  let bye: ByeFrame | undefined;
  const closed = (error: Error | null) => {
    files.connectionClosed(error ? `connection lost (${error.message})` : bye ? byeReason(bye) : 'you quit');
    bye = undefined;
  };
  source.on('bye', (frame) => (bye = frame));
  if (source instanceof ChatSession) source.on('connection_closed', closed);
  else source.on('close', closed);
  return files;
}

/** Why the transfers of a connection the server closed with `bye` stopped. */
function byeReason(bye: ByeFrame): string {
  if (bye.reason === 'server_shutdown') return 'the server shut down';
  return `the server ended the chat${bye.reason ? ` (${bye.reason})` : ''}`;
}
