import { CORE_ERROR_CODES, EXTENSION_ERROR_CODES, LOBBY, type HistoryEndFrame, type MessageFrame, type PresenceFrame } from '../protocol/index.ts';
import { formatBytes } from './files/bytes.ts';
import type { FailedEvent, TransferEvent } from './files/transfer-events.ts';
import { paint as paintText, type Style } from '../terminal/index.ts';

/** How a line is styled: colours only when writing to a terminal. */
export interface LineStyle {
  color: boolean;
}

function paint(style: LineStyle, format: Style, text: string): string {
  return paintText(format, text, style.color);
}

// What text from the network must not print as itself: C0 controls (line breaks included), DEL
// and C1 controls, which move the cursor, clear the screen, recolour the terminal or start a new
// line; the Unicode line and paragraph separators; and the bidi embeddings, overrides and
// isolates, which reorder what follows them so a line can look like another.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// The same, but a message text's own newlines and tabs are kept (the caller indents the lines).
// eslint-disable-next-line no-control-regex
const UNSAFE_IN_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeCharacter(c: string): string {
  const named = NAMED_ESCAPES[c];
  if (named !== undefined) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16).toUpperCase()}}`;
}

/**
 * Makes text that came from the network safe to print: every character that could move the
 * cursor, restyle the terminal, break the line or reorder it (see `UNSAFE`) becomes a visible
 * escape: `\n`, `\r`, `\t`, `\x1b`, `\u{202E}`. The one escaping function of the client's output:
 * every `format…` function (and the TUI's) passes what it prints through it, so a forged name,
 * file name, reason or text cannot produce a line that looks like another.
 *
 * With `multiline` (a message's text, and only that) newlines and tabs are kept: the caller
 * indents the continuation lines ({@link continuationIndent}) so they cannot pass for a new line.
 */
export function sanitize(text: string, options: { multiline?: boolean } = {}): string {
  return text.replace(options.multiline ? UNSAFE_IN_TEXT : UNSAFE, escapeCharacter);
}

/** A message's text as printed: escaped, newlines kept, every line after the first indented by `columns`. */
export function messageBody(text: string, columns: number): string {
  return continuationIndent(sanitize(text, { multiline: true }), columns);
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
  const body = messageBody(message.text, prefix.length + name.length + 2);
  const nameStyle: Style = options.own ? ['bold', 'green'] : message.to !== undefined ? ['bold', 'magenta'] : ['bold', 'cyan'];
  return `${paint(style, 'dim', prefix)}${paint(style, nameStyle, name)}: ${options.own ? paint(style, 'dim', body) : body}`;
}

/** `* bob is online` / `* bob is offline`; in a room: `* alice joined #rust` / `* alice left #rust`. */
export function formatPresence(presence: PresenceFrame, style: LineStyle): string {
  const { user, room } = presence;
  const colour = presence.status === 'online' ? 'green' : 'yellow';
  if (room !== undefined) return paint(style, colour, sanitize(`* ${user} ${presence.status === 'online' ? 'joined' : 'left'} #${room}`));
  return paint(style, colour, sanitize(`* ${user} is ${presence.status}`));
}

/** `! <code>: <message>`. */
export function formatError(error: { code: string; message: string }, style: LineStyle): string {
  return paint(style, 'red', sanitize(`! ${error.code}: ${error.message}`));
}

/**
 * The marker after a history replay, where the past ends and the live chat begins: `end of
 * history in #rust (3 messages)`, `end of history with bob (1 message; older ones left out,
 * /history pages back)`. The line mode prints it as `* …`, the full-screen UI as a rule.
 */
export function historyEndText(end: Pick<HistoryEndFrame, 'count' | 'room' | 'to' | 'truncated'>): string {
  const place = end.to !== undefined ? ` with ${end.to}` : end.room !== undefined && end.room !== LOBBY ? ` in #${end.room}` : '';
  return `end of history${place} (${end.count} message${end.count === 1 ? '' : 's'}${end.truncated ? '; older ones left out, /history pages back' : ''})`;
}

/** `* <text>`: what the client itself has to say (who is online, help, leaving); names in it are escaped too. */
export function formatInfo(text: string, style: LineStyle): string {
  return paint(style, 'dim', sanitize(`* ${text}`));
}

/**
 * One `~ …` line for a step of a file transfer (`~ cat.png 45% (5.4 KiB of 12.1 KiB)`, …), or
 * null for a step not worth a line (the end of a one-recipient transfer, already told by
 * declined/delivered/rejected).
 */
export function formatTransfer(event: TransferEvent, style: LineStyle): string | null {
  const line = (text: string, format: Style = 'blue') => paint(style, format, sanitize(`~ ${event.name} ${text}`));
  switch (event.kind) {
    case 'incoming':
      return line(
        `(${formatBytes(event.size)}) offered by ${event.from}${event.room !== undefined ? ` in #${event.room}` : ''} [${event.transfer}]: /accept ${event.transfer} or /decline ${event.transfer}`,
        ['bold', 'blue'],
      );
    case 'offered':
      return line(`(${formatBytes(event.size)}) offered to ${event.target.to !== undefined ? event.target.to : `#${event.target.room}`} [${event.transfer}]`);
    case 'accepted':
      return line(`accepted by ${event.user}`);
    case 'declined':
      return line(`declined by ${event.user}`, 'yellow');
    case 'receiving':
      return line(`receiving from ${event.from} into ${event.directory}`);
    case 'progress':
      return line(`${event.percent}% (${formatBytes(event.bytes)} of ${formatBytes(event.size)})`);
    case 'received':
      return line(`received from ${event.from}: saved as ${event.path} (${formatBytes(event.size)}, sha256 ok)`, 'green');
    case 'delivered':
      return line(`delivered to ${event.user} (sha256 ok)`, 'green');
    case 'rejected':
      return line(`rejected by ${event.user}: ${event.reason ?? 'failed the check'}`, 'red');
    case 'failed': {
      if (event.withdrawn) return line(`offer withdrawn: ${stopReason(event)}`, 'yellow');
      const what = event.interrupted ? 'interrupted' : 'failed';
      // "for bob" unless the reason already names bob as the one who stopped it.
      const who = event.direction === 'send' && event.user !== undefined && event.cancelledBy !== event.user ? ` for ${event.user}` : '';
      const kept = event.direction === 'receive' ? ' (nothing kept)' : '';
      return line(`${what}${who}: ${stopReason(event)}${kept}`, 'red');
    }
    case 'complete':
      // One recipient: its declined, delivered or rejected line already told the outcome.
      if (event.accepted === 1 || event.offered === 1) return null;
      return event.accepted === 0 ? line('not sent: nobody accepted', 'yellow') : line(`done: delivered to ${event.delivered} of ${event.accepted}`, 'green');
  }
}

const ERROR_CODES: ReadonlySet<string> = new Set([...CORE_ERROR_CODES, ...EXTENSION_ERROR_CODES]);

/** How a party leaves, as the server names it in `file_cancel` (docs/protocol-extensions.md, "A party leaves"). */
const LEFT: Readonly<Record<string, (user: string) => string>> = {
  quit: (user) => `${user} quit`,
  connection_lost: (user) => `${user}'s connection was lost`,
  server_shutdown: () => 'the server shut down',
};

/**
 * Why a transfer stopped, as a sentence: who did it when it was the other side (`alice quit`,
 * `bob cancelled it: disk full`), the server's own reasons in words, and this user's own cancel
 * as `you cancelled it`. Anything else is shown as it came.
 */
export function stopReason(event: Pick<FailedEvent, 'reason' | 'direction' | 'cancelledBy'>): string {
  const { reason, cancelledBy: by } = event;
  if (by === undefined) {
    if (reason === 'cancelled') return 'you cancelled it';
    if (reason === 'protocol_error') return 'the server cancelled it (protocol_error: a chunk out of order or past the offered size)';
    return reason;
  }
  const left = LEFT[reason];
  if (left) return left(by);
  if (reason === 'cancelled') return `${by} cancelled it`;
  if (reason === 'too_late') return event.direction === 'receive' ? `${by} started sending before you answered` : `${by} did not answer before the sending started`;
  if (reason === 'protocol_error') return `the server cancelled it: ${by} broke the protocol`;
  // The error that closed that party's connection (frame_too_large, output_overflow, …).
  if (ERROR_CODES.has(reason)) return `the server disconnected ${by} (${reason})`;
  return `${by} cancelled it: ${reason}`;
}
