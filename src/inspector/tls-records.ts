import { hexBytes } from './text/bytes.ts';

/** The content types of a TLS record (RFC 8446 §5.1, RFC 5246 §6.2.1), by the record's first byte. */
export const TLS_CONTENT_TYPES: Readonly<Record<number, string>> = {
  0x14: 'change_cipher_spec',
  0x15: 'alert',
  0x16: 'handshake',
  0x17: 'application data',
};

/** Bytes of a record header: content type (1), legacy version (2), body length (2). */
export const TLS_HEADER_BYTES = 5;

/** The longest record body TLS 1.2 allows (2^14 + 2048); TLS 1.3 allows less. */
export const TLS_MAX_BODY_BYTES = 16_384 + 2_048;

// Handshake messages whose type byte can be read in clear (before the keys are in use).
const HANDSHAKE_TYPES: Readonly<Record<number, string>> = {
  1: 'ClientHello',
  2: 'ServerHello',
  4: 'NewSessionTicket',
  8: 'EncryptedExtensions',
  11: 'Certificate',
  12: 'ServerKeyExchange',
  13: 'CertificateRequest',
  14: 'ServerHelloDone',
  15: 'CertificateVerify',
  16: 'ClientKeyExchange',
  20: 'Finished',
};

/** The part of one TLS record that one chunk (one read) holds. */
export interface TlsSegment {
  /** Content type byte (0x14–0x17); see {@link TLS_CONTENT_TYPES}. */
  type: number;
  /** Offset in the record (header included) of this segment's first byte: 0 = the record starts here. */
  start: number;
  /** Bytes of the record in this chunk. */
  bytes: number;
  /** Body length from the header, once all five header bytes were seen. */
  length?: number;
  /** The header bytes this chunk holds (all five when the record starts here and the header is whole). */
  header: Buffer;
  /** The record ends in this chunk. */
  complete: boolean;
  /** Handshake messages named in clear in this part of the body (`ClientHello`…), if any. */
  handshake?: string[];
}

/** Is `byte`, at `index` of a record header, what a TLS record header can hold there? */
function headerByteOk(index: number, byte: number, seen: number[]): boolean {
  if (index === 0) return byte >= 0x14 && byte <= 0x17;
  if (index === 1) return byte === 0x03;
  if (index === 2) return byte <= 0x04;
  if (index === 4) return (((seen[3] as number) << 8) | byte) <= TLS_MAX_BODY_BYTES;
  return true;
}

/**
 * A TLS stream begins with a ClientHello (1) or ServerHello (2) in a handshake record, or with an
 * alert (level 1 or 2) when a server refuses at once. Checking that first record keeps other
 * binary protocols whose first bytes happen to look like a record header from being taken for TLS.
 */
function firstRecordOk(type: number, length: number): boolean {
  return (type === 0x16 && length >= 4) || (type === 0x15 && length === 2);
}

function firstBodyByteOk(byte: number): boolean {
  return byte === 1 || byte === 2;
}

interface OpenRecord {
  type: number;
  header: number[];
  /** Bytes of the record seen so far, header included. */
  seen: number;
  length?: number;
}

/**
 * Follows the TLS record layer of one direction of a raw byte stream, read by read: a small
 * state machine in the style of ws's receiver (header, then body, then the next header), so a
 * record split over reads, or several records in one read, are both told apart exactly.
 *
 * A stream is taken as TLS while it starts like TLS (a ClientHello, a ServerHello or an alert)
 * and every record header is plausible (type 0x14–0x17, version 03 00–03 04, length within the
 * limit); the first implausible byte turns it off for good, and {@link push} returns `undefined`
 * from then on. It reads only the clear headers, and the type and length of the handshake
 * messages sent before the keys are in use (ClientHello, ServerHello…); never encrypted content.
 */
export class TlsRecordTracker {
  private state: 'tls' | 'off' | 'resync' = 'tls';
  private record: OpenRecord | undefined;
  private everSeen = false;
  // Handshake messages are named until change_cipher_spec (after it, TLS 1.2 encrypts them)
  // or until the message layer is lost; a message may span records and reads.
  private handshake: { named: boolean; header: number[]; remaining: number } = { named: true, header: [], remaining: 0 };
  // The first record of the stream is still to be checked (see firstRecordOk).
  private checkFirst = true;

  /** True once at least one chunk was recognised as TLS records (and the stream is still TLS). */
  get isTls(): boolean {
    return this.state !== 'off' && this.everSeen;
  }

  /** Bytes were lost: forget the open record and pick up again at the next read that starts a record. */
  resync(): void {
    if (this.state === 'off') return;
    this.state = 'resync';
    this.record = undefined;
    // The start of the stream may be what was lost: any record type may come next.
    this.checkFirst = false;
    this.handshake.named = false;
  }

  /** The TLS record parts `chunk` holds, or `undefined` when the stream is not (or no longer) TLS. */
  push(chunk: Uint8Array): TlsSegment[] | undefined {
    if (this.state === 'off' || chunk.length === 0) return undefined;
    const resyncing = this.state === 'resync';
    const segments: TlsSegment[] = [];
    let i = 0;
    while (i < chunk.length) {
      let record = this.record;
      if (!record) {
        record = { type: chunk[i] as number, header: [], seen: 0 };
        this.record = record;
      }
      const start = record.seen;
      const headerFrom = record.header.length;
      while (record.header.length < TLS_HEADER_BYTES && i < chunk.length) {
        const byte = chunk[i] as number;
        if (!headerByteOk(record.header.length, byte, record.header)) return this.notTls(resyncing);
        record.header.push(byte);
        record.seen++;
        i++;
      }
      const headerHere = Buffer.from(record.header.slice(headerFrom));
      const bodyFrom = i;
      if (record.header.length === TLS_HEADER_BYTES) {
        record.length ??= ((record.header[3] as number) << 8) | (record.header[4] as number);
        if (this.checkFirst && !firstRecordOk(record.type, record.length)) return this.notTls(resyncing);
        const take = Math.min(chunk.length - i, TLS_HEADER_BYTES + record.length - record.seen);
        if (record.seen === TLS_HEADER_BYTES && take > 0) {
          if (this.checkFirst && !firstBodyByteOk(chunk[i] as number)) return this.notTls(resyncing);
          this.checkFirst = false;
        }
        i += take;
        record.seen += take;
      }
      const complete = record.length !== undefined && record.seen === TLS_HEADER_BYTES + record.length;
      const segment: TlsSegment = { type: record.type, start, bytes: record.seen - start, header: headerHere, complete };
      if (record.length !== undefined) segment.length = record.length;
      if (record.type === 0x16 && this.handshake.named && i > bodyFrom) {
        const names = this.handshakeNames(chunk.subarray(bodyFrom, i));
        if (names.length > 0) segment.handshake = names;
      }
      if (record.type === 0x14) this.handshake.named = false;
      segments.push(segment);
      if (complete) this.record = undefined;
    }
    this.state = 'tls';
    this.everSeen = true;
    return segments;
  }

  // Walks handshake bytes (type 1 B, length 3 B, body) as they come, naming each message whose
  // type byte is here. An unknown type means the bytes are not what we think: stop naming.
  private handshakeNames(bytes: Uint8Array): string[] {
    const names: string[] = [];
    const hs = this.handshake;
    let offset = 0;
    while (offset < bytes.length && hs.named) {
      if (hs.remaining > 0) {
        const skip = Math.min(hs.remaining, bytes.length - offset);
        offset += skip;
        hs.remaining -= skip;
        continue;
      }
      const byte = bytes[offset++] as number;
      if (hs.header.length === 0) {
        const name = HANDSHAKE_TYPES[byte];
        if (!name) {
          hs.named = false;
          break;
        }
        names.push(name);
      }
      hs.header.push(byte);
      if (hs.header.length === 4) {
        hs.remaining = ((hs.header[1] as number) << 16) | ((hs.header[2] as number) << 8) | (hs.header[3] as number);
        hs.header = [];
      }
    }
    return names;
  }

  private notTls(resyncing: boolean): undefined {
    this.record = undefined;
    // After a gap the read may start inside a record: wait for one that starts with a header.
    this.state = resyncing ? 'resync' : 'off';
    return undefined;
  }
}

/** The name of a record's content type: `handshake`, `application data`… */
export function tlsTypeName(type: number): string {
  return TLS_CONTENT_TYPES[type] ?? `type 0x${type.toString(16)}`;
}

/**
 * The arrow label of a chunk of TLS records: `TLS handshake 349 B`, `TLS application data ×2
 * (146 B)`, `TLS change_cipher_spec + application data (80 B)`; a record begun in an earlier read
 * is marked `(cont.)`. `total` is the chunk's size.
 */
export function tlsLabel(segments: TlsSegment[], total: number): string {
  const groups: Array<{ name: string; count: number; continued: boolean }> = [];
  for (const segment of segments) {
    const name = tlsTypeName(segment.type);
    const continued = segment.start > 0;
    const last = groups[groups.length - 1];
    if (last && last.name === name && !last.continued && !continued) last.count++;
    else groups.push({ name, count: 1, continued });
  }
  const parts = groups.map((g) => `${g.name}${g.count > 1 ? ` ×${g.count}` : ''}${g.continued ? ' (cont.)' : ''}`);
  if (groups.length === 1 && groups[0]?.count === 1) return `TLS ${parts[0]} ${total} B`;
  return `TLS ${parts.join(' + ')} (${total} B)`;
}

/**
 * One segment as the learner can read it: the clear header in hex and the size of the body that
 * follows (`16 03 01 01 58 + 344 B: ClientHello`), `(of N)` when the record goes on in a later
 * read, a leading `…` when it began in an earlier one.
 */
export function describeTlsSegment(segment: TlsSegment): string {
  const headerBytes = segment.header.length;
  const body = segment.bytes - headerBytes;
  let text = segment.start > 0 ? '…' : '';
  if (headerBytes > 0) text += hexBytes(segment.header);
  if (segment.length === undefined) return `${text}… (header cut)`;
  text += ` + ${body} B`;
  if (!segment.complete || segment.start > 0) text += ` (of ${segment.length})`;
  if (segment.handshake) text += `: ${segment.handshake.join(', ')}`;
  return text;
}

/** The summary of a chunk of TLS records: each record part, in order, `|` between records. */
export function tlsSummary(segments: TlsSegment[]): string {
  return segments.map(describeTlsSegment).join(' | ');
}

/** The one-time note for a connection seen to carry TLS. */
export const TLS_NOTE = 'TLS: the frames inside are encrypted; the 10-step checklist cannot see them';
