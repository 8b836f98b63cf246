/**
 * The chatlab/1 frames as TypeScript types: one union per direction, keyed on `type`.
 * The wire contract is PROTOCOL.md; docs/protocol.md explains each frame with examples.
 */

/**
 * A request id: a string of at most {@link MAX_REQUEST_ID_CHARS} characters, or an integer within
 * ±(2^53−1) (see `isRequestId`). The server copies it, unchanged, into its direct answer.
 */
export type RequestId = string | number;

/** Longest string `id`, in characters (code points). */
export const MAX_REQUEST_ID_CHARS = 64;

/**
 * The extensions a server may advertise in `hello.features`, beyond the core. A client uses only
 * what is advertised; a server without `features` is core only.
 */
export const FEATURES = ['register', 'who', 'ping', 'private', 'rooms', 'history', 'files'] as const;

/** One extension a server may advertise in `hello.features`. */
export type Feature = (typeof FEATURES)[number];

/** Error codes of the contract (core) and of the reference server's extensions. */
export const CORE_ERROR_CODES = ['bad_frame', 'frame_too_large', 'unknown_type', 'bad_request', 'not_logged_in', 'auth_failed', 'already_online', 'rate_limited'] as const;

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

/**
 * Step 4: log in to an existing account. Extension: `since` is the highest `msgid` the client has
 * seen; the history replayed after `welcome` then holds only newer messages (and always ends with
 * `history_end`).
 */
export interface LoginFrame {
  type: 'login';
  user: string;
  password: string;
  since?: number;
  id?: RequestId;
}
/** Extension: create an account (answered `ok`, or `error` `user_exists`). Allowed before login. */
export interface RegisterFrame {
  type: 'register';
  user: string;
  password: string;
  id?: RequestId;
}
/** Step 6: send a message; `to` makes it private, `room` targets a room (extensions). */
export interface SayFrame {
  type: 'say';
  text: string;
  to?: string;
  room?: string;
  id?: RequestId;
}
/** Step 8: leave the chat. */
export interface QuitFrame {
  type: 'quit';
  id?: RequestId;
}
/** Extension: ask who is online (answered `users`). */
export interface WhoFrame {
  type: 'who';
  room?: string;
  id?: RequestId;
}
/** Extension: liveness and latency probe (answered `pong`). Allowed before login. */
export interface PingFrame {
  type: 'ping';
  id?: RequestId;
}

/** Extension: enter a room (created if needed); answered `users` with `room`, then its history. */
export interface JoinFrame {
  type: 'join';
  room: string;
  id?: RequestId;
}
/** Extension: leave a room (not `lobby`); answered `ok`. */
export interface LeaveFrame {
  type: 'leave';
  room: string;
  id?: RequestId;
}
/** Extension: list the rooms that exist (answered `room_list`). */
export interface RoomsFrame {
  type: 'rooms';
  id?: RequestId;
}
/**
 * Extension: page back through a room's messages (`room`, default lobby) or a private conversation
 * (`to`): up to `limit` messages older than `before`, then `history_end`.
 */
export interface HistoryFrame {
  type: 'history';
  room?: string;
  to?: string;
  before?: number;
  limit?: number;
  id?: RequestId;
}
/** Extension: offer a file to one user (`to`) or to the other members of a room (`room`). */
export interface FileOfferFrame {
  type: 'file_offer';
  to?: string;
  room?: string;
  name: string;
  size: number;
  sha256: string;
  id?: RequestId;
}
/** Extension: a recipient takes the offered file. */
export interface FileAcceptFrame {
  type: 'file_accept';
  transfer: string;
  id?: RequestId;
}
/** Extension: a recipient refuses the offered file. */
export interface FileDeclineFrame {
  type: 'file_decline';
  transfer: string;
  id?: RequestId;
}
/** Extension: the offerer sends bytes `seq` (from 0, in order), base64, at most {@link MAX_FILE_CHUNK_BYTES} raw. */
export interface FileChunkFrame {
  type: 'file_chunk';
  transfer: string;
  seq: number;
  data: string;
  id?: RequestId;
}
/** Extension: a receiver has written chunk `seq` (flow control: the window is {@link FILE_WINDOW_CHUNKS}). */
export interface FileAckFrame {
  type: 'file_ack';
  transfer: string;
  seq: number;
  id?: RequestId;
}
/** Extension: the offerer has sent every chunk. */
export interface FileEndFrame {
  type: 'file_end';
  transfer: string;
  id?: RequestId;
}
/** Extension: a receiver reports whether size and SHA-256 matched. */
export interface FileResultFrame {
  type: 'file_result';
  transfer: string;
  ok: boolean;
  reason?: string;
  id?: RequestId;
}
/** Extension: either side stops a transfer. */
export interface FileCancelFrame {
  type: 'file_cancel';
  transfer: string;
  reason?: string;
  id?: RequestId;
}

export type ClientFrame =
  | LoginFrame
  | RegisterFrame
  | SayFrame
  | QuitFrame
  | WhoFrame
  | PingFrame
  | JoinFrame
  | LeaveFrame
  | RoomsFrame
  | HistoryFrame
  | FileOfferFrame
  | FileAcceptFrame
  | FileDeclineFrame
  | FileChunkFrame
  | FileAckFrame
  | FileEndFrame
  | FileResultFrame
  | FileCancelFrame;

// ---------------------------------------------------------------- server → client

/** Step 3: the server's greeting, sent first on every connection. */
export interface HelloFrame {
  type: 'hello';
  protocol: string;
  server?: string;
  motd?: string;
  /** The extensions this server supports; absent means core only. Names a client does not know are ignored. */
  features?: Feature[];
}
/**
 * Step 5: login accepted; `users` is everyone online, sorted, self included. When the list does not
 * fit in one frame, `more` is true and `users` frames with the same `id` continue it (the last one
 * without `more`), before any other frame to that client.
 */
export interface WelcomeFrame {
  type: 'welcome';
  user: string;
  users: string[];
  more?: true;
  id?: RequestId;
}
/** Steps 5 and 9: someone came online or went offline. */
export interface PresenceFrame {
  type: 'presence';
  user: string;
  status: 'online' | 'offline';
  reason?: string;
  room?: string;
}
/**
 * Step 7: a relayed message; `from` and `ts` are always set by the server. Extensions: `room` (a
 * room message; `lobby` for a plain say) or `to` (a private one), the server-assigned `msgid`,
 * `history` on replayed messages, and `queued` on a private message stored while its recipient
 * was offline, at its one delivery.
 */
export interface MessageFrame {
  type: 'message';
  from: string;
  text: string;
  ts: number;
  to?: string;
  room?: string;
  msgid?: number;
  history?: boolean;
  queued?: boolean;
}
/**
 * The direct answer to a request that succeeded and has nothing else to say. Extensions: `msgid`
 * of a stored `say`, `queued` when a private message waits for its offline recipient, `deferred`
 * when a cluster node could not store a `say` now (its shared store is away) but kept it to store
 * later (no `msgid` then), `transfer` and `users` (who it was offered to) for a `file_offer`.
 */
export interface OkFrame {
  type: 'ok';
  id?: RequestId;
  msgid?: number;
  queued?: boolean;
  deferred?: boolean;
  transfer?: string;
  users?: string[];
}
/** Something went wrong; `id` echoes the request's id when there was one. */
export interface ErrorFrame {
  type: 'error';
  code: ErrorCode | (string & {});
  message: string;
  id?: RequestId;
}
/** Step 9: the server's last frame to a user who quit. */
export interface ByeFrame {
  type: 'bye';
  reason?: string;
  id?: RequestId;
}
/**
 * Answer to `who` and `join` (a room's members), or the continuation of a `welcome` that said
 * `more`. A list too long for one frame is paged: `more: true` on every frame but the last, all
 * with the same `id` (and `room`).
 */
export interface UsersFrame {
  type: 'users';
  users: string[];
  room?: string;
  more?: true;
  id?: RequestId;
}
/** Answer to `ping`; `ts` is server time. */
export interface PongFrame {
  type: 'pong';
  ts: number;
  id?: RequestId;
}

/** Extension: the end of a history replay (after login, after join, or answering `history`). */
export interface HistoryEndFrame {
  type: 'history_end';
  count: number;
  last_msgid?: number;
  room?: string;
  to?: string;
  /** True when the oldest messages were left out to keep the replay within the server's output bound. */
  truncated?: boolean;
  id?: RequestId;
}
/** One room of a `room_list`. */
export interface RoomCount {
  room: string;
  users: number;
}
/** Extension: answer to `rooms`, sorted by name. */
export interface RoomListFrame {
  type: 'room_list';
  rooms: RoomCount[];
  id?: RequestId;
}
/** Extension: a file offered to this user, relayed with the server's `transfer` id and `from`. */
export interface FileOfferedFrame {
  type: 'file_offer';
  transfer: string;
  from: string;
  to?: string;
  room?: string;
  name: string;
  size: number;
  sha256: string;
}
/** Extension: to the offerer: `user` accepted. */
export interface FileAcceptedFrame {
  type: 'file_accept';
  transfer: string;
  user: string;
}
/** Extension: to the offerer: `user` declined. */
export interface FileDeclinedFrame {
  type: 'file_decline';
  transfer: string;
  user: string;
}
/** Extension: to a receiver that accepted: one chunk, relayed as sent. */
export interface FileChunkRelayFrame {
  type: 'file_chunk';
  transfer: string;
  seq: number;
  data: string;
  from: string;
}
/** Extension: to the offerer: `user` has chunk `seq`. */
export interface FileAckRelayFrame {
  type: 'file_ack';
  transfer: string;
  seq: number;
  user: string;
}
/** Extension: to a receiver that accepted: every chunk was sent. */
export interface FileEndRelayFrame {
  type: 'file_end';
  transfer: string;
  from: string;
}
/** Extension: to the offerer: `user`'s verdict on the file. */
export interface FileResultRelayFrame {
  type: 'file_result';
  transfer: string;
  ok: boolean;
  reason?: string;
  user: string;
}
/** Extension: the transfer is over for this party; `user` is who stopped it (or whose connection was lost). */
export interface FileCancelRelayFrame {
  type: 'file_cancel';
  transfer: string;
  reason: string;
  user?: string;
}

export type ServerFrame =
  | HelloFrame
  | WelcomeFrame
  | PresenceFrame
  | MessageFrame
  | OkFrame
  | ErrorFrame
  | ByeFrame
  | UsersFrame
  | PongFrame
  | HistoryEndFrame
  | RoomListFrame
  | FileOfferedFrame
  | FileAcceptedFrame
  | FileDeclinedFrame
  | FileChunkRelayFrame
  | FileAckRelayFrame
  | FileEndRelayFrame
  | FileResultRelayFrame
  | FileCancelRelayFrame;

/** Any chatlab/1 frame, either direction. */
export type Frame = ClientFrame | ServerFrame;

/** Which way a frame travels. */
export type Direction = 'c2s' | 's2c';

/**
 * A decoded but not yet validated frame: a JSON object with a string `type`.
 * Unknown fields are kept (and ignored by validation).
 */
export interface RawFrame {
  type: string;
  [field: string]: unknown;
}
