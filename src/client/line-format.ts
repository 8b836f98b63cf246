import { styleText } from 'node:util';
import type { MessageFrame, PresenceFrame } from '../protocol/index.ts';

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
 * `[hh:mm:ss] alice: text`. A multi-line text continues on indented lines, so every line of
 * output still reads as one message. Private and room messages are tagged before the name.
 */
export function formatMessage(message: MessageFrame, style: LineStyle, options: { own?: boolean } = {}): string {
  const tag = message.to !== undefined ? `(private to ${sanitize(message.to)}) ` : message.room !== undefined ? `#${sanitize(message.room)} ` : '';
  const prefix = `[${clock(message.ts)}] ${tag}`;
  const name = sanitize(message.from);
  const [first = '', ...rest] = sanitize(message.text).split('\n');
  const indent = ' '.repeat(prefix.length + name.length + 2);
  const body = [first, ...rest.map((line) => indent + line)].join('\n');
  const nameStyle: Style = options.own ? ['bold', 'green'] : ['bold', 'cyan'];
  return `${paint(style, 'dim', prefix)}${paint(style, nameStyle, name)}: ${options.own ? paint(style, 'dim', body) : body}`;
}

/** `* bob is online` / `* bob is offline`. */
export function formatPresence(presence: PresenceFrame, style: LineStyle): string {
  return paint(style, presence.status === 'online' ? 'green' : 'yellow', `* ${sanitize(presence.user)} is ${presence.status}`);
}

/** `! <code>: <message>`. */
export function formatError(error: { code: string; message: string }, style: LineStyle): string {
  return paint(style, 'red', `! ${sanitize(error.code)}: ${sanitize(error.message)}`);
}

/** `* <text>`: what the client itself has to say (who is online, help, leaving). */
export function formatInfo(text: string, style: LineStyle): string {
  return paint(style, 'dim', `* ${text}`);
}
