/**
 * Shortcuts for end-to-end tests of the reference server's extensions (rooms, history, files).
 *
 * ```ts
 * const bob = await loginWith(chat, 'bob', { since: 0 });   // hello and welcome taken
 * const { messages, end } = await takeHistory(bob);          // every frame up to history_end
 * ```
 */
import { createHash } from 'node:crypto';
import type { RawFrame } from '../src/protocol/index.ts';
import type { FrameSocket } from './frame-socket.ts';
import type { TestServer } from './chat-server.ts';

/** {@link TestServer.login} with extra `login` fields first (e.g. `{ since: 0 }`). */
export function loginWith(chat: TestServer, user: string, extra: Record<string, unknown> = {}, password?: string): Promise<FrameSocket & { welcome: RawFrame }> {
  return chat.login(user, password, extra);
}

/**
 * Takes frames strictly in order up to and including the next `history_end`, and returns the
 * `message` frames before it. Anything else in between fails the test: a replay is contiguous.
 */
export async function takeHistory(socket: FrameSocket): Promise<{ messages: RawFrame[]; end: RawFrame }> {
  const messages: RawFrame[] = [];
  for (;;) {
    const frame = await socket.nextFrame();
    if (frame.type === 'history_end') return { messages, end: frame };
    if (frame.type !== 'message' || frame.history !== true) {
      throw new Error(`expected history messages then history_end, got ${JSON.stringify(frame).slice(0, 200)}`);
    }
    messages.push(frame);
  }
}

/** The texts of messages, in order (for compact assertions). */
export function texts(messages: readonly RawFrame[]): string[] {
  return messages.map((message) => String(message.text));
}

/** SHA-256 of bytes as the protocol writes it: 64 lower-case hex digits. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Deterministic pseudo-random bytes (so a failing test can be replayed). */
export function pseudoRandomBytes(length: number, seed = 1): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/** Splits bytes into chunks of at most `size` bytes. */
export function chunksOf(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) chunks.push(bytes.subarray(offset, offset + size));
  return chunks;
}
