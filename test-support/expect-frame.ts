/**
 * `expectFrame`: the assertion every raw-socket test reads as "alice's next frame is this one".
 *
 * ```ts
 * alice.send({ type: 'say', to: 'bob', text: 'psst', id: 'p1' });
 * const ok = await expectFrame(alice, { type: 'ok', id: 'p1', msgid: expect.any(Number) });
 * await expectFrame(bob, { type: 'message', from: 'alice', to: 'bob', text: 'psst', msgid: ok.msgid });
 * ```
 *
 * It takes strictly the next frame the socket received (waiting for it, bounded by the socket's
 * wait) and matches it with `toMatchObject`: the fields given must be equal (vitest matchers such
 * as `expect.any(Number)` work), fields not given are not checked. On a mismatch the failure names
 * the socket and shows the frame that came instead; when nothing comes, it lists what did arrive.
 * Its own file, apart from FrameSocket, because it asserts with vitest and FrameSocket does not.
 */
import { expect } from 'vitest';
import type { RawFrame } from '../src/protocol/index.ts';
import type { FrameSocket } from './frame-socket.ts';

/** The frame a test expects next: its type, and any other fields that must be equal. */
export type ExpectedFrame = { type: string } & Record<string, unknown>;

/**
 * Takes the next frame `socket` received and asserts it matches `expected`; returns the whole
 * frame (for fields the test reads on, such as a `msgid`).
 */
export async function expectFrame(socket: FrameSocket, expected: ExpectedFrame, timeoutMs = socket.waitMs): Promise<RawFrame> {
  const frame = await socket.nextFrame(timeoutMs);
  expect(frame, `${socket.label}'s next frame was ${shown(frame)}`).toMatchObject(expected);
  return frame;
}

/** The frame as JSON, cut short (a file chunk carries 32 KiB of base64). */
function shown(frame: RawFrame): string {
  const json = JSON.stringify(frame);
  return json.length > SHOWN_CHARS ? `${json.slice(0, SHOWN_CHARS)}…` : json;
}

const SHOWN_CHARS = 400;
