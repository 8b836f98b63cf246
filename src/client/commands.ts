import { LOBBY, ROOM_NAME_PATTERN, USER_NAME_PATTERN } from '../protocol/index.ts';
import type { TransferTarget } from './files/transfer-events.ts';

/**
 * What one input line asks for. Both UIs (line mode and TUI) parse with {@link parseCommand}, so
 * every slash command means the same thing in both.
 */
export type ChatCommand =
  /** A plain line: a message to the current room (lobby unless switched). */
  | { kind: 'say'; text: string }
  /** `/msg USER TEXT`: a private message. */
  | { kind: 'msg'; to: string; text: string }
  /** `/msg #ROOM TEXT`: a message to a room other than the current one. */
  | { kind: 'room_say'; room: string; text: string }
  | { kind: 'join'; room: string }
  /** `/leave [ROOM]`: default the current room. */
  | { kind: 'leave'; room?: string }
  /** `/room [ROOM]`: talk in a room already joined (no argument: say which one). */
  | { kind: 'switch'; room?: string }
  | { kind: 'rooms' }
  | { kind: 'who'; room?: string }
  /** `/send USER|#ROOM PATH`; `explicitUser` when written `@USER` (never read as a room). */
  | { kind: 'send'; target: TransferTarget; path: string; explicitUser?: boolean }
  | { kind: 'accept'; transfer?: string }
  | { kind: 'decline'; transfer?: string }
  | { kind: 'cancel'; transfer?: string }
  /** `/history [#ROOM|USER] [N]`: page back (default the current room). */
  | { kind: 'history'; room?: string; to?: string; limit?: number }
  | { kind: 'ping' }
  | { kind: 'quit' }
  | { kind: 'help' }
  /** A known command used the wrong way; `message` says how to use it. */
  | { kind: 'invalid'; message: string }
  | { kind: 'unknown'; name: string }
  | { kind: 'empty' };

/** Every slash command with its usage and what it does (the `/help` text of both UIs). */
export const COMMAND_HELP: readonly (readonly [usage: string, description: string])[] = [
  ['/msg USER TEXT', 'private message to USER (/msg #ROOM TEXT: to a room)'],
  ['/join ROOM', 'join (or create) a room and talk there'],
  ['/leave [ROOM]', 'leave a room (default: the current one)'],
  ['/room [ROOM]', 'talk in a room you joined (lobby = everyone)'],
  ['/rooms', 'list the rooms and how many are in each'],
  ['/who [ROOM]', 'who is online (or in ROOM)'],
  ['/send USER|#ROOM PATH', 'offer a file to a user or a room (a room you are in: # optional)'],
  ['/accept [ID]', 'accept the latest file offer (or offer ID)'],
  ['/decline [ID]', 'decline the latest file offer (or offer ID)'],
  ['/cancel [ID]', 'stop a file transfer'],
  ['/history [#ROOM|USER] [N]', 'show N older messages (default: the current room)'],
  ['/ping', 'round trip to the server'],
  ['/quit', 'leave the chat (also Ctrl-D)'],
  ['/help', 'this help'],
];

/** Names that mean the same command. */
const ALIASES: Readonly<Record<string, string>> = {
  '/m': '/msg',
  '/w': '/msg',
  '/tell': '/msg',
  '/j': '/join',
  '/part': '/leave',
  '/exit': '/quit',
  '/q': '/quit',
  '/list': '/rooms',
  '/switch': '/room',
  '/?': '/help',
};

const USAGE: Readonly<Record<string, string>> = Object.fromEntries(COMMAND_HELP.map(([usage]) => [usage.split(' ')[0] as string, usage]));

/** A room argument: `#rust` or `rust`, in any case (room names are lower case). */
export function parseRoom(word: string): string | undefined {
  const room = word.replace(/^#/, '').toLowerCase();
  return ROOM_NAME_PATTERN.test(room) ? room : undefined;
}

/**
 * Parses one input line. A line not starting with `/` is a message; `//text` sends `/text`.
 * Arguments are split on spaces; the last one (the text of /msg, the path of /send) keeps its
 * spaces.
 *
 * ```ts
 * parseCommand('/msg bob hi there') // { kind: 'msg', to: 'bob', text: 'hi there' }
 * parseCommand('/send #rust ./cat.png') // { kind: 'send', target: { room: 'rust' }, path: './cat.png' }
 * ```
 */
export function parseCommand(line: string): ChatCommand {
  if (line.trim() === '') return { kind: 'empty' };
  if (!line.trimStart().startsWith('/')) return { kind: 'say', text: line };
  const trimmed = line.trim();
  if (trimmed.startsWith('//')) return { kind: 'say', text: line.trimStart().slice(1) };
  const match = /^(\S+)\s*(.*)$/s.exec(trimmed) as RegExpExecArray;
  const typed = (match[1] as string).toLowerCase();
  const name = ALIASES[typed] ?? typed;
  const rest = match[2] as string;
  const words = rest === '' ? [] : rest.split(/\s+/);
  const invalid = (why: string): ChatCommand => ({ kind: 'invalid', message: `${why}; usage: ${USAGE[name] ?? name}` });

  switch (name) {
    case '/msg': {
      const split = /^(\S+)\s+(.+)$/s.exec(rest);
      if (!split) return invalid('/msg needs a recipient and a text');
      const target = split[1] as string;
      const text = split[2] as string;
      if (target.startsWith('#')) {
        const room = parseRoom(target);
        return room ? { kind: 'room_say', room, text } : invalid(`"${target}" is not a room name (a–z 0–9 _ -)`);
      }
      return USER_NAME_PATTERN.test(target) ? { kind: 'msg', to: target, text } : invalid(`"${target}" is not a user name`);
    }
    case '/join':
    case '/room':
    case '/leave': {
      if (words.length === 0) return name === '/join' ? invalid('/join needs a room') : { kind: name === '/room' ? 'switch' : 'leave' };
      if (words.length > 1) return invalid(`${name} takes one room`);
      const room = parseRoom(words[0] as string);
      if (!room) return invalid(`"${words[0]}" is not a room name (1–32 of a–z 0–9 _ -)`);
      return name === '/join' ? { kind: 'join', room } : name === '/room' ? { kind: 'switch', room } : { kind: 'leave', room };
    }
    case '/who': {
      if (words.length === 0) return { kind: 'who' };
      const room = parseRoom(words[0] as string);
      return room && words.length === 1 ? { kind: 'who', room } : invalid(`"${rest}" is not a room name`);
    }
    case '/send': {
      const split = /^(\S+)\s+(.+)$/s.exec(rest);
      if (!split) return invalid('/send needs a recipient and a file');
      const target = split[1] as string;
      const path = unquote((split[2] as string).trim());
      if (target.startsWith('#')) {
        const room = parseRoom(target);
        return room ? { kind: 'send', target: { room }, path } : invalid(`"${target}" is not a room name`);
      }
      const user = target.replace(/^@/, '');
      if (!USER_NAME_PATTERN.test(user)) return invalid(`"${target}" is not a user name`);
      return { kind: 'send', target: { to: user }, path, ...(target.startsWith('@') && { explicitUser: true }) };
    }
    case '/accept':
    case '/decline':
    case '/cancel': {
      if (words.length > 1) return invalid(`${name} takes at most one transfer id`);
      const kind = name.slice(1) as 'accept' | 'decline' | 'cancel';
      return words.length === 0 ? { kind } : { kind, transfer: words[0] as string };
    }
    case '/history': {
      let target: { room?: string; to?: string } = {};
      let limit: number | undefined;
      for (const word of words) {
        if (/^\d+$/.test(word)) limit = Number(word);
        else if (word.startsWith('#')) {
          const room = parseRoom(word);
          if (!room) return invalid(`"${word}" is not a room name`);
          target = { room };
        } else if (USER_NAME_PATTERN.test(word)) target = { to: word };
        else return invalid(`"${word}" is neither a room, a user nor a number`);
      }
      if (limit !== undefined && limit < 1) return invalid('N must be at least 1');
      return { kind: 'history', ...target, ...(limit !== undefined && { limit }) };
    }
    case '/rooms':
    case '/ping':
    case '/quit':
    case '/help':
      return { kind: name.slice(1) as 'rooms' | 'ping' | 'quit' | 'help' };
    default:
      return { kind: 'unknown', name: match[1] as string };
  }
}

function unquote(path: string): string {
  const quoted = /^(["'])(.*)\1$/s.exec(path);
  return quoted ? (quoted[2] as string) : path;
}

/** The room a plain message goes to, as `say` options: lobby means no `room` field (the core `say`). */
export function roomTarget(room: string): { room?: string } {
  return room === LOBBY ? {} : { room };
}
