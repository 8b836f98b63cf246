/**
 * The web chat's side of chatlab/1: one WebSocket to the bridge (one text message = one frame),
 * the state the page shows (conversations, who is online, unread counts) as Vue reactive data,
 * and the requests it sends. Uses only what `hello.features` advertises: on a core-only server
 * it is a plain lobby chat. Text from the network is only ever shown as text (the components
 * never use v-html).
 */
import { reactive } from 'vue';
import { LOBBY, ROOM_NAME_PATTERN } from '../../protocol/browser.ts';
import { privateKey, roomKey, type ChatLine, type Conversation, type Frame } from './conversations.ts';
import { FileTransfers } from './file-transfers.ts';

export { privateKey, roomKey, type ChatLine, type Conversation } from './conversations.ts';

type Pending = { resolve: (frame: Frame) => void; reject: (error: Error) => void; pages?: string[] };

/** What the page shows of the connection. */
export type Phase = 'connecting' | 'login' | 'chat' | 'closed';

/** Requests waiting for their answer at most; the oldest gives up beyond it. */
const MAX_PENDING = 1_000;

/** Lines kept per conversation (older ones scroll away). */
const MAX_LINES = 1_000;

/** A request refused by the server: its error code and sentence. */
export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** One browser session of the web chat. */
export class ChatSession {
  readonly state = reactive({
    phase: 'connecting' as Phase,
    features: [] as string[],
    server: '',
    user: '',
    online: [] as string[],
    conversations: [] as Conversation[],
    active: roomKey(LOBBY),
    /** Why the connection closed, or the last login error. */
    notice: '',
    /** The server said `bye`: the user left on purpose (the notice is news, not an error). */
    left: false,
  });
  readonly files: FileTransfers;
  private readonly ws: WebSocket;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private nextLine = 1;

  constructor(
    readonly sessionId: string,
    url: string,
  ) {
    this.ws = new WebSocket(url);
    this.ws.addEventListener('message', this.onMessage);
    this.ws.addEventListener('close', this.onClose);
    this.files = new FileTransfers(this);
    this.conversation(roomKey(LOBBY), 'room', LOBBY);
  }

  /** Whether the server advertised an extension. */
  supports(feature: string): boolean {
    return this.state.features.includes(feature);
  }

  /** Sends one frame (one WebSocket message). */
  send(frame: Frame): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  /** Sends a request with an `id` and resolves with the server's answer to it (rejects with its error). */
  request(frame: Frame): Promise<Frame> {
    const id = this.nextId++;
    return new Promise<Frame>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // A server that never answers (a learner's, say) must not grow this map for ever.
      if (this.pending.size > MAX_PENDING) {
        const [oldest, waiting] = this.pending.entries().next().value as [number, Pending];
        this.pending.delete(oldest);
        waiting.reject(new Error('no answer from the server'));
      }
      this.send({ ...frame, id });
    });
  }

  async login(user: string, password: string, register: boolean): Promise<void> {
    this.state.notice = '';
    try {
      if (register) await this.request({ type: 'register', user, password });
      await this.request({ type: 'login', user, password });
    } catch (error) {
      this.state.notice = (error as Error).message;
    }
  }

  /** Says `text` in the active conversation and shows it at once (the server sends no copy). */
  async say(text: string): Promise<void> {
    const conversation = this.active;
    if (!conversation || text.length === 0) return;
    const frame: Frame = { type: 'say', text };
    if (conversation.kind === 'private') frame.to = conversation.name;
    else if (conversation.name !== LOBBY) frame.room = conversation.name;
    this.addLine(conversation, { kind: 'message', from: this.state.user, text, ts: Date.now(), own: true });
    let answer: Frame;
    try {
      answer = await this.request(frame);
    } catch (error) {
      this.addLine(conversation, { kind: 'error', text: `not delivered: ${(error as Error).message}`, ts: Date.now() });
      return;
    }
    const notice = sayNotice(answer, conversation);
    if (notice) this.addLine(conversation, { kind: 'info', text: notice, ts: Date.now() });
  }

  async join(room: string): Promise<void> {
    const name = room.trim().replace(/^#/, '').toLowerCase();
    if (!ROOM_NAME_PATTERN.test(name)) {
      this.addLine(this.lobby, { kind: 'error', text: `"${room}" is not a room name (1–32 of a–z 0–9 _ -)`, ts: Date.now() });
      return;
    }
    const conversation = this.conversation(roomKey(name), 'room', name);
    this.state.active = conversation.key;
    try {
      const answer = await this.request({ type: 'join', room: name });
      conversation.members = (answer.users as string[] | undefined) ?? [];
    } catch (error) {
      this.addLine(conversation, { kind: 'error', text: (error as Error).message, ts: Date.now() });
    }
  }

  async leave(room: string): Promise<void> {
    try {
      await this.request({ type: 'leave', room });
    } catch (error) {
      this.addLine(this.lobby, { kind: 'error', text: (error as Error).message, ts: Date.now() });
      return;
    }
    this.state.conversations = this.state.conversations.filter((c) => c.key !== roomKey(room));
    if (this.state.active === roomKey(room)) this.state.active = roomKey(LOBBY);
  }

  /** Opens (or shows) the private conversation with `user`. */
  openPrivate(user: string): void {
    if (!this.supports('private') || user === this.state.user) return;
    this.state.active = this.conversation(privateKey(user), 'private', user).key;
    this.markRead();
  }

  select(key: string): void {
    this.state.active = key;
    this.markRead();
  }

  /** Sends `quit` and lets the server close (steps 8–10). */
  quit(): void {
    this.send({ type: 'quit' });
  }

  get active(): Conversation | undefined {
    return this.state.conversations.find((c) => c.key === this.state.active);
  }

  get lobby(): Conversation {
    return this.conversation(roomKey(LOBBY), 'room', LOBBY);
  }

  /** The conversation with `key`, created (at the end of the list) if new. */
  conversation(key: string, kind: Conversation['kind'], name: string): Conversation {
    let found = this.state.conversations.find((c) => c.key === key);
    if (!found) {
      this.state.conversations.push({ key, kind, name, lines: [], unread: 0, members: [] });
      found = this.state.conversations[this.state.conversations.length - 1] as Conversation;
    }
    return found;
  }

  addLine(conversation: Conversation, line: Omit<ChatLine, 'key'>): ChatLine {
    conversation.lines.push({ key: this.nextLine++, ...line });
    if (conversation.lines.length > MAX_LINES) conversation.lines.splice(0, conversation.lines.length - MAX_LINES);
    if (conversation.key !== this.state.active && line.kind !== 'info' && !line.own && !line.history) conversation.unread++;
    return conversation.lines[conversation.lines.length - 1] as ChatLine;
  }

  private markRead(): void {
    const conversation = this.active;
    if (conversation) conversation.unread = 0;
  }

  private readonly onMessage = (event: MessageEvent): void => {
    if (typeof event.data !== 'string') {
      this.addLine(this.lobby, { kind: 'error', text: 'the server sent bytes that are not UTF-8 text (not a frame)', ts: Date.now() });
      return;
    }
    let frame: Frame;
    try {
      frame = JSON.parse(event.data) as Frame;
    } catch {
      this.addLine(this.lobby, { kind: 'error', text: `the server sent a line that is not JSON: ${event.data.slice(0, 200)}`, ts: Date.now() });
      return;
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame) || typeof frame.type !== 'string') {
      this.addLine(this.lobby, { kind: 'error', text: `the server sent a line that is not a frame (no string "type"): ${event.data.slice(0, 200)}`, ts: Date.now() });
      return;
    }
    this.handle(frame);
  };

  private handle(frame: Frame): void {
    if (this.answer(frame)) return;
    switch (frame.type) {
      case 'hello':
        this.state.features = Array.isArray(frame.features) ? frame.features.filter((f): f is string => typeof f === 'string') : [];
        this.state.server = typeof frame.server === 'string' ? frame.server : '';
        this.state.phase = 'login';
        return;
      case 'presence':
        return this.onPresence(frame);
      case 'message':
        return this.onChatMessage(frame);
      case 'bye':
        this.state.left = true;
        this.state.notice = typeof frame.reason === 'string' ? `the server ended the chat (bye: ${frame.reason})` : 'you left the chat (bye)';
        return;
      case 'error':
        this.addLine(this.active ?? this.lobby, { kind: 'error', text: `${String(frame.code)}: ${String(frame.message)}`, ts: Date.now() });
        return;
      default:
        if (frame.type.startsWith('file_')) this.files.handle(frame);
    }
  }

  /** Routes the answer to one of our requests (by `id`); true when it was one. */
  private answer(frame: Frame): boolean {
    if (typeof frame.id !== 'number' || !this.pending.has(frame.id)) return false;
    if (frame.type === 'message') return false;
    const pending = this.pending.get(frame.id) as Pending;
    if (frame.type === 'error') {
      this.pending.delete(frame.id);
      pending.reject(new RequestError(String(frame.code), `${String(frame.code)}: ${String(frame.message)}`));
      return true;
    }
    if (frame.type === 'history_end') return true;
    // A paged list (welcome or users with more: true) continues in users frames with the same id.
    if ((frame.type === 'welcome' || frame.type === 'users') && Array.isArray(frame.users)) {
      pending.pages = [...(pending.pages ?? []), ...(frame.users as string[])];
      if (frame.more === true) return true;
      frame = { ...frame, users: pending.pages };
    }
    this.pending.delete(frame.id as number);
    if (frame.type === 'welcome') this.onWelcome(frame);
    pending.resolve(frame);
    return true;
  }

  private onWelcome(frame: Frame): void {
    this.state.user = String(frame.user);
    this.state.online = [...(frame.users as string[])];
    this.lobby.members = this.state.online;
    this.state.phase = 'chat';
  }

  private onPresence(frame: Frame): void {
    const user = String(frame.user);
    const online = frame.status === 'online';
    if (typeof frame.room === 'string') {
      const room = this.state.conversations.find((c) => c.key === roomKey(frame.room as string));
      if (!room) return;
      room.members = online ? [...new Set([...room.members, user])].sort() : room.members.filter((m) => m !== user);
      this.addLine(room, { kind: 'info', text: `${user} ${online ? 'joined' : 'left'} #${room.name}`, ts: Date.now() });
      return;
    }
    this.state.online = online ? [...new Set([...this.state.online, user])].sort() : this.state.online.filter((u) => u !== user);
    this.lobby.members = this.state.online;
    this.addLine(this.lobby, { kind: 'info', text: `${user} is ${online ? 'online' : 'offline'}`, ts: Date.now() });
  }

  private onChatMessage(frame: Frame): void {
    const from = String(frame.from);
    const me = this.state.user;
    let conversation: Conversation;
    if (typeof frame.to === 'string') {
      const other = from === me ? frame.to : from;
      conversation = this.conversation(privateKey(other), 'private', other);
    } else {
      const room = typeof frame.room === 'string' ? frame.room : LOBBY;
      conversation = this.conversation(roomKey(room), 'room', room);
    }
    this.addLine(conversation, {
      kind: 'message',
      from,
      text: String(frame.text),
      ts: typeof frame.ts === 'number' ? frame.ts : Date.now(),
      own: from === me,
      history: frame.history === true,
    });
  }

  private readonly onClose = (event: CloseEvent): void => {
    this.state.phase = 'closed';
    const why = event.reason || (event.code === 1006 ? 'the connection to chatlab web was lost' : `closed (${event.code})`);
    this.state.notice = this.state.notice ? `${this.state.notice}; ${why}` : why;
    for (const pending of this.pending.values()) pending.reject(new Error(why));
    this.pending.clear();
    this.files.closed(why);
  };
}

/**
 * What the user is told of an `ok` to a `say` that did not simply reach everyone: a private
 * message kept for an offline recipient (`queued`), or one a cluster server could not store yet
 * (`deferred`: its shared store is away).
 */
export function sayNotice(ok: Frame, conversation: Conversation): string | undefined {
  if (ok.deferred === true) return 'the server could not store that message yet: it reached the users on the same server, the others get it once it is stored';
  if (ok.queued === true) return `${conversation.name} is offline: the message waits for their next login`;
  return undefined;
}
