/**
 * fast-check generators for chatlab/1: a valid frame of every client and server type, and the
 * invalid lines a receiver must refuse, each with the one error it must answer. Shared by the
 * property tests (src/protocol/*.property.test.ts) and the fuzz-and-oracle script (scripts/fuzz.ts).
 *
 * ```ts
 * fc.assert(fc.property(anyClientFrame, (frame) => validateClientFrame(frame).ok));
 * fc.assert(fc.property(invalidClientLine, ({ line, code, id }) => …));
 * ```
 *
 * Valid frames stay inside the contract (ids: strings of at most 64 characters or safe integers)
 * and hold only fields their type knows, so validation returns them unchanged.
 */
import fc from 'fast-check';
import { CLIENT_FRAME_SPECS, CORE_ERROR_CODES, EXTENSION_ERROR_CODES, MAX_TEXT_CHARS, encodeFrame, type ClientFrame, type RawFrame, type RequestId, type ServerFrame } from '../src/protocol/index.ts';

// ---------------------------------------------------------------- field values

/** Text of any kind: ASCII, any code point (4-byte UTF-8 included), whole graphemes (emoji, flags). */
const anyText = (minLength: number, maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(fc.string({ unit: 'grapheme-ascii', minLength, maxLength }), fc.string({ unit: 'binary', minLength, maxLength }), fc.string({ unit: 'grapheme', minLength, maxLength }));

export const userName = fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/);
export const roomName = fc.stringMatching(/^[a-z0-9_-]{1,32}$/);
/** A `say` text: 1 to 60 code points, or (rarely) the full 4,000. */
export const sayText = fc.oneof({ weight: 20, arbitrary: anyText(1, 60) }, { weight: 1, arbitrary: fc.constant('👋'.repeat(MAX_TEXT_CHARS)) });
/** A request id as the contract allows it: a string of at most 64 characters, or a safe integer. */
export const requestId: fc.Arbitrary<RequestId> = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 16 }), fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), fc.nat(1_000));
const count = fc.nat();
const positive = fc.integer({ min: 1, max: 2 ** 31 });
const timestamp = fc.integer({ min: 0, max: 4_102_444_800_000 });
const transferId = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const sha256 = fc.stringMatching(/^[0-9a-f]{64}$/);
const fileName = fc.stringMatching(/^[A-Za-z0-9_-]{1,40}\.[a-z]{1,4}$/);
const chunkData = fc.uint8Array({ maxLength: 96 }).map((bytes) => Buffer.from(bytes).toString('base64'));
const reason = anyText(0, 40);
const anyString = anyText(0, 40);
const names = fc.array(userName, { maxLength: 8 });
const errorCode = fc.constantFrom(...CORE_ERROR_CODES, ...EXTENSION_ERROR_CODES);

/**
 * A frame of `type`: `required` fields always present, `optional` ones present or absent.
 * (fast-check's `requiredKeys` leaves every other key out at random.)
 */
function frame<F>(type: string, required: Record<string, fc.Arbitrary<unknown>>, optional: Record<string, fc.Arbitrary<unknown>> = {}): fc.Arbitrary<F> {
  const model: Record<string, fc.Arbitrary<unknown>> = { type: fc.constant(type), ...required, ...optional };
  return fc.record(model, { requiredKeys: ['type', ...Object.keys(required)] }) as unknown as fc.Arbitrary<F>;
}

// ---------------------------------------------------------------- valid frames

/** One generator per client frame type (the Record type makes a missing type a compile error). */
export const clientFrames: Record<ClientFrame['type'], fc.Arbitrary<ClientFrame>> = {
  login: frame('login', { user: userName, password: anyText(1, 30) }, { since: count, id: requestId }),
  register: frame('register', { user: userName, password: anyText(6, 30) }, { id: requestId }),
  say: frame('say', { text: sayText }, { to: userName, room: roomName, id: requestId }),
  quit: frame('quit', {}, { id: requestId }),
  who: frame('who', {}, { room: roomName, id: requestId }),
  ping: frame('ping', {}, { id: requestId }),
  join: frame('join', { room: roomName }, { id: requestId }),
  leave: frame('leave', { room: roomName }, { id: requestId }),
  rooms: frame('rooms', {}, { id: requestId }),
  history: frame('history', {}, { room: roomName, to: userName, before: positive, limit: positive, id: requestId }),
  file_offer: frame('file_offer', { name: fileName, size: count, sha256 }, { to: userName, room: roomName, id: requestId }),
  file_accept: frame('file_accept', { transfer: transferId }, { id: requestId }),
  file_decline: frame('file_decline', { transfer: transferId }, { id: requestId }),
  file_chunk: frame('file_chunk', { transfer: transferId, seq: count, data: chunkData }, { id: requestId }),
  file_ack: frame('file_ack', { transfer: transferId, seq: count }, { id: requestId }),
  file_end: frame('file_end', { transfer: transferId }, { id: requestId }),
  file_result: frame('file_result', { transfer: transferId, ok: fc.boolean() }, { reason, id: requestId }),
  file_cancel: frame('file_cancel', { transfer: transferId }, { reason, id: requestId }),
};

/** One generator per server frame type. */
export const serverFrames: Record<ServerFrame['type'], fc.Arbitrary<ServerFrame>> = {
  hello: frame('hello', { protocol: fc.constant('chatlab/1') }, { server: anyString, motd: anyString }),
  welcome: frame('welcome', { user: userName, users: names }, { id: requestId }),
  presence: frame('presence', { user: userName, status: fc.constantFrom('online', 'offline') }, { reason: anyString, room: roomName }),
  message: frame('message', { from: userName, text: sayText, ts: timestamp }, { to: userName, room: roomName, msgid: positive, history: fc.boolean(), queued: fc.boolean() }),
  ok: frame('ok', {}, { id: requestId, msgid: positive, queued: fc.boolean(), transfer: transferId, users: names }),
  error: frame('error', { code: errorCode, message: anyString }, { id: requestId }),
  bye: frame('bye', {}, { reason: anyString }),
  users: frame('users', { users: names }, { room: roomName, id: requestId }),
  pong: frame('pong', { ts: timestamp }, { id: requestId }),
  history_end: frame('history_end', { count }, { last_msgid: count, room: roomName, to: userName, truncated: fc.boolean(), id: requestId }),
  room_list: frame('room_list', { rooms: fc.array(fc.record({ room: roomName, users: count }), { maxLength: 5 }) }, { id: requestId }),
  file_offer: frame('file_offer', { transfer: transferId, from: userName, name: fileName, size: count, sha256 }, { to: userName, room: roomName }),
  file_accept: frame('file_accept', { transfer: transferId, user: userName }),
  file_decline: frame('file_decline', { transfer: transferId, user: userName }),
  file_chunk: frame('file_chunk', { transfer: transferId, seq: count, data: chunkData, from: userName }),
  file_ack: frame('file_ack', { transfer: transferId, seq: count, user: userName }),
  file_end: frame('file_end', { transfer: transferId, from: userName }),
  file_result: frame('file_result', { transfer: transferId, ok: fc.boolean(), user: userName }, { reason: anyString }),
  file_cancel: frame('file_cancel', { transfer: transferId, reason: anyString }, { user: userName }),
};

/** Any valid client frame, every type equally likely. */
export const anyClientFrame: fc.Arbitrary<ClientFrame> = fc.oneof(...Object.values(clientFrames));
/** Any valid server frame, every type equally likely. */
export const anyServerFrame: fc.Arbitrary<ServerFrame> = fc.oneof(...Object.values(serverFrames));

// ---------------------------------------------------------------- invalid lines

/** The one error a receiver must answer to an invalid line: its code and the id it echoes. */
export interface InvalidLine {
  /** What kind of fault it is (for failure reports and the fuzz tally). */
  kind: string;
  /** The line's bytes, without its terminator (never holds `\n`). */
  line: Buffer;
  code: 'bad_frame' | 'frame_too_large' | 'unknown_type' | 'bad_request';
  /** The id the answer must carry (absent: no id). */
  id?: RequestId;
}

const NEWLINE = 0x0a;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const LONE_SURROGATE = '\ud83d';
/** Values no client field accepts: wrong kinds, and a string that is not well-formed Unicode. */
const wrongValue = fc.constantFrom<unknown>(null, {}, [], [1, 'x'], { nested: true }, `a${LONE_SURROGATE}b`);
/** Byte sequences a strict UTF-8 decoder refuses: stray continuation, truncated, overlong, a surrogate, > U+10FFFF. */
const badUtf8 = fc.constantFrom([0x80], [0xff], [0xc3], [0xe2, 0x82], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]);

const line = (text: string): Buffer => Buffer.from(text, 'utf8');
/** The bytes of a frame without its `\n` (encodeFrame, so escaping is the reference encoder's). */
const frameLine = (value: unknown): Buffer => encodeFrame(value as RawFrame).subarray(0, -1);

/**
 * Garbage: any bytes but `\n`, starting with a byte that no JSON object and no blank line can
 * start with (everything but space, tab, CR, LF and `{`), so it can never be a frame.
 */
const garbage: fc.Arbitrary<InvalidLine> = fc
  .tuple(
    fc.integer({ min: 0, max: 255 }).filter((b) => ![0x20, 0x09, 0x0d, 0x0a, 0x7b].includes(b)),
    fc.uint8Array({ maxLength: 60 }),
  )
  .map(([first, rest]) => ({ kind: 'garbage', line: Buffer.from([first, ...rest.filter((b) => b !== NEWLINE)]), code: 'bad_frame' }));

const notAnObject: fc.Arbitrary<InvalidLine> = fc
  .jsonValue({ maxDepth: 2 })
  .filter((value) => typeof value !== 'object' || value === null || Array.isArray(value))
  .map((value) => ({ kind: 'json that is not an object', line: line(JSON.stringify(value)), code: 'bad_frame' }));

const noStringType: fc.Arbitrary<InvalidLine> = fc
  .tuple(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 4 }), fc.option(fc.jsonValue({ maxDepth: 1 }).filter((t) => typeof t !== 'string')))
  .map(([fields, type]) => {
    const value: Record<string, unknown> = { ...fields };
    delete value.type;
    if (type !== null) value.type = type;
    return { kind: 'object without a string type', line: line(JSON.stringify(value)), code: 'bad_frame' };
  });

const withBom: fc.Arbitrary<InvalidLine> = anyClientFrame.map((f) => ({ kind: 'frame after a BOM', line: Buffer.concat([BOM, frameLine(f)]), code: 'bad_frame' }));

const notUtf8: fc.Arbitrary<InvalidLine> = fc.tuple(fc.string({ maxLength: 10 }), badUtf8).map(([text, bytes]) => ({
  kind: 'frame that is not UTF-8',
  line: Buffer.concat([line(`{"type":"say","text":${JSON.stringify(text).slice(0, -1)}`), Buffer.from(bytes), line('"}')]),
  code: 'bad_frame',
}));

const unknownType: fc.Arbitrary<InvalidLine> = fc
  .tuple(
    fc.string({ maxLength: 20 }).filter((t) => !Object.hasOwn(CLIENT_FRAME_SPECS, t)),
    fc.option(requestId, { nil: undefined }),
  )
  .map(([type, id]) => ({ kind: 'unknown type', line: frameLine({ type, ...(id !== undefined && { id }) }), code: 'unknown_type', ...(id !== undefined && { id }) }));

/** A valid client frame with one known field given a wrong value, or a required field left out. */
const wrongField: fc.Arbitrary<InvalidLine> = fc
  .tuple(anyClientFrame, fc.option(requestId, { nil: undefined }), fc.nat(), wrongValue, fc.boolean())
  .filter(([f]) => Object.keys(CLIENT_FRAME_SPECS[f.type].fields).length > 0)
  .map(([f, id, pick, value, remove]) => {
    const spec = CLIENT_FRAME_SPECS[f.type].fields;
    const value_: Record<string, unknown> = { ...f };
    if (id === undefined) delete value_.id;
    else value_.id = id;
    const requiredNames = Object.keys(spec).filter((name) => !spec[name]?.optional);
    if (remove && requiredNames.length > 0) {
      delete value_[requiredNames[pick % requiredNames.length] as string];
    } else {
      const fieldNames = Object.keys(spec);
      value_[fieldNames[pick % fieldNames.length] as string] = value;
    }
    const echoed = value_.id;
    const echo = typeof echoed === 'string' ? !/[\uD800-\uDFFF]/u.test(echoed) : typeof echoed === 'number';
    return { kind: remove ? 'required field missing' : 'field of the wrong kind', line: frameLine(value_), code: 'bad_request', ...(echo && { id: echoed as RequestId }) };
  });

/** A client line the validator (not the decoder) refuses: unknown type or bad field. */
export const invalidRequest: fc.Arbitrary<InvalidLine> = fc.oneof(unknownType, wrongField);

/** A line the decoder refuses with `bad_frame` (the connection stays open). */
export const badFrameLine: fc.Arbitrary<InvalidLine> = fc.oneof(garbage, notAnObject, noStringType, withBom, notUtf8);

/** Any invalid client line that a server answers and keeps the connection for. */
export const invalidClientLine: fc.Arbitrary<InvalidLine> = fc.oneof(badFrameLine, invalidRequest);

/** A line of `limit` to `3 × limit` bytes without a newline (for a decoder with a small limit). */
export function oversizedLine(limit: number): fc.Arbitrary<InvalidLine> {
  return fc
    .tuple(fc.integer({ min: limit, max: 3 * limit }), fc.constantFrom('a', '"', '👋'))
    .map(([size, filler]) => ({ kind: 'oversized line', line: Buffer.from(filler.repeat(size)).subarray(0, size), code: 'frame_too_large' }));
}
