import { MAX_FRAME_BYTES } from './limits.ts';
import type { Frame, RawFrame } from './frames.ts';

/** Thrown when a frame would not fit in {@link MAX_FRAME_BYTES}. */
export class FrameTooLargeError extends Error {
  constructor(readonly byteLength: number) {
    super(`frame of ${byteLength} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`);
    this.name = 'FrameTooLargeError';
  }
}

/**
 * Encodes one frame as its wire bytes: compact JSON in UTF-8, then `\n`.
 * JSON escapes any newline inside strings, so the only raw `\n` is the terminator.
 * @throws FrameTooLargeError when the result would exceed {@link MAX_FRAME_BYTES}.
 */
export function encodeFrame(frame: Frame | RawFrame): Buffer {
  const bytes = Buffer.from(JSON.stringify(frame) + '\n', 'utf8');
  if (bytes.length > MAX_FRAME_BYTES) throw new FrameTooLargeError(bytes.length);
  return bytes;
}
