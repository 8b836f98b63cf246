import { FILE_WINDOW_CHUNKS, base64DecodedLength, type ErrorCode, type FileChunkFrame, type FileOfferFrame, type ServerFrame } from '../protocol/index.ts';
import type { Hub, Member } from './hub.ts';
import type { TransferEvent } from './events.ts';

/** Why a file frame was refused: the `error` the core sends back. */
export interface Refusal {
  code: ErrorCode;
  message: string;
}

/** What a successful `file_offer` answers: the transfer id and who it was offered to. */
export interface OfferAccepted {
  transfer: string;
  users: string[];
}

/** Limits the relay enforces (a subset of ServerLimits). */
export interface FileRelayLimits {
  maxFileBytes: number;
  maxTransfersPerUser: number;
}

/** Where a recipient stands: offered → accepted → ended (awaiting its file_result). */
type RecipientState = 'offered' | 'accepted' | 'ended';

interface Recipient {
  member: Member;
  state: RecipientState;
  /** Highest chunk seq this recipient acknowledged (-1: none yet). */
  acked: number;
}

interface Transfer {
  id: string;
  sender: Member;
  recipients: Map<string, Recipient>;
  size: number;
  /** The seq the next chunk must carry. */
  nextSeq: number;
  /** Bytes relayed so far. */
  bytes: number;
  ended: boolean;
}

/**
 * The file-transfer relay: it never stores a file, it checks and forwards the frames of each
 * transfer between the offerer and its recipients. It enforces who may send what (only the
 * offerer sends chunks, only recipients who accepted get them), the order and total size of the
 * chunks, the flow-control window, and it cancels a transfer's other side when a party leaves.
 * Every method returns a {@link Refusal} for the core to send as an `error`, or nothing.
 */
export class FileRelay {
  private readonly transfers = new Map<string, Transfer>();
  /** Transfers each member takes part in (as offerer or recipient), by id. */
  private readonly involved = new Map<Member, Set<string>>();
  private readonly offered = new Map<Member, number>();
  private nextId = 1;

  constructor(
    private readonly hub: Hub,
    private readonly limits: FileRelayLimits,
    private readonly emit: (event: TransferEvent) => void = () => {},
    /** Put before every transfer id: a cluster node's own, so ids are unique across nodes. */
    private readonly idPrefix = '',
  ) {}

  /** Whether a transfer of that id is relayed here. */
  knows(id: string): boolean {
    return this.transfers.has(id);
  }

  /** Number of transfers in progress (offered and not finished). */
  get activeCount(): number {
    return this.transfers.size;
  }

  /** Step 1: an offer to one online user or to the other members of a room. */
  offer(sender: Member, frame: FileOfferFrame): OfferAccepted | Refusal {
    if ((frame.to === undefined) === (frame.room === undefined)) {
      return refuse('bad_request', 'a file_offer names exactly one of "to" (a user) or "room"');
    }
    if (frame.size > this.limits.maxFileBytes) {
      return refuse('file_too_large', `${frame.size} bytes is over this server's limit of ${this.limits.maxFileBytes} bytes per file`);
    }
    let recipients: Member[];
    if (frame.to !== undefined) {
      if (frame.to === sender.user) return refuse('bad_request', 'you cannot send a file to yourself');
      const target = this.hub.member(frame.to);
      if (!target) return refuse('unknown_user', `${frame.to} is not online (files go to online users only)`);
      recipients = [target];
    } else {
      const room = frame.room as string;
      if (!this.hub.hasRoom(room)) return refuse('unknown_room', `there is no room "${room}"`);
      if (!this.hub.isInRoom(sender, room)) return refuse('not_in_room', `join "${room}" before offering files to it`);
      recipients = [...this.hub.recipients({ room })].filter((member) => member !== sender);
      if (recipients.length === 0) return refuse('bad_request', `nobody else is in "${room}" to receive the file`);
    }
    if ((this.offered.get(sender) ?? 0) >= this.limits.maxTransfersPerUser) {
      return refuse('rate_limited', `you have ${this.limits.maxTransfersPerUser} transfers in progress; finish or cancel one first`);
    }
    const transfer: Transfer = {
      id: `${this.idPrefix}t${this.nextId++}`,
      sender,
      recipients: new Map(recipients.map((member) => [member.user, { member, state: 'offered', acked: -1 }])),
      size: frame.size,
      nextSeq: 0,
      bytes: 0,
      ended: false,
    };
    this.transfers.set(transfer.id, transfer);
    this.offered.set(sender, (this.offered.get(sender) ?? 0) + 1);
    for (const member of [sender, ...recipients]) this.involve(member, transfer.id);
    this.hub.sendTo(
      {
        type: 'file_offer',
        transfer: transfer.id,
        from: sender.user,
        ...(frame.to !== undefined ? { to: frame.to } : { room: frame.room as string }),
        name: frame.name,
        size: frame.size,
        sha256: frame.sha256,
      },
      recipients,
    );
    const users = recipients.map((member) => member.user).sort();
    this.emit({ transfer: transfer.id, action: 'offer', from: sender.user, users, size: frame.size });
    return { transfer: transfer.id, users };
  }

  /** Step 2: a recipient accepts or declines; the offerer is told with `user`. */
  answer(member: Member, id: string, accept: boolean): Refusal | undefined {
    const found = this.asRecipient(member, id);
    if ('code' in found) return found;
    const { transfer, recipient } = found;
    if (recipient.state !== 'offered') return refuse('bad_request', `you already answered transfer ${id} (you accepted it)`);
    this.deliver(transfer.sender, { type: accept ? 'file_accept' : 'file_decline', transfer: id, user: member.user });
    this.emit({ transfer: id, action: accept ? 'accept' : 'decline', from: transfer.sender.user, user: member.user });
    if (accept) recipient.state = 'accepted';
    else this.dropRecipient(transfer, member);
    return undefined;
  }

  /**
   * Step 3: one chunk from the offerer, relayed (with `from`) to every recipient who accepted.
   * A chunk out of order, or past the offered size, cancels the transfer for everyone; one that
   * would put more than {@link FILE_WINDOW_CHUNKS} chunks in flight is refused (`rate_limited`)
   * and may be sent again once acknowledgements come in.
   */
  chunk(member: Member, frame: FileChunkFrame): Refusal | undefined {
    const found = this.asSender(member, frame.transfer, 'file_chunk');
    if ('code' in found) return found;
    const transfer = found;
    const receivers = this.accepted(transfer);
    if (receivers.length === 0) return refuse('bad_request', `nobody has accepted transfer ${transfer.id} yet: wait for file_accept`);
    if (frame.seq !== transfer.nextSeq) {
      return this.violation(transfer, `chunk ${frame.seq} arrived where chunk ${transfer.nextSeq} was due (chunks go in order from 0)`);
    }
    const bytes = base64DecodedLength(frame.data) ?? 0;
    if (transfer.bytes + bytes > transfer.size) {
      return this.violation(transfer, `chunk ${frame.seq} goes past the offered size of ${transfer.size} bytes`);
    }
    const behind = receivers.find((recipient) => frame.seq - recipient.acked > FILE_WINDOW_CHUNKS);
    if (behind) {
      return refuse(
        'rate_limited',
        `chunk ${frame.seq} not relayed: ${behind.member.user} has not acknowledged chunk ${behind.acked + 1} yet (at most ${FILE_WINDOW_CHUNKS} chunks unacknowledged); send it again after file_ack`,
      );
    }
    if (transfer.nextSeq === 0) this.closeOffer(transfer);
    transfer.nextSeq++;
    transfer.bytes += bytes;
    this.hub.sendTo(
      { type: 'file_chunk', transfer: transfer.id, seq: frame.seq, data: frame.data, from: member.user },
      receivers.map((recipient) => recipient.member),
    );
    return undefined;
  }

  /**
   * Flow control: a receiver has chunk `seq` (and every one before it); relayed to the offerer
   * with `user`. Returns true when relayed, false for a repeated acknowledgement (ignored).
   */
  ack(member: Member, id: string, seq: number): Refusal | boolean {
    const found = this.asRecipient(member, id);
    if ('code' in found) return found;
    const { transfer, recipient } = found;
    if (recipient.state === 'offered') return refuse('bad_request', `accept transfer ${id} before acknowledging chunks`);
    if (seq >= transfer.nextSeq) return refuse('bad_request', `chunk ${seq} of transfer ${id} has not been sent yet`);
    if (seq <= recipient.acked) return false;
    recipient.acked = seq;
    this.deliver(transfer.sender, { type: 'file_ack', transfer: id, seq, user: member.user });
    return true;
  }

  /** Step 4: the offerer has sent everything; relayed to the receivers, who then send file_result. */
  end(member: Member, id: string): Refusal | undefined {
    const found = this.asSender(member, id, 'file_end');
    if ('code' in found) return found;
    const transfer = found;
    const receivers = this.accepted(transfer);
    if (receivers.length === 0) return refuse('bad_request', `nobody has accepted transfer ${id} yet: wait for file_accept`);
    if (transfer.bytes !== transfer.size) {
      return this.violation(transfer, `file_end after ${transfer.bytes} bytes, but ${transfer.size} were offered`);
    }
    this.closeOffer(transfer);
    transfer.ended = true;
    for (const recipient of receivers) recipient.state = 'ended';
    this.hub.sendTo(
      { type: 'file_end', transfer: id, from: member.user },
      receivers.map((recipient) => recipient.member),
    );
    this.emit({ transfer: id, action: 'end', from: member.user, size: transfer.bytes });
    return undefined;
  }

  /** Step 4: a receiver's verdict (size and SHA-256 checked), relayed to the offerer with `user`. */
  result(member: Member, id: string, ok: boolean, reason: string | undefined): Refusal | undefined {
    const found = this.asRecipient(member, id);
    if ('code' in found) return found;
    const { transfer, recipient } = found;
    if (recipient.state !== 'ended') return refuse('bad_request', `file_result comes after file_end; transfer ${id} has not ended`);
    this.deliver(transfer.sender, { type: 'file_result', transfer: id, ok, ...(reason !== undefined && { reason }), user: member.user });
    this.emit({ transfer: id, action: 'result', from: transfer.sender.user, user: member.user, ok, ...(reason !== undefined && { reason }) });
    this.dropRecipient(transfer, member);
    return undefined;
  }

  /**
   * Step 5: either side stops. From the offerer, every recipient gets `file_cancel` and the
   * transfer is over; from a recipient, only the offerer is told and the others carry on.
   */
  cancel(member: Member, id: string, reason = 'cancelled'): Refusal | undefined {
    const transfer = this.transfers.get(id);
    if (transfer?.sender === member) {
      this.cancelAll(transfer, reason, member.user);
      return undefined;
    }
    const found = this.asRecipient(member, id);
    if ('code' in found) return found;
    this.deliver(found.transfer.sender, { type: 'file_cancel', transfer: id, reason, user: member.user });
    this.emit({ transfer: id, action: 'cancel', from: found.transfer.sender.user, user: member.user, reason });
    this.dropRecipient(found.transfer, member);
    return undefined;
  }

  /** A member left the chat (quit, drop, shutdown): its transfers end, the other side is told why. */
  departed(member: Member, reason: string): void {
    for (const id of [...(this.involved.get(member) ?? [])]) {
      const transfer = this.transfers.get(id);
      if (!transfer) continue;
      if (transfer.sender === member) {
        this.cancelAll(transfer, reason, member.user);
      } else if (transfer.recipients.get(member.user)?.member === member) {
        this.deliver(transfer.sender, { type: 'file_cancel', transfer: id, reason, user: member.user });
        this.emit({ transfer: id, action: 'cancel', from: transfer.sender.user, user: member.user, reason });
        this.dropRecipient(transfer, member);
      }
    }
    this.involved.delete(member);
    this.offered.delete(member);
  }

  // ------------------------------------------------------------ helpers

  private asSender(member: Member, id: string, what: string): Transfer | Refusal {
    const transfer = this.transfers.get(id);
    if (!transfer || (transfer.sender !== member && transfer.recipients.get(member.user)?.member !== member)) return unknownTransfer(id);
    if (transfer.sender !== member) return refuse('bad_request', `only ${transfer.sender.user}, who offered transfer ${id}, sends ${what}`);
    if (transfer.ended) return refuse('bad_request', `transfer ${id} has already ended`);
    return transfer;
  }

  private asRecipient(member: Member, id: string): { transfer: Transfer; recipient: Recipient } | Refusal {
    const transfer = this.transfers.get(id);
    const recipient = transfer?.recipients.get(member.user);
    if (!transfer || !recipient || recipient.member !== member) {
      if (transfer?.sender === member) return refuse('bad_request', `you offered transfer ${id}; only its recipients send that`);
      return unknownTransfer(id);
    }
    return { transfer, recipient };
  }

  private accepted(transfer: Transfer): Recipient[] {
    return [...transfer.recipients.values()].filter((recipient) => recipient.state === 'accepted');
  }

  /** Data starts (or the transfer ends): recipients who never answered are out. */
  private closeOffer(transfer: Transfer): void {
    for (const recipient of [...transfer.recipients.values()]) {
      if (recipient.state !== 'offered') continue;
      this.deliver(recipient.member, { type: 'file_cancel', transfer: transfer.id, reason: 'too_late', user: transfer.sender.user });
      this.deliver(transfer.sender, { type: 'file_cancel', transfer: transfer.id, reason: 'too_late', user: recipient.member.user });
      this.dropRecipient(transfer, recipient.member);
    }
  }

  /** The offerer broke the protocol: the transfer is cancelled for everyone, and the offerer is told why. */
  private violation(transfer: Transfer, message: string): Refusal {
    this.cancelAll(transfer, 'protocol_error', transfer.sender.user);
    this.deliver(transfer.sender, { type: 'file_cancel', transfer: transfer.id, reason: 'protocol_error' });
    return refuse('bad_request', `${message}; transfer ${transfer.id} is cancelled`);
  }

  private cancelAll(transfer: Transfer, reason: string, user: string): void {
    this.hub.sendTo(
      { type: 'file_cancel', transfer: transfer.id, reason, user },
      [...transfer.recipients.values()].map((recipient) => recipient.member),
    );
    this.emit({ transfer: transfer.id, action: 'cancel', from: transfer.sender.user, user, reason });
    this.forget(transfer);
  }

  private dropRecipient(transfer: Transfer, member: Member): void {
    transfer.recipients.delete(member.user);
    this.involved.get(member)?.delete(transfer.id);
    if (transfer.recipients.size === 0) this.forget(transfer);
  }

  private forget(transfer: Transfer): void {
    if (!this.transfers.delete(transfer.id)) return;
    for (const recipient of transfer.recipients.values()) this.involved.get(recipient.member)?.delete(transfer.id);
    this.involved.get(transfer.sender)?.delete(transfer.id);
    const count = (this.offered.get(transfer.sender) ?? 1) - 1;
    if (count > 0) this.offered.set(transfer.sender, count);
    else this.offered.delete(transfer.sender);
  }

  private involve(member: Member, id: string): void {
    let ids = this.involved.get(member);
    if (!ids) this.involved.set(member, (ids = new Set()));
    ids.add(id);
  }

  private deliver(member: Member, frame: ServerFrame): void {
    this.hub.sendTo(frame, [member]);
  }
}

function refuse(code: ErrorCode, message: string): Refusal {
  return { code, message };
}

function unknownTransfer(id: string): Refusal {
  return refuse('unknown_transfer', `there is no transfer "${id}" that you take part in`);
}
