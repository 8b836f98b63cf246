/**
 * The conversations of the web chat and what the file transfers need of a session: kept apart
 * from the session itself so the transfers and the session do not import each other.
 */

/** One line of a conversation. */
export interface ChatLine {
  key: number;
  kind: 'message' | 'info' | 'error' | 'file';
  from?: string;
  text: string;
  ts: number;
  own?: boolean;
  history?: boolean;
  /** For kind `file`: the transfer this line follows. */
  transfer?: string;
}

/** A conversation in the list: a room (lobby included) or a private chat with one user. */
export interface Conversation {
  key: string;
  kind: 'room' | 'private';
  /** The room name, or the other user. */
  name: string;
  lines: ChatLine[];
  unread: number;
  /** Room members, when known. */
  members: string[];
}

/** The key of a room's conversation in the list. */
export const roomKey = (room: string) => `room:${room}`;
/** The key of a private conversation with one user. */
export const privateKey = (user: string) => `user:${user}`;

/** A frame as the page handles it: any JSON object with a string `type`. */
export type Frame = Record<string, unknown> & { type: string };

/** What the file transfers use of a chat session. */
export interface FileSession {
  readonly state: { readonly user: string };
  send(frame: Frame): void;
  request(frame: Frame): Promise<Frame>;
  conversation(key: string, kind: Conversation['kind'], name: string): Conversation;
  addLine(conversation: Conversation, line: Omit<ChatLine, 'key'>): ChatLine;
}
