import {
  MAX_PASSWORD_CHARS,
  MAX_TEXT_CHARS,
  MIN_NEW_PASSWORD_CHARS,
  ROOM_NAME_PATTERN,
  USER_NAME_PATTERN,
  codePointLength,
} from './limits.ts';
import type { ClientFrame, RawFrame, ServerFrame } from './frames.ts';

/** The outcome of validating a decoded frame's fields. */
export type Validation<T> =
  | { ok: true; frame: T }
  | { ok: false; code: 'unknown_type' | 'bad_request'; message: string };

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

const userName: FieldCheck = (v) =>
  typeof v === 'string' && USER_NAME_PATTERN.test(v) ? null : 'must be a user name: 1–32 characters of A–Z a–z 0–9 _ -';

const roomName: FieldCheck = (v) =>
  typeof v === 'string' && ROOM_NAME_PATTERN.test(v) ? null : 'must be a room name: 1–32 characters of a–z 0–9 _ -';

const password =
  (min: number): FieldCheck =>
  (v) =>
    typeof v === 'string' && codePointLength(v) >= min && codePointLength(v) <= MAX_PASSWORD_CHARS
      ? null
      : `must be a string of ${min}–${MAX_PASSWORD_CHARS} characters`;

const text: FieldCheck = (v) =>
  typeof v === 'string' && v.length > 0 && codePointLength(v) <= MAX_TEXT_CHARS
    ? null
    : `must be a string of 1–${MAX_TEXT_CHARS} characters`;

const anyString: FieldCheck = (v) => (typeof v === 'string' ? null : 'must be a string');
const finiteNumber: FieldCheck = (v) => (typeof v === 'number' && Number.isFinite(v) ? null : 'must be a number');
const stringList: FieldCheck = (v) =>
  Array.isArray(v) && v.every((item) => typeof item === 'string') ? null : 'must be an array of strings';
const oneOf =
  (...allowed: string[]): FieldCheck =>
  (v) =>
    typeof v === 'string' && allowed.includes(v) ? null : `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`;
const requestId: FieldCheck = (v) =>
  typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) ? null : 'must be a string or a number';

const optional = (check: FieldCheck): FieldSpec => ({ check, optional: true });
const required = (check: FieldCheck): FieldSpec => ({ check });
const id = optional(requestId);

// ---------------------------------------------------------------- frame tables

/** Every frame a client may send, with its fields. Extensions add entries in the same style. */
export const CLIENT_FRAME_SPECS: Record<ClientFrame['type'], FrameSpec> = {
  login: { fields: { user: required(userName), password: required(password(1)), id }, beforeLogin: true },
  register: { fields: { user: required(userName), password: required(password(MIN_NEW_PASSWORD_CHARS)), id }, beforeLogin: true },
  say: { fields: { text: required(text), to: optional(userName), room: optional(roomName), id } },
  quit: { fields: { id } },
  who: { fields: { room: optional(roomName), id } },
  ping: { fields: { id }, beforeLogin: true },
};

/** Every frame a server may send, with its fields: what clients and the verifier check. */
export const SERVER_FRAME_SPECS: Record<ServerFrame['type'], FrameSpec> = {
  hello: { fields: { protocol: required(anyString), server: optional(anyString), motd: optional(anyString) } },
  welcome: { fields: { user: required(anyString), users: required(stringList), id } },
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
    },
  },
  ok: { fields: { id } },
  error: { fields: { code: required(anyString), message: required(anyString), id } },
  bye: { fields: { reason: optional(anyString) } },
  users: { fields: { users: required(stringList), room: optional(anyString), id } },
  pong: { fields: { ts: required(finiteNumber), id } },
};

/**
 * Checks a frame against a spec table. The frame returned holds only the fields the spec knows,
 * so unknown fields (a forged `from` in a `say`, say) are dropped here, once, for every caller.
 */
export function validateWith<T>(specs: Record<string, FrameSpec>, raw: RawFrame): Validation<T> {
  const spec = Object.hasOwn(specs, raw.type) ? specs[raw.type] : undefined;
  if (!spec) return { ok: false, code: 'unknown_type', message: `unknown frame type "${raw.type}"` };
  const clean: Record<string, unknown> = { type: raw.type };
  for (const [name, field] of Object.entries(spec.fields)) {
    const value = raw[name];
    if (value === undefined) {
      if (field.optional) continue;
      return { ok: false, code: 'bad_request', message: `"${raw.type}" needs the field "${name}"` };
    }
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

/** Whether a client may send this frame type before logging in. */
export function allowedBeforeLogin(type: string): boolean {
  return Object.hasOwn(CLIENT_FRAME_SPECS, type) && CLIENT_FRAME_SPECS[type as ClientFrame['type']].beforeLogin === true;
}
