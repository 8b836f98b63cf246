import { decodeDatagram, type Direction } from '../../protocol/index.ts';
import type { FramedItem } from '../framing.ts';

/**
 * One UDP datagram as the item the diagram draws: a chatlab/1 frame when it holds one, else bad
 * bytes. The datagram is the frame; its `seq` stands for the one "read" it took.
 */
export function datagramItem(dir: Direction, raw: Buffer, seq: number, t: number): FramedItem {
  const parts = [{ read: seq, t, bytes: raw.length }];
  const decoded = decodeDatagram(raw);
  if (!decoded.ok) return { kind: 'bad', code: 'bad_frame', message: decoded.message, dir, raw, parts };
  return { kind: 'frame', frame: decoded.frame, dir, raw, parts };
}
