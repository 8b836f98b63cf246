import { LOBBY, type MessageFrame } from '../protocol/index.ts';
import { COMMAND_HELP, roomTarget, type ChatCommand } from './commands.ts';
import { ClientError, ProtocolError } from './errors.ts';
import { TransferError, type FileTransfers } from './files/index.ts';
import { sanitize } from './line-format.ts';
import type { ChatSession } from './session.ts';

/** What a command needs from the UI that runs it. */
export interface CommandContext {
  session: ChatSession;
  files: FileTransfers;
  /** The room plain lines go to. */
  readonly room: string;
  /** Switch the current room. */
  setRoom(room: string): void;
  /** One `* …` line. */
  info(text: string): void;
  /** One `! code: message` line. */
  error(error: { code: string; message: string }): void;
  /** The user's own message, once the server took it (the TUI shows it; line mode does not). */
  own?(message: MessageFrame): void;
  /** Rewrites outgoing text (the TUI turns `:smile:` into 😄). */
  transform?(text: string): string;
  /** Rooms changed (joined, left): the TUI refreshes its list. */
  roomsChanged?(): void;
  /** The user asked to leave. */
  quit(): void;
}

/** The code and message of anything thrown, for a `! code: message` line. */
export function errorParts(error: unknown): { code: string; message: string } {
  if (error instanceof ProtocolError || error instanceof ClientError || error instanceof TransferError) return { code: error.code, message: error.message };
  return { code: 'error', message: error instanceof Error ? error.message : String(error) };
}

/**
 * The one line that says why {@link ChatSession.start} failed: the connect error as it is, or
 * which step (registration, login) failed for `user`, with the server's code. Escaped
 * ({@link sanitize}): the server wrote part of it.
 */
export function startFailure(error: unknown, step: ChatSession['lastStep'], user: string): string {
  const { code, message } = errorParts(error);
  if (step === 'connect') return sanitize(message);
  return sanitize(`${step === 'register' ? 'registration' : 'login'} as ${user} failed (${code}): ${START_ADVICE[code] ?? message}`);
}

/**
 * What the user can do when the start fails, where the server's own sentence does not fit a
 * client that has already given up (the reference server says "try again", meant for a client
 * that asks again on the same connection; this one exits).
 */
const START_ADVICE: Readonly<Record<string, string>> = {
  auth_failed: 'wrong user name or password. Check --user and --password (or CHATLAB_USER and CHATLAB_PASSWORD); to create the account, add --register',
};

/** The notice for partial downloads removed at start (left by a client that died mid-transfer). */
export function staleNotice(removed: readonly string[], directory: string): string {
  const what = removed.length === 1 ? 'a partial download' : `${removed.length} partial downloads`;
  return `removed ${what} left in ${directory} by a client that stopped mid-transfer: ${removed.join(', ')}`;
}

/**
 * Whether the next input line may run before this command's answer: messages are sent and the
 * UI goes on, but a command that changes where messages go (/join, /leave, /room) or what exists
 * finishes first.
 */
export function sendAndGoOn(command: ChatCommand): boolean {
  return command.kind === 'say' || command.kind === 'msg' || command.kind === 'room_say' || command.kind === 'empty';
}

/** The `/help` lines (without the `* ` prefix). */
export function helpLines(): string[] {
  const width = Math.max(...COMMAND_HELP.map(([usage]) => usage.length));
  return [
    'type a line and press Enter to send it to the current room; start it with // to send a line beginning with /',
    ...COMMAND_HELP.map(([usage, description]) => `${usage.padEnd(width)}  ${description}`),
  ];
}

/**
 * Runs one parsed command against the session: the same behaviour, and the same `* …` / `! …`
 * lines, in line mode and in the TUI. Never throws: failures become `! code: message`.
 */
export async function runCommand(command: ChatCommand, ctx: CommandContext): Promise<void> {
  try {
    await execute(command, ctx);
  } catch (error) {
    ctx.error(errorParts(error));
  }
}

/** What a user is told of an `ok` with `deferred` (a cluster server whose shared store is away). */
export const DEFERRED_INFO = 'the server could not store that message yet: it reached the users on the same server, the others get it once it is stored';

async function execute(command: ChatCommand, ctx: CommandContext): Promise<void> {
  const { session, files } = ctx;
  const text = (raw: string) => (ctx.transform ? ctx.transform(raw) : raw);
  const own = (fields: Omit<MessageFrame, 'type' | 'from' | 'ts'>, msgid: number | undefined) =>
    ctx.own?.({ type: 'message', from: session.user, ts: Date.now(), ...fields, ...(msgid !== undefined && { msgid }) });

  switch (command.kind) {
    case 'empty':
      return;
    case 'say': {
      const body = text(command.text);
      const room = ctx.room;
      const result = await session.say(body, roomTarget(room));
      own({ text: body, room }, result.msgid);
      if (result.deferred) ctx.info(DEFERRED_INFO);
      return;
    }
    case 'room_say': {
      const body = text(command.text);
      const result = await session.say(body, roomTarget(command.room));
      own({ text: body, room: command.room }, result.msgid);
      if (result.deferred) ctx.info(DEFERRED_INFO);
      return;
    }
    case 'msg': {
      const body = text(command.text);
      const result = await session.privateSay(command.to, body);
      own({ text: body, to: command.to }, result.msgid);
      if (result.queued) ctx.info(`${command.to} is offline: the message waits for their next login`);
      if (result.deferred) ctx.info(DEFERRED_INFO);
      return;
    }
    case 'join': {
      // The session's 'joined' event prints the member list (here and after a reconnect's rejoin).
      await session.join(command.room);
      ctx.setRoom(command.room);
      ctx.roomsChanged?.();
      return;
    }
    case 'leave': {
      const room = command.room ?? ctx.room;
      if (room === LOBBY) {
        ctx.error({ code: 'bad_request', message: 'everyone stays in lobby; /leave ROOM leaves another room' });
        return;
      }
      await session.leave(room);
      ctx.info(`left #${room}`);
      if (ctx.room === room) ctx.setRoom(LOBBY);
      ctx.roomsChanged?.();
      return;
    }
    case 'switch': {
      if (command.room === undefined) {
        ctx.info(`talking in #${ctx.room}; your rooms: ${session.rooms.map((r) => `#${r}`).join(', ')}`);
        return;
      }
      if (!session.rooms.includes(command.room)) {
        ctx.error({ code: 'not_in_room', message: `you are not in #${command.room}; /join ${command.room} first` });
        return;
      }
      ctx.setRoom(command.room);
      ctx.info(`talking in #${command.room}`);
      return;
    }
    case 'rooms': {
      const rooms = await session.listRooms();
      ctx.info(`rooms: ${rooms.map((r) => `#${r.room} (${r.users})`).join(', ')}`);
      return;
    }
    case 'who': {
      const users = await session.who(command.room);
      ctx.info(command.room === undefined ? `online: ${users.join(', ')}` : `in #${command.room}: ${users.join(', ')}`);
      return;
    }
    case 'history': {
      const target = command.to !== undefined ? { to: command.to } : { room: command.room ?? ctx.room };
      const page = await session.history({ ...target, ...(command.limit !== undefined && { limit: command.limit }) });
      const where = command.to !== undefined ? `with ${command.to}` : `in #${target.room}`;
      ctx.info(`end of history ${where} (${page.messages.length} message${page.messages.length === 1 ? '' : 's'})`);
      return;
    }
    case 'send': {
      // `/send rust cat.png` means the room when you are in #rust (`@rust` forces the user).
      const { target } = command;
      const toRoom = target.to !== undefined && !command.explicitUser && session.rooms.includes(target.to);
      await files.send(toRoom ? { room: target.to as string } : target, command.path);
      return;
    }
    case 'accept': {
      await files.accept(command.transfer);
      return;
    }
    case 'decline': {
      const id = files.decline(command.transfer);
      ctx.info(`declined ${id}`);
      return;
    }
    case 'cancel': {
      await files.cancel(command.transfer);
      return;
    }
    case 'ping': {
      const ms = await session.ping();
      ctx.info(`pong in ${ms.toFixed(1)} ms`);
      return;
    }
    case 'help':
      for (const line of helpLines()) ctx.info(line);
      return;
    case 'quit':
      ctx.quit();
      return;
    case 'invalid':
      ctx.error({ code: 'bad_command', message: command.message });
      return;
    case 'unknown':
      ctx.error({ code: 'unknown_command', message: `${command.name} is not a command; /help lists them` });
      return;
  }
}
