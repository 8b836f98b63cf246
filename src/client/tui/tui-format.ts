import blessed from 'blessed';
import type { HistoryEndFrame, MessageFrame, PresenceFrame } from '../../protocol/index.ts';
import type { TransferEvent } from '../files/transfer-events.ts';
import { clock, formatPresence, formatTransfer, historyEndText, messageBody, messageLabel, sanitize } from '../line-format.ts';
import { expandShortcodes } from './emoji.ts';

/** Untrusted text made safe for a blessed box with tags: escaped as the line mode does ({@link sanitize}), and no `{tags}`. */
export function safe(text: string): string {
  return blessed.escape(sanitize(text));
}

/**
 * One message for the message pane, as blessed tags: time, where (`#rust`, `alice → you`), name
 * and text. Own messages are green, private ones magenta, others cyan; replayed history is all
 * grey (it happened before this session). Shortcodes in the text show as emoji.
 */
export function tuiMessage(message: MessageFrame, me: string): string {
  const { tag, name } = messageLabel(message, me);
  const prefix = `${clock(message.ts)} ${tag}`;
  const body = blessed.escape(messageBody(expandShortcodes(message.text), prefix.length + name.length + 2));
  if (message.history) return `{grey-fg}${safe(prefix)}${safe(name)}: ${body}{/grey-fg}`;
  const colour = message.from === me ? 'green' : message.to !== undefined ? 'magenta' : 'cyan';
  return `{grey-fg}${safe(prefix)}{/grey-fg}{bold}{${colour}-fg}${safe(name)}{/${colour}-fg}{/bold}: ${body}`;
}

/** `* text` for the client's own notices. */
export function tuiInfo(text: string): string {
  return `{yellow-fg}* ${safe(text)}{/yellow-fg}`;
}

/** `! code: message` for errors. */
export function tuiError(error: { code: string; message: string }): string {
  return `{red-fg}{bold}! ${safe(error.code)}{/bold}: ${safe(error.message)}{/red-fg}`;
}

/** `* bob is online`, `* alice joined #rust`: the line mode's presence line, in grey. */
export function tuiPresence(presence: PresenceFrame): string {
  return `{grey-fg}${blessed.escape(formatPresence(presence, { color: false }))}{/grey-fg}`;
}

/** A file-transfer step as the message pane shows it (progress goes to the status line instead). */
export function tuiTransfer(event: TransferEvent): string | null {
  const line = formatTransfer(event, { color: false });
  if (line === null) return null;
  const colour = event.kind === 'failed' || event.kind === 'rejected' ? 'red' : event.kind === 'received' || event.kind === 'delivered' ? 'green' : 'blue';
  return `{${colour}-fg}${blessed.escape(line)}{/${colour}-fg}`;
}

/**
 * The rule under a history replay, in grey: `── end of history (3 messages) ──`. It says where
 * the replayed past ends and the live chat begins (the same words as the line mode's marker).
 */
export function tuiHistoryEnd(end: Pick<HistoryEndFrame, 'count' | 'room' | 'to' | 'truncated'>): string {
  return `{grey-fg}── ${safe(historyEndText(end))} ──{/grey-fg}`;
}
