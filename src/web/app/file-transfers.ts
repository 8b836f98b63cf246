/**
 * File transfer in the page, as docs/protocol-extensions.md ("File transfer") says: an offer with
 * the SHA-256 (WebCrypto), chunks of at most 32 KiB in base64 with at most 8 unacknowledged per
 * receiver, `file_end`, and the receiver's `file_result` after it checked size and SHA-256. A
 * received file is offered for download only once the check passed.
 */
import { reactive } from 'vue';
import { FILE_WINDOW_CHUNKS, MAX_FILE_CHUNK_BYTES, sanitizeFileName } from '../../protocol/browser.ts';
import { privateKey, roomKey, type Conversation, type FileSession } from './conversations.ts';

/** Largest file the page receives (it holds it in memory until the check): the reference server's maxFileBytes. */
export const MAX_RECEIVE_BYTES = 100 * 1024 * 1024;
/** In a room, sending starts this long after the first accept even if some never answer. */
const ROOM_START_DELAY_MS = 10_000;

/** One transfer as the page shows it. */
export interface Transfer {
  /** The server's transfer id (`t7`); for an offer not yet answered, a local `local-N`. */
  id: string;
  direction: 'send' | 'receive';
  name: string;
  size: number;
  sha256: string;
  /** Who sent it (receive) or to whom (send: a user or `#room`). */
  peer: string;
  status: 'hashing' | 'offered' | 'incoming' | 'sending' | 'receiving' | 'done' | 'declined' | 'failed';
  /** 0–1. */
  progress: number;
  /** One sentence on where it stands. */
  detail: string;
  /** After a passed check: the object URL to download it from, and the safe name to save it as. */
  downloadUrl?: string;
  downloadName?: string;
}

type Frame = Record<string, unknown> & { type: string };

interface Outgoing {
  transfer: Transfer;
  bytes: Uint8Array;
  users: string[];
  accepted: Set<string>;
  answered: Set<string>;
  acked: Map<string, number>;
  nextSeq: number;
  chunks: number;
  started: boolean;
  ended: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

interface Incoming {
  transfer: Transfer;
  parts: Uint8Array[];
  bytes: number;
}

/** Lower-case hex SHA-256 of `bytes`, by WebCrypto. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 8_192) binary += String.fromCharCode(...bytes.subarray(i, i + 8_192));
  return btoa(binary);
}

function fromBase64(data: string): Uint8Array | null {
  try {
    const binary = atob(data);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return null;
  }
}

/** The transfers of one browser session, both ways. */
export class FileTransfers {
  readonly list = reactive<Transfer[]>([]);
  private readonly outgoing = new Map<string, Outgoing>();
  private readonly incoming = new Map<string, Incoming>();
  private nextLocal = 1;

  constructor(private readonly session: FileSession) {}

  /** The transfer with this id (reactive), if any. */
  find(id: string): Transfer | undefined {
    return this.list.find((t) => t.id === id);
  }

  /** Offers `file` in `conversation`: to its user, or to the other members of its room. */
  async send(file: File, conversation: Conversation): Promise<void> {
    const peer = conversation.kind === 'private' ? conversation.name : `#${conversation.name}`;
    this.list.push({ id: `local-${this.nextLocal++}`, direction: 'send', name: file.name, size: file.size, sha256: '', peer, status: 'hashing', progress: 0, detail: 'computing SHA-256…' });
    const transfer = this.list[this.list.length - 1] as Transfer;
    const line = this.session.addLine(conversation, { kind: 'file', from: this.session.state.user, text: file.name, ts: Date.now(), own: true, transfer: transfer.id });
    const bytes = new Uint8Array(await file.arrayBuffer());
    transfer.sha256 = await sha256Hex(bytes);
    const target = conversation.kind === 'private' ? { to: conversation.name } : { room: conversation.name };
    let answer: Frame;
    try {
      answer = await this.session.request({ type: 'file_offer', ...target, name: file.name, size: bytes.length, sha256: transfer.sha256 });
    } catch (error) {
      Object.assign(transfer, { status: 'failed', detail: (error as Error).message });
      return;
    }
    transfer.id = String(answer.transfer);
    line.transfer = transfer.id;
    const users = Array.isArray(answer.users) ? (answer.users as string[]) : [];
    Object.assign(transfer, { status: 'offered', detail: `offered to ${users.join(', ')}; waiting for an answer` });
    this.outgoing.set(transfer.id, {
      transfer,
      bytes,
      users,
      accepted: new Set(),
      answered: new Set(),
      acked: new Map(),
      nextSeq: 0,
      chunks: Math.ceil(bytes.length / MAX_FILE_CHUNK_BYTES),
      started: false,
      ended: false,
    });
  }

  accept(id: string): void {
    const entry = this.incoming.get(id);
    if (!entry || entry.transfer.status !== 'incoming') return;
    this.session.send({ type: 'file_accept', transfer: id });
    Object.assign(entry.transfer, { status: 'receiving', detail: 'accepted; waiting for the data' });
  }

  decline(id: string): void {
    const entry = this.incoming.get(id);
    if (!entry || entry.transfer.status !== 'incoming') return;
    this.session.send({ type: 'file_decline', transfer: id });
    Object.assign(entry.transfer, { status: 'declined', detail: 'you declined it' });
    this.incoming.delete(id);
  }

  /** Handles one `file_*` frame from the server. */
  handle(frame: Frame): void {
    const id = String(frame.transfer);
    switch (frame.type) {
      case 'file_offer':
        return this.onOffer(frame, id);
      case 'file_chunk':
        return this.onChunk(frame, id);
      case 'file_end':
        void this.onEnd(id);
        return;
      case 'file_cancel':
        return this.onCancel(frame, id);
      case 'file_accept':
      case 'file_decline':
        return this.onAnswer(frame, id);
      case 'file_ack':
        return this.onAck(frame, id);
      case 'file_result':
        return this.onResult(frame, id);
    }
  }

  /** The connection ended: every unfinished transfer failed. */
  closed(why: string): void {
    for (const transfer of this.list) if (!['done', 'declined', 'failed'].includes(transfer.status)) Object.assign(transfer, { status: 'failed', detail: why });
  }

  private onOffer(frame: Frame, id: string): void {
    const from = String(frame.from);
    const size = Number(frame.size);
    const conversation: Conversation =
      typeof frame.room === 'string' ? this.session.conversation(roomKey(frame.room), 'room', frame.room) : this.session.conversation(privateKey(from), 'private', from);
    this.list.push({ id, direction: 'receive', name: String(frame.name), size, sha256: String(frame.sha256), peer: from, status: 'incoming', progress: 0, detail: `offered by ${from}` });
    const transfer = this.list[this.list.length - 1] as Transfer;
    this.incoming.set(id, { transfer, parts: [], bytes: 0 });
    if (size > MAX_RECEIVE_BYTES) this.decline(id);
    this.session.addLine(conversation, { kind: 'file', from, text: transfer.name, ts: Date.now(), transfer: id });
  }

  private onChunk(frame: Frame, id: string): void {
    const entry = this.incoming.get(id);
    if (!entry || entry.transfer.status !== 'receiving') return;
    const data = typeof frame.data === 'string' ? fromBase64(frame.data) : null;
    if (!data || entry.bytes + data.length > entry.transfer.size) {
      this.session.send({ type: 'file_cancel', transfer: id, reason: data ? 'more data than offered' : 'chunk is not base64' });
      this.fail(entry.transfer, data ? 'more data than offered: nothing kept' : 'a chunk was not base64: nothing kept');
      this.incoming.delete(id);
      return;
    }
    entry.parts.push(data);
    entry.bytes += data.length;
    this.session.send({ type: 'file_ack', transfer: id, seq: frame.seq });
    entry.transfer.progress = entry.transfer.size === 0 ? 1 : entry.bytes / entry.transfer.size;
    entry.transfer.detail = `receiving from ${entry.transfer.peer}`;
  }

  private async onEnd(id: string): Promise<void> {
    const entry = this.incoming.get(id);
    if (!entry) return;
    this.incoming.delete(id);
    const whole = new Uint8Array(entry.bytes);
    let at = 0;
    for (const part of entry.parts) {
      whole.set(part, at);
      at += part.length;
    }
    const sha256 = await sha256Hex(whole);
    const ok = whole.length === entry.transfer.size && sha256 === entry.transfer.sha256;
    const reason = whole.length !== entry.transfer.size ? 'size mismatch' : 'checksum mismatch';
    this.session.send(ok ? { type: 'file_result', transfer: id, ok: true } : { type: 'file_result', transfer: id, ok: false, reason });
    if (!ok) return this.fail(entry.transfer, `${reason}: nothing kept`);
    Object.assign(entry.transfer, {
      status: 'done',
      progress: 1,
      detail: 'received, SHA-256 checked',
      downloadUrl: URL.createObjectURL(new Blob([whole])),
      downloadName: sanitizeFileName(entry.transfer.name),
    });
  }

  private onCancel(frame: Frame, id: string): void {
    const who = typeof frame.user === 'string' ? `${frame.user}: ` : '';
    const reason = `${who}${String(frame.reason ?? 'cancelled')}`;
    const incoming = this.incoming.get(id);
    if (incoming) {
      this.incoming.delete(id);
      return this.fail(incoming.transfer, `cancelled (${reason}); nothing kept`);
    }
    const out = this.outgoing.get(id);
    if (!out) return;
    const user = typeof frame.user === 'string' ? frame.user : undefined;
    if (user !== undefined && user !== this.session.state.user) {
      out.answered.add(user);
      out.accepted.delete(user);
      out.acked.delete(user);
      out.users = out.users.filter((u) => u !== user);
      if (out.users.length > 0) return this.pump(out);
    }
    this.outgoing.delete(id);
    this.fail(out.transfer, `cancelled (${reason})`);
  }

  private onAnswer(frame: Frame, id: string): void {
    const out = this.outgoing.get(id);
    if (!out) return;
    const user = String(frame.user);
    out.answered.add(user);
    if (frame.type === 'file_accept') {
      out.accepted.add(user);
      out.acked.set(user, -1);
      out.timer ??= setTimeout(() => this.start(out), ROOM_START_DELAY_MS);
    }
    if (out.answered.size < out.users.length) return;
    if (out.accepted.size === 0) {
      this.outgoing.delete(id);
      Object.assign(out.transfer, { status: 'declined', detail: 'declined' });
      return;
    }
    this.start(out);
  }

  private start(out: Outgoing): void {
    clearTimeout(out.timer);
    if (out.started || !this.outgoing.has(out.transfer.id)) return;
    out.started = true;
    Object.assign(out.transfer, { status: 'sending', detail: `sending to ${[...out.accepted].join(', ')}` });
    this.pump(out);
  }

  /** Sends every chunk the window allows, then `file_end` after the last one. */
  private pump(out: Outgoing): void {
    if (!out.started || out.ended) return;
    const slowest = Math.min(...[...out.acked.values()]);
    while (out.nextSeq < out.chunks && out.nextSeq - slowest <= FILE_WINDOW_CHUNKS) {
      const from = out.nextSeq * MAX_FILE_CHUNK_BYTES;
      this.session.send({ type: 'file_chunk', transfer: out.transfer.id, seq: out.nextSeq, data: toBase64(out.bytes.subarray(from, from + MAX_FILE_CHUNK_BYTES)) });
      out.nextSeq++;
    }
    if (out.nextSeq === out.chunks) {
      out.ended = true;
      this.session.send({ type: 'file_end', transfer: out.transfer.id });
    }
  }

  private onAck(frame: Frame, id: string): void {
    const out = this.outgoing.get(id);
    if (!out) return;
    out.acked.set(String(frame.user), Number(frame.seq));
    const slowest = Math.min(...[...out.acked.values()]);
    out.transfer.progress = out.chunks === 0 ? 1 : Math.min(1, (slowest + 1) / out.chunks);
    this.pump(out);
  }

  private onResult(frame: Frame, id: string): void {
    const out = this.outgoing.get(id);
    if (!out) return;
    const user = String(frame.user);
    out.accepted.delete(user);
    if (frame.ok !== true) out.transfer.detail = `${user}: ${String(frame.reason ?? 'failed the check')}`;
    else out.transfer.detail = `delivered to ${user} (SHA-256 checked)`;
    if (out.accepted.size > 0) return;
    this.outgoing.delete(id);
    Object.assign(out.transfer, { status: frame.ok === true ? 'done' : 'failed', progress: frame.ok === true ? 1 : out.transfer.progress });
  }

  private fail(transfer: Transfer, detail: string): void {
    Object.assign(transfer, { status: 'failed', detail });
  }
}
