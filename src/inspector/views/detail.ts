import { STEPS } from '../../protocol/index.ts';
import type { Row, SessionModel } from '../session-model.ts';
import { codePointLabel, decodeUtf8Units, hexBytes, hexDump } from '../text/bytes.ts';
import { describeTlsSegment, tlsTypeName } from '../tls-records.ts';
import { displayText, padCells } from '../../terminal/index.ts';
import { relativeTime, type StyledLine } from '../render/diagram-layout.ts';

const EVENT_EXPLANATIONS: Partial<Record<Row['kind'], string>> = {
  listen: 'The server is listening: the inspector reached it, so step 1 is done (the inspector cannot see listen() itself).',
  connect: 'TCP three-way handshake done: the client connected and the server accepted (steps 2 and 3 on the socket level).',
  refused: 'The inspector could not open its connection to the server. Is the server running, on that port?',
  fin: 'A FIN: this side will send nothing more (a half-close). The other side may still send until it closes too.',
  close: 'The socket closed without a FIN being seen first (e.g. destroyed).',
  reset: 'The connection was reset (RST) or failed: no orderly goodbye. Any unread bytes are lost.',
  drop: 'Fault injection: the inspector cut the connection on purpose (--drop-after).',
  gap: 'The view fell behind and skipped decoding these bytes. They were still forwarded, unchanged.',
  rename: 'The lifeline now shows the user name from the welcome frame.',
  tls: 'This connection carries TLS records. Their 5-byte headers (type, version, length) and the first handshake messages are in clear; everything after the handshake, frames included, is encrypted. So only the TCP events (connect, FIN) show steps for it.',
  lost: 'Fault injection (--loss): the inspector dropped this datagram. It never reached the other side, and nothing told the sender: UDP does not notice a loss.',
  read: 'One TCP read: the bytes one recv() returned. TCP is a byte stream, so a read can hold part of a frame, or several.',
};

function line(text: string, style: StyledLine[number]['style'] = 'plain'): StyledLine {
  return [{ text: displayText(text), style }];
}

function lifelineName(model: SessionModel, id: number): string {
  return model.lifeline(id)?.name ?? `#${id}`;
}

/**
 * What the detail pane shows for one row: what it is and where it goes, its step, which TCP reads
 * it arrived in, the frame as pretty JSON, the exact bytes in hex, and the text as UTF-8 code
 * points (so 👋 shows as U+1F44B, four bytes F0 9F 91 8B). Pure: the TUI only paints it.
 */
export function detailLines(model: SessionModel, row: Row | undefined): StyledLine[] {
  if (!row) return [line('No row selected. Use ↑/↓ to select an arrow.', 'dim')];
  const out: StyledLine[] = [];
  const route = row.from === row.to ? `at ${lifelineName(model, row.from)}` : `${lifelineName(model, row.from)} → ${lifelineName(model, row.to)}`;
  out.push([
    { text: `#${row.id} `, style: 'dim' },
    { text: displayText(row.label), style: 'header' },
    {
      text: `  ${row.dir ?? ''} ${displayText(route)}  ${relativeTime(row.t, model.startT)}${row.conn !== undefined ? `  ${model.transport === 'udp' ? 'address' : 'connection'} #${row.conn}` : ''}`,
      style: 'plain',
    },
  ]);
  if (row.step !== null) {
    const step = STEPS[row.step - 1];
    out.push([
      { text: `[${row.step}] `, style: 'step' },
      { text: `${step?.name}: ${step?.summary}`, style: 'plain' },
    ]);
  }
  const explanation = EVENT_EXPLANATIONS[row.kind];
  if (explanation) out.push(line(explanation, 'note'));
  if (row.summary) out.push(line(row.summary, 'summary'));
  if (row.kind === 'read' && row.read) {
    out.push(line(`read #${row.read.read} (${row.read.dir}): ${row.read.bytes} bytes; completed ${row.read.completed} item(s); ${row.read.held} byte(s) of an unfinished one held after it`));
  }
  const item = row.item;
  if (!item) return out;

  const total = item.raw.length;
  const reads = item.parts.map((p) => `#${p.read} (${p.bytes} B at ${relativeTime(p.t, model.startT)})`).join(' + ');
  if (model.transport === 'udp') {
    // A datagram is a frame: the one part is its number in the stream, not a read.
    const part = item.parts[0];
    out.push(line(`one datagram (${item.dir}): #${part?.read ?? '?'}, ${total} B`));
  } else {
    out.push(line(`arrived in ${item.parts.length === 1 ? 'one TCP read' : `${item.parts.length} TCP reads`} (${item.dir}): ${reads || 'unknown'}`, item.parts.length > 1 ? 'step' : 'plain'));
  }

  if (item.kind === 'frame') {
    out.push(line('── frame (JSON) ──', 'header'));
    for (const text of JSON.stringify(item.frame, null, 2).split('\n')) out.push(line(text, 's2c'));
  } else if (item.kind === 'bad') {
    out.push(line(`── ${item.code}: ${item.message} ──`, 'error'));
  } else if (item.kind === 'line') {
    out.push(line('── line ──', 'header'));
    out.push(line(item.text, 'summary'));
  } else if (item.kind === 'chunk' && item.tls) {
    out.push(line(`── TLS records (${item.tls.length}): the headers are in clear ──`, 'header'));
    for (const segment of item.tls) out.push(line(`${tlsTypeName(segment.type).padEnd(18)} ${describeTlsSegment(segment)}`, 'summary'));
  }

  // TLS records are binary by design: a code point list of ciphertext would only be noise.
  if (!(item.kind === 'chunk' && item.tls)) out.push(...utf8Lines(item.raw));
  out.push(line(`── bytes (${total}) ──`, 'header'));
  for (const text of hexDump(item.raw)) out.push(line(text, 'plain'));
  return out;
}

/** The bytes as UTF-8 code points, listing those that are not plain ASCII text. */
function utf8Lines(raw: Buffer): StyledLine[] {
  const out: StyledLine[] = [];
  const units = decodeUtf8Units(raw);
  // Newline, CR and tab are ordinary framing; list what is not plain ASCII text.
  const special = units.filter((u) => !u.ok || u.codePoint >= 0x80 || (u.codePoint < 0x20 && u.codePoint !== 0x0a && u.codePoint !== 0x0d && u.codePoint !== 0x09));
  out.push(line(`── UTF-8: ${units.length} code point(s) in ${raw.length} byte(s) ──`, 'header'));
  if (special.length === 0) {
    out.push(line('all ASCII text: one byte per code point'));
  } else {
    for (const unit of special.slice(0, 64)) {
      if (!unit.ok) {
        out.push(line(`byte ${unit.offset}: 0x${unit.byte.toString(16).toUpperCase().padStart(2, '0')} is not valid UTF-8`, 'error'));
        continue;
      }
      const shown = unit.codePoint < 0x20 ? `\\x${unit.codePoint.toString(16).padStart(2, '0')}` : unit.char;
      out.push([
        { text: padCells(displayText(shown), 3), style: 'summary' },
        { text: ` ${codePointLabel(unit.codePoint)}  ${unit.bytes.length} byte(s) ${hexBytes(unit.bytes)}  at byte ${unit.offset}`, style: 'plain' },
      ]);
    }
    if (special.length > 64) out.push(line(`… and ${special.length - 64} more`, 'dim'));
  }
  return out;
}
