import { styleText } from 'node:util';
import { LOBBY, type MessageFrame, type PresenceFrame } from '../protocol/index.ts';
import { formatBytes } from './files/bytes.ts';
import type { TransferEvent } from './files/transfer-events.ts';

/** How a line is styled: colours only when writing to a terminal. */
export interface LineStyle {
  color: boolean;
}

type Style = Parameters<typeof styleText>[0];

const paint = (style: LineStyle, format: Style, text: string) => (style.color ? styleText(format, text) : text);

// C0 controls but \n and \t, DEL and C1 controls: another user's text must not be able to move the
// cursor, clear the screen or recolour the terminal.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Makes untrusted text safe to print: control characters become visible `\xNN` escapes. */
export function sanitize(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** `hh:mm:ss` of a server timestamp, in local time. */
export function clock(ts: number): string {
  const date = new Date(ts);
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/**
 * Where a message was said, as the line shows it before the text: `alice` (lobby),
 * `#rust alice` (a room), `alice → you` / `alice → bob` (private; `me` becomes "you").
 */
export function messageLabel(message: MessageFrame, me?: string): { tag: string; name: string } {
  const from = sanitize(message.from);
  if (message.to !== undefined) return { tag: '', name: `${from} → ${message.to === me ? 'you' : sanitize(message.to)}` };
  if (message.room !== undefined && message.room !== LOBBY) return { tag: `#${sanitize(message.room)} `, name: from };
  return { tag: '', name: from };
}

/** Indents every line of `text` but the first by `columns` spaces, so it lines up after `name: `. */
export function continuationIndent(text: string, columns: number): string {
  return text.replaceAll('\n', '\n' + ' '.repeat(columns));
}

/**
 * `[hh:mm:ss] alice: text` (lobby), `[hh:mm:ss] #rust alice: text` (a room),
 * `[hh:mm:ss] alice → you: text` (private). A multi-line text continues on indented lines, so
 * every line of output still reads as one message. `own` styles the user's own messages apart.
 */
export function formatMessage(message: MessageFrame, style: LineStyle, options: { own?: boolean; me?: string } = {}): string {
  const { tag, name } = messageLabel(message, options.me);
  const prefix = `[${clock(message.ts)}] ${tag}`;
  const body = continuationIndent(sanitize(message.text), prefix.length + name.length + 2);
  const nameStyle: Style = options.own ? ['bold', 'green'] : message.to !== undefined ? ['bold', 'magenta'] : ['bold', 'cyan'];
  return `${paint(style, 'dim', prefix)}${paint(style, nameStyle, name)}: ${options.own ? paint(style, 'dim', body) : body}`;
}

/** `* bob is online` / `* bob is offline`; in a room: `* alice joined #rust` / `* alice left #rust`. */
export function formatPresence(presence: PresenceFrame, style: LineStyle): string {
  const user = sanitize(presence.user);
  const colour = presence.status === 'online' ? 'green' : 'yellow';
  if (presence.room !== undefined) return paint(style, colour, `* ${user} ${presence.status === 'online' ? 'joined' : 'left'} #${sanitize(presence.room)}`);
  return paint(style, colour, `* ${user} is ${presence.status}`);
}

/** `! <code>: <message>`. */
export function formatError(error: { code: string; message: string }, style: LineStyle): string {
  return paint(style, 'red', `! ${sanitize(error.code)}: ${sanitize(error.message)}`);
}

/** `* <text>`: what the client itself has to say (who is online, help, leaving). */
export function formatInfo(text: string, style: LineStyle): string {
  return paint(style, 'dim', `* ${text}`);
}

/**
 * One `~ …` line for a step of a file transfer (`~ cat.png 45% (5.4 KiB of 12.1 KiB)`, …), or
 * null for a step not worth a line (the end of a one-recipient transfer, already told by
 * delivered/rejected).
 */
export function formatTransfer(event: TransferEvent, style: LineStyle): string | null {
  const name = sanitize(event.name);
  const line = (text: string, format: Style = 'blue') => paint(style, format, `~ ${name} ${text}`);
  switch (event.kind) {
    case 'incoming':
      return line(
        `(${formatBytes(event.size)}) offered by ${sanitize(event.from)}${event.room !== undefined ? ` in #${sanitize(event.room)}` : ''} [${sanitize(event.transfer)}]: /accept ${sanitize(event.transfer)} or /decline ${sanitize(event.transfer)}`,
        ['bold', 'blue'],
      );
    case 'offered':
      return line(`(${formatBytes(event.size)}) offered to ${event.target.to !== undefined ? sanitize(event.target.to) : `#${sanitize(event.target.room)}`} [${sanitize(event.transfer)}]`);
    case 'accepted':
      return line(`accepted by ${sanitize(event.user)}`);
    case 'declined':
      return line(`declined by ${sanitize(event.user)}`, 'yellow');
    case 'receiving':
      return line(`receiving from ${sanitize(event.from)} into ${sanitize(event.directory)}`);
    case 'progress':
      return line(`${event.percent}% (${formatBytes(event.bytes)} of ${formatBytes(event.size)})`);
    case 'received':
      return line(`received from ${sanitize(event.from)}: saved as ${sanitize(event.path)} (${formatBytes(event.size)}, sha256 ok)`, 'green');
    case 'delivered':
      return line(`delivered to ${sanitize(event.user)} (sha256 ok)`, 'green');
    case 'rejected':
      return line(`rejected by ${sanitize(event.user)}: ${sanitize(event.reason ?? 'failed the check')}`, 'red');
    case 'failed': {
      const what = event.interrupted ? 'interrupted' : 'failed';
      const who = event.direction === 'send' && event.user !== undefined ? ` for ${sanitize(event.user)}` : '';
      const kept = event.direction === 'receive' ? ' (nothing kept)' : '';
      return line(`${what}${who}: ${sanitize(event.reason)}${kept}`, 'red');
    }
    case 'complete':
      if (event.accepted === 1) return null;
      return event.accepted === 0 ? line('not sent: nobody accepted', 'yellow') : line(`done: delivered to ${event.delivered} of ${event.accepted}`, 'green');
  }
}
