import { MAX_PASSWORD_CHARS, MAX_TEXT_CHARS, MIN_NEW_PASSWORD_CHARS, ROOM_NAME_PATTERN, USER_NAME_PATTERN, codePointLength } from './limits.ts';
import { MAX_FILE_CHUNK_BYTES, SHA256_PATTERN, base64DecodedLength, isOfferableFileName, MAX_FILE_NAME_CHARS } from './files.ts';
import { MAX_REQUEST_ID_CHARS, type ClientFrame, type RawFrame, type RequestId, type ServerFrame } from './frames.ts';

/** The outcome of validating a decoded frame's fields. */
export type Validation<T> = { ok: true; frame: T } | { ok: false; code: 'unknown_type' | 'bad_request'; message: string };

/** Returns why a field's value is wrong, or `null` when it is fine. */
type FieldCheck = (value: unknown) => string | null;

interface FieldSpec {
  check: FieldCheck;
  optional?: boolean;
}

/** How one frame type is checked. */
export interface FrameSpec {
  fields: Record<string, FieldSpec>;
  /** Whether a client may send it before logging in (client frames only). */
  beforeLogin?: boolean;
}

// ---------------------------------------------------------------- field checks

const userName: FieldCheck = (v) => (typeof v === 'string' && USER_NAME_PATTERN.test(v) ? null : 'must be a user name: 1–32 characters of A–Z a–z 0–9 _ -');

const roomName: FieldCheck = (v) => (typeof v === 'string' && ROOM_NAME_PATTERN.test(v) ? null : 'must be a room name: 1–32 characters of a–z 0–9 _ -');

const password =
  (min: number): FieldCheck =>
  (v) => {
    const length = typeof v === 'string' ? codePointLength(v) : -1;
    return length >= min && length <= MAX_PASSWORD_CHARS ? null : `must be a string of ${min}–${MAX_PASSWORD_CHARS} characters`;
  };

const text: FieldCheck = (v) => (typeof v === 'string' && v.length > 0 && codePointLength(v) <= MAX_TEXT_CHARS ? null : `must be a string of 1–${MAX_TEXT_CHARS} characters`);

const anyString: FieldCheck = (v) => (typeof v === 'string' ? null : 'must be a string');
const finiteNumber: FieldCheck = (v) => (typeof v === 'number' && Number.isFinite(v) ? null : 'must be a number');
const stringList: FieldCheck = (v) => (Array.isArray(v) && v.every((item) => typeof item === 'string') ? null : 'must be an array of strings');
const oneOf =
  (...allowed: string[]): FieldCheck =>
  (v) =>
    typeof v === 'string' && allowed.includes(v) ? null : `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`;
/** A flag that is either absent or `true` (`more` on a paged list). */
const onlyTrue: FieldCheck = (v) => (v === true ? null : 'must be true when present');
const boolean: FieldCheck = (v) => (typeof v === 'boolean' ? null : 'must be true or false');
const count: FieldCheck = (v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? null : 'must be a whole number ≥ 0');
const positiveCount: FieldCheck = (v) => (Number.isSafeInteger(v) && (v as number) >= 1 ? null : 'must be a whole number ≥ 1');
const shortText: FieldCheck = (v) => (typeof v === 'string' && codePointLength(v) <= MAX_REASON_CHARS ? null : `must be a string of at most ${MAX_REASON_CHARS} characters`);
const transferId: FieldCheck = (v) => (typeof v === 'string' && v.length > 0 && v.length <= 64 ? null : 'must be a transfer id (a string of 1–64 characters)');
const fileName: FieldCheck = (v) => (isOfferableFileName(v) ? null : `must be a string of 1–${MAX_FILE_NAME_CHARS} characters`);
const sha256: FieldCheck = (v) => (typeof v === 'string' && SHA256_PATTERN.test(v) ? null : 'must be a SHA-256 digest: 64 lower-case hex digits');
const chunkData: FieldCheck = (v) => {
  const bytes = typeof v === 'string' ? base64DecodedLength(v) : null;
  if (bytes === null) return 'must be standard base64 (A–Z a–z 0–9 + /, padded with =)';
  return bytes > MAX_FILE_CHUNK_BYTES ? `must hold at most ${MAX_FILE_CHUNK_BYTES} bytes (it holds ${bytes})` : null;
};
const roomCounts: FieldCheck = (v) =>
  Array.isArray(v) && v.every((item) => typeof item === 'object' && item !== null && typeof item.room === 'string' && Number.isSafeInteger(item.users))
    ? null
    : 'must be an array of {"room": string, "users": number}';
const requestId: FieldCheck = (v) => (isRequestId(v) ? null : `must be a string of at most ${MAX_REQUEST_ID_CHARS} characters or a whole number within ±(2^53−1)`);

const optional = (check: FieldCheck): FieldSpec => ({ check, optional: true });
const required = (check: FieldCheck): FieldSpec => ({ check });
const id = optional(requestId);

/** Longest `reason` of a `file_result` or `file_cancel`, in code points. */
const MAX_REASON_CHARS = 200;
const transfer = required(transferId);

// ---------------------------------------------------------------- frame tables

/** Every frame a client may send, with its fields. Extensions add entries in the same style. */
export const CLIENT_FRAME_SPECS: Record<ClientFrame['type'], FrameSpec> = {
  login: { fields: { user: required(userName), password: required(password(1)), since: optional(count), id }, beforeLogin: true },
  register: { fields: { user: required(userName), password: required(password(MIN_NEW_PASSWORD_CHARS)), id }, beforeLogin: true },
  say: { fields: { text: required(text), to: optional(userName), room: optional(roomName), id } },
  quit: { fields: { id } },
  who: { fields: { room: optional(roomName), id } },
  ping: { fields: { id }, beforeLogin: true },
  join: { fields: { room: required(roomName), id } },
  leave: { fields: { room: required(roomName), id } },
  rooms: { fields: { id } },
  history: { fields: { room: optional(roomName), to: optional(userName), before: optional(positiveCount), limit: optional(positiveCount), id } },
  file_offer: {
    fields: { to: optional(userName), room: optional(roomName), name: required(fileName), size: required(count), sha256: required(sha256), id },
  },
  file_accept: { fields: { transfer, id } },
  file_decline: { fields: { transfer, id } },
  file_chunk: { fields: { transfer, seq: required(count), data: required(chunkData), id } },
  file_ack: { fields: { transfer, seq: required(count), id } },
  file_end: { fields: { transfer, id } },
  file_result: { fields: { transfer, ok: required(boolean), reason: optional(shortText), id } },
  file_cancel: { fields: { transfer, reason: optional(shortText), id } },
};

/** Every frame a server may send, with its fields: what clients and the verifier check. */
export const SERVER_FRAME_SPECS: Record<ServerFrame['type'], FrameSpec> = {
  hello: { fields: { protocol: required(anyString), server: optional(anyString), motd: optional(anyString), features: optional(stringList) } },
  welcome: { fields: { user: required(anyString), users: required(stringList), more: optional(onlyTrue), id } },
  presence: {
    fields: { user: required(anyString), status: required(oneOf('online', 'offline')), reason: optional(anyString), room: optional(anyString) },
  },
  message: {
    fields: {
      from: required(anyString),
      text: required(anyString),
      ts: required(finiteNumber),
      to: optional(anyString),
      room: optional(anyString),
      msgid: optional(finiteNumber),
      history: optional(boolean),
      queued: optional(boolean),
    },
  },
  ok: { fields: { id, msgid: optional(finiteNumber), queued: optional(boolean), deferred: optional(boolean), transfer: optional(anyString), users: optional(stringList) } },
  error: { fields: { code: required(anyString), message: required(anyString), id } },
  bye: { fields: { reason: optional(anyString), id } },
  users: { fields: { users: required(stringList), room: optional(anyString), more: optional(onlyTrue), id } },
  pong: { fields: { ts: required(finiteNumber), id } },
  history_end: {
    fields: { count: required(count), last_msgid: optional(count), room: optional(anyString), to: optional(anyString), truncated: optional(boolean), id },
  },
  room_list: { fields: { rooms: required(roomCounts), id } },
  file_offer: {
    fields: {
      transfer: required(anyString),
      from: required(anyString),
      to: optional(anyString),
      room: optional(anyString),
      name: required(anyString),
      size: required(count),
      sha256: required(anyString),
    },
  },
  file_accept: { fields: { transfer: required(anyString), user: required(anyString) } },
  file_decline: { fields: { transfer: required(anyString), user: required(anyString) } },
  file_chunk: { fields: { transfer: required(anyString), seq: required(count), data: required(anyString), from: required(anyString) } },
  file_ack: { fields: { transfer: required(anyString), seq: required(count), user: required(anyString) } },
  file_end: { fields: { transfer: required(anyString), from: required(anyString) } },
  file_result: { fields: { transfer: required(anyString), ok: required(boolean), reason: optional(anyString), user: required(anyString) } },
  file_cancel: { fields: { transfer: required(anyString), reason: required(anyString), user: optional(anyString) } },
};

/** Most characters of a client's own value quoted back in an error message. */
const QUOTED_CHARS = 64;

/**
 * A client's string as an error message shows it: JSON-quoted (so control characters and lone
 * surrogates appear as escapes) and cut to {@link QUOTED_CHARS} characters, so the answer is
 * always well-formed and fits in a frame however long the value was.
 */
function quoteForMessage(value: string): string {
  const characters = [...value];
  if (characters.length <= QUOTED_CHARS) return JSON.stringify(value);
  return `${JSON.stringify(characters.slice(0, QUOTED_CHARS).join('')).slice(0, -1)}…" (${characters.length} characters)`;
}

/** A UTF-16 code unit of a surrogate pair standing alone: in `u` mode a real pair is one code point and does not match. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * The first lone surrogate in a value (a string, or strings nested in arrays and objects), written
 * as a JSON escape such as `\ud800`, or `null` when every string is well-formed Unicode. JSON's
 * `"\ud800"` escape can carry one, but UTF-8 cannot: stored or relayed it would turn into U+FFFD.
 */
export function findLoneSurrogate(value: unknown): string | null {
  if (typeof value === 'string') {
    const match = LONE_SURROGATE.exec(value);
    return match ? `\\u${match[0].charCodeAt(0).toString(16)}` : null;
  }
  if (typeof value !== 'object' || value === null) return null;
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    const found = findLoneSurrogate(item);
    if (found) return found;
  }
  return null;
}

/**
 * Checks a frame against a spec table. Every string in a known field must be well-formed Unicode
 * (no lone surrogate): the one rule that keeps what is relayed live and what history replays equal. The frame returned holds only the fields the spec knows,
 * so unknown fields (a forged `from` in a `say`, say) are dropped here, once, for every caller.
 */
export function validateWith<T>(specs: Record<string, FrameSpec>, raw: RawFrame): Validation<T> {
  const spec = Object.hasOwn(specs, raw.type) ? specs[raw.type] : undefined;
  if (!spec) return { ok: false, code: 'unknown_type', message: `unknown frame type ${quoteForMessage(raw.type)}` };
  const clean: Record<string, unknown> = { type: raw.type };
  for (const [name, field] of Object.entries(spec.fields)) {
    const value = raw[name];
    if (value === undefined) {
      if (field.optional) continue;
      return { ok: false, code: 'bad_request', message: `"${raw.type}" needs the field "${name}"` };
    }
    const surrogate = findLoneSurrogate(value);
    if (surrogate) return { ok: false, code: 'bad_request', message: `field "${name}" of "${raw.type}" contains a lone surrogate ${surrogate}: not valid Unicode` };
    const problem = field.check(value);
    if (problem) return { ok: false, code: 'bad_request', message: `field "${name}" of "${raw.type}" ${problem}` };
    clean[name] = value;
  }
  return { ok: true, frame: clean as T };
}

/** Validates a frame received from a client (what the server does with every frame). */
export function validateClientFrame(raw: RawFrame): Validation<ClientFrame> {
  return validateWith<ClientFrame>(CLIENT_FRAME_SPECS, raw);
}

/** Validates a frame received from a server (what clients and the verifier do). */
export function validateServerFrame(raw: RawFrame): Validation<ServerFrame> {
  return validateWith<ServerFrame>(SERVER_FRAME_SPECS, raw);
}

/**
 * Whether a value is a valid request id: a string of at most {@link MAX_REQUEST_ID_CHARS}
 * characters (well-formed Unicode), or an integer within ±(2^53−1), the integers every JSON parser
 * reads back exactly, so "the same id" holds in any language. `1.5`, `2**53`, `true`, `null`,
 * objects and arrays are not ids. The server also asks this of a frame it refuses, so an invalid
 * request with a valid id still gets its answer with that id; an invalid id is never echoed.
 */
export function isRequestId(value: unknown): value is RequestId {
  if (typeof value === 'number') return Number.isSafeInteger(value);
  return typeof value === 'string' && !LONE_SURROGATE.test(value) && codePointLength(value) <= MAX_REQUEST_ID_CHARS;
}

/** Whether a client may send this frame type before logging in. */
export function allowedBeforeLogin(type: string): boolean {
  return Object.hasOwn(CLIENT_FRAME_SPECS, type) && CLIENT_FRAME_SPECS[type as ClientFrame['type']].beforeLogin === true;
}
