import type { Direction, RawFrame } from '../../protocol/index.ts';
import type { FramedItem } from '../framing.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * One UDP datagram as the item the diagram draws: a chatlab/1 frame when it holds one JSON object
 * with a string `type` (a trailing newline is tolerated, as `nc -u` sends one), else bad bytes.
 * There is nothing to reassemble: the datagram is the frame, its `seq` the one "read" it took.
 */
export function datagramItem(dir: Direction, raw: Buffer, seq: number, t: number): FramedItem {
  const parts = [{ read: seq, t, bytes: raw.length }];
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8.decode(raw));
  } catch {
    return { kind: 'bad', code: 'bad_frame', message: 'a datagram that is not one JSON object in UTF-8', dir, raw, parts };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof (value as { type?: unknown }).type !== 'string') {
    return { kind: 'bad', code: 'bad_frame', message: 'a datagram that is not a JSON object with a string "type"', dir, raw, parts };
  }
  return { kind: 'frame', frame: value as RawFrame, dir, raw, parts };
}
