/**
 * The chatlab/1 frames as TypeScript types: one union per direction, keyed on `type`.
 * The wire contract is PROTOCOL.md; docs/protocol.md explains each frame with examples.
 */

/** A request id: the server copies it into its direct answer. */
export type RequestId = string | number;

/** Error codes of the contract (core) and of the reference server's extensions. */
export const CORE_ERROR_CODES = [
  'bad_frame',
  'frame_too_large',
  'unknown_type',
  'bad_request',
  'not_logged_in',
  'auth_failed',
  'already_online',
  'rate_limited',
] as const;

/** Error codes the reference server adds for its extensions (same style as the core ones). */
export const EXTENSION_ERROR_CODES = [
  'user_exists',
  'unknown_user',
  'unknown_room',
  'not_in_room',
  'already_logged_in',
  'output_overflow',
  'shutting_down',
  'too_many_connections',
  'idle_timeout',
  'unknown_transfer',
  'file_too_large',
  'internal',
] as const;

export type CoreErrorCode = (typeof CORE_ERROR_CODES)[number];
export type ErrorCode = CoreErrorCode | (typeof EXTENSION_ERROR_CODES)[number];

// ---------------------------------------------------------------- client → server

/** Step 4: log in to an existing account. */
export interface LoginFrame { type: 'login'; user: string; password: string; id?: RequestId }
/** Extension: create an account (answered `ok`, or `error` `user_exists`). Allowed before login. */
export interface RegisterFrame { type: 'register'; user: string; password: string; id?: RequestId }
/** Step 6: send a message; `to` makes it private, `room` targets a room (extensions). */
export interface SayFrame { type: 'say'; text: string; to?: string; room?: string; id?: RequestId }
/** Step 8: leave the chat. */
export interface QuitFrame { type: 'quit'; id?: RequestId }
/** Extension: ask who is online (answered `users`). */
export interface WhoFrame { type: 'who'; room?: string; id?: RequestId }
/** Extension: liveness and latency probe (answered `pong`). Allowed before login. */
export interface PingFrame { type: 'ping'; id?: RequestId }

export type ClientFrame = LoginFrame | RegisterFrame | SayFrame | QuitFrame | WhoFrame | PingFrame;

// ---------------------------------------------------------------- server → client

/** Step 3: the server's greeting, sent first on every connection. */
export interface HelloFrame { type: 'hello'; protocol: string; server?: string; motd?: string }
/** Step 5: login accepted; `users` is everyone online, sorted, self included. */
export interface WelcomeFrame { type: 'welcome'; user: string; users: string[]; id?: RequestId }
/** Steps 5 and 9: someone came online or went offline. */
export interface PresenceFrame {
  type: 'presence';
  user: string;
  status: 'online' | 'offline';
  reason?: string;
  room?: string;
}
/** Step 7: a relayed message; `from` and `ts` are always set by the server. */
export interface MessageFrame {
  type: 'message';
  from: string;
  text: string;
  ts: number;
  to?: string;
  room?: string;
  msgid?: number;
}
/** The direct answer to a request that succeeded and has nothing else to say. */
export interface OkFrame { type: 'ok'; id?: RequestId }
/** Something went wrong; `id` echoes the request's id when there was one. */
export interface ErrorFrame { type: 'error'; code: ErrorCode | (string & {}); message: string; id?: RequestId }
/** Step 9: the server's last frame to a user who quit. */
export interface ByeFrame { type: 'bye'; reason?: string }
/** Answer to `who`. */
export interface UsersFrame { type: 'users'; users: string[]; room?: string; id?: RequestId }
/** Answer to `ping`; `ts` is server time. */
export interface PongFrame { type: 'pong'; ts: number; id?: RequestId }

export type ServerFrame =
  | HelloFrame
  | WelcomeFrame
  | PresenceFrame
  | MessageFrame
  | OkFrame
  | ErrorFrame
  | ByeFrame
  | UsersFrame
  | PongFrame;

/** Any chatlab/1 frame, either direction. */
export type Frame = ClientFrame | ServerFrame;

/** Which way a frame travels. */
export type Direction = 'c2s' | 's2c';

/**
 * A decoded but not yet validated frame: a JSON object with a string `type`.
 * Unknown fields are kept (and ignored by validation).
 */
export interface RawFrame { type: string; [field: string]: unknown }
