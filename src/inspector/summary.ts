import type { RawFrame } from '../protocol/index.ts';
import { bytesPreview } from './text/bytes.ts';
import type { FramedItem } from './framing.ts';
import { tlsLabel, tlsSummary } from './tls-records.ts';

/** A value from the wire as short text: strings as they are, anything else as JSON. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined');
}

function quoted(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : text(value);
}

function list(value: unknown): string {
  return Array.isArray(value) ? value.map(text).join(', ') : text(value);
}

function suffix(frame: RawFrame, ...fields: Array<[string, string]>): string {
  let out = '';
  for (const [field, label] of fields) if (frame[field] !== undefined) out += ` ${label}${text(frame[field])}`;
  return out;
}

const KNOWN_SUMMARIES: Record<string, (frame: RawFrame) => string> = {
  hello: (f) => `${text(f.protocol)}${f.server !== undefined ? ` (${text(f.server)})` : ''}`,
  // The password is on the wire in clear (the detail pane shows it); the diagram need not shout it.
  login: (f) => `${text(f.user)} ••••`,
  register: (f) => `${text(f.user)} ••••`,
  welcome: (f) => `${text(f.user)}; online: ${list(f.users)}`,
  presence: (f) => `${text(f.user)} ${text(f.status)}${f.reason !== undefined ? ` (${text(f.reason)})` : ''}${suffix(f, ['room', '#'])}`,
  say: (f) => `${quoted(f.text)}${suffix(f, ['to', 'to '], ['room', 'in #'])}`,
  message: (f) => `${text(f.from)}: ${quoted(f.text)}${suffix(f, ['to', 'to '], ['room', 'in #'])}`,
  error: (f) => `${text(f.code)}: ${text(f.message)}`,
  bye: (f) => (f.reason !== undefined ? text(f.reason) : ''),
  quit: () => '',
  ok: () => '',
  users: (f) => list(f.users),
  who: (f) => (f.room !== undefined ? `#${text(f.room)}` : ''),
  ping: () => '',
  pong: () => '',
};

/**
 * A short human summary of a chatlab/1 frame for the diagram: `alice: "hello 👋"`,
 * `bob offline (connection_lost)`. Unknown types list their fields as `key=value`.
 */
export function summarizeFrame(frame: RawFrame): string {
  const known = Object.hasOwn(KNOWN_SUMMARIES, frame.type) ? KNOWN_SUMMARIES[frame.type] : undefined;
  let summary: string;
  if (known) {
    summary = known(frame);
  } else {
    summary = Object.entries(frame)
      .filter(([key]) => key !== 'type' && key !== 'id')
      .map(([key, value]) => `${key}=${typeof value === 'string' ? quoted(value) : text(value)}`)
      .join(' ');
  }
  if (frame.more === true) summary += `${summary ? ' ' : ''}(more follows)`;
  if (frame.id !== undefined) summary += `${summary ? ' ' : ''}[id ${text(frame.id)}]`;
  return summary;
}

// The command of a line: its first word, or for IRC's `:prefix COMMAND …` the word after the prefix.
const LINE_COMMAND = /^\s*(?::\S+\s+)?(\S{1,16})/u;

/** The arrow label and summary of any framed item (frame, line, raw chunk, TLS records or bad bytes). */
export function describeItem(item: FramedItem): { label: string; summary: string } {
  switch (item.kind) {
    case 'frame':
      return { label: item.frame.type, summary: summarizeFrame(item.frame) };
    case 'line': {
      const token = LINE_COMMAND.exec(item.text)?.[1];
      return { label: token ?? '(blank)', summary: item.text };
    }
    case 'chunk':
      // TLS records: the type and size from their clear headers; the content is ciphertext.
      if (item.tls) return { label: tlsLabel(item.tls, item.raw.length), summary: tlsSummary(item.tls) };
      return { label: `${item.raw.length} B`, summary: bytesPreview(item.raw, 120) };
    case 'bad':
      return { label: item.code, summary: `${item.message}: ${bytesPreview(item.raw)}` };
  }
}
