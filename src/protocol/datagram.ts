import type { RawFrame } from './frames.ts';

/** What one UDP datagram holds: a frame, or why it is not one. */
export type DatagramDecodeResult = { ok: true; frame: RawFrame } | { ok: false; message: string };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes one UDP datagram of chatlab over UDP: the whole datagram is one JSON object with a
 * string `type`, in UTF-8 (spaces or a newline after it are tolerated: `nc -u` sends one). There
 * is nothing to reassemble: UDP keeps message boundaries.
 */
export function decodeDatagram(raw: Uint8Array): DatagramDecodeResult {
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8.decode(raw));
  } catch {
    return { ok: false, message: 'a datagram that is not one JSON object in UTF-8' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof (value as { type?: unknown }).type !== 'string') {
    return { ok: false, message: 'a datagram that is not a JSON object with a string "type"' };
  }
  return { ok: true, frame: value as RawFrame };
}
