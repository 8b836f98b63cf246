import { EventEmitter } from 'node:events';

/** Why a user left the chat. */
export type LogoutReason =
  /** The user sent `quit`. */
  | 'quit'
  /** The connection dropped (or the client closed it) without `quit`. */
  | 'connection_lost'
  /** The server is stopping. */
  | 'server_shutdown'
  /** The server cut the connection: `frame_too_large`, `output_overflow`, … (the error code). */
  | (string & {});

/** `listening`: the server is bound. */
export interface ListeningEvent {
  host: string;
  port: number;
}
/** `connection`: a client connected (step 3); `id` names the connection in every later event. */
export interface ConnectionEvent {
  id: number;
  remote: string;
}
/** `login`: a user logged in (step 5). */
export interface LoginEvent {
  id: number;
  remote: string;
  user: string;
}
/**
 * `message`: a message was relayed (step 7); `recipients` is how many users it was queued to.
 * A room message (lobby included) has `room`; a private one has `to` instead, and `queued` when
 * its recipient was offline (it waits in history for the next login). `msgid` is its history id;
 * a cluster node that could not store it (Redis away) relayed it to its own users only, without a
 * msgid, and kept it to store later: `deferred` then, and no `msgid`.
 */
export interface MessageEvent {
  id: number;
  from: string;
  text: string;
  ts: number;
  room?: string;
  to?: string;
  msgid?: number;
  recipients: number;
  queued?: boolean;
  deferred?: boolean;
}
/** `room`: a user entered or left a room other than lobby (going offline leaves rooms without this event). */
export interface RoomEvent {
  id: number;
  user: string;
  room: string;
  action: 'join' | 'leave';
}
/**
 * `transfer`: a step of a file transfer. `from` is the offerer; `user` the other party concerned
 * (who accepted, declined, reported, or cancelled — the offerer itself when it cancelled);
 * `users` (offer) who it was offered to; `size` the offered (offer) or relayed (end) bytes.
 */
export interface TransferEvent {
  transfer: string;
  action: 'offer' | 'accept' | 'decline' | 'end' | 'result' | 'cancel';
  from: string;
  user?: string;
  users?: string[];
  size?: number;
  ok?: boolean;
  reason?: string;
}
/** `logout`: a user left the chat (step 9). */
export interface LogoutEvent {
  id: number;
  user: string;
  reason: LogoutReason;
}
/** `disconnect`: a connection closed (step 10); `user` is who was logged in on it, if anyone. */
export interface DisconnectEvent {
  id: number;
  remote: string;
  user?: string;
}
/**
 * `error`: something went wrong on connection `id` (absent for the listening socket itself).
 * `code` is either the code of the `error` frame the server sent (`bad_frame`, `auth_failed`,
 * `output_overflow`, … — `fatal` when the server then closed the connection), `internal` for a
 * server bug caught while handling a frame, or a socket error code such as `ECONNRESET`
 * (`fatal`: the socket is gone). `message` never contains a password.
 */
export interface ServerErrorEvent {
  id?: number;
  remote?: string;
  user?: string;
  code: string;
  message: string;
  fatal: boolean;
}

/** Every event of `server.events` and its payload. */
export interface ChatServerEvents {
  listening: [ListeningEvent];
  connection: [ConnectionEvent];
  login: [LoginEvent];
  message: [MessageEvent];
  room: [RoomEvent];
  transfer: [TransferEvent];
  logout: [LogoutEvent];
  disconnect: [DisconnectEvent];
  error: [ServerErrorEvent];
}

/**
 * The server's typed event stream. Unlike a plain EventEmitter, an `error` nobody listens to is
 * dropped instead of thrown, and a listener that throws is reported as a process warning instead
 * of taking the server down: observing the server must be optional and harmless.
 */
export class ChatServerEventStream extends EventEmitter<ChatServerEvents> {
  override emit<K extends keyof ChatServerEvents>(event: K, ...args: ChatServerEvents[K]): boolean {
    if (event === 'error' && this.listenerCount('error') === 0) return false;
    try {
      return super.emit(event as keyof ChatServerEvents, ...(args as never));
    } catch (error) {
      process.emitWarning(`a chatlab server "${event}" listener threw: ${error instanceof Error ? error.message : String(error)}`);
      return true;
    }
  }
}
