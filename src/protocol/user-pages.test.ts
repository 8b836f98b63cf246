import { describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES, encodeFrame, pageUserList, type UsersFrame, type WelcomeFrame } from './index.ts';

const names = (count: number, length = 32): string[] =>
  Array.from({ length: count }, (_, i) => `u${String(i).padStart(length - 1, '0')}`);

describe('pageUserList', () => {
  it('gives one frame without more when the list fits', () => {
    expect(pageUserList<WelcomeFrame>({ type: 'welcome', user: 'alice', id: 1 }, ['alice', 'bob'])).toEqual([
      { type: 'welcome', user: 'alice', id: 1, users: ['alice', 'bob'] },
    ]);
  });

  it('gives one empty frame for an empty list', () => {
    expect(pageUserList<UsersFrame>({ type: 'users', room: 'rust' }, [])).toEqual([{ type: 'users', room: 'rust', users: [] }]);
  });

  it('pages a list too long for one frame: every frame fits, more on all but the last, order kept', () => {
    const users = names(5_000);
    const frames = pageUserList<WelcomeFrame>({ type: 'welcome', user: users[0] as string, id: 'x'.repeat(64) }, users);
    expect(frames.length).toBe(3); // 5,000 × 35 bytes = 175,000 bytes
    for (const frame of frames) expect(encodeFrame(frame).length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    expect(frames.slice(0, -1).every((frame) => frame.more === true)).toBe(true);
    expect(frames.at(-1)).not.toHaveProperty('more');
    expect(frames.every((frame) => frame.id === 'x'.repeat(64) && frame.user === users[0])).toBe(true);
    expect(frames.flatMap((frame) => frame.users)).toEqual(users);
  });

  it('fills each page: one more name would not have fitted', () => {
    const users = names(3_000, 20);
    const frames = pageUserList<UsersFrame>({ type: 'users', room: 'lobby', id: 7 }, users);
    expect(frames.length).toBeGreaterThan(1);
    for (const [i, frame] of frames.slice(0, -1).entries()) {
      const next = frames[i + 1]?.users[0] as string;
      expect(Buffer.byteLength(`${JSON.stringify({ ...frame, users: [...frame.users, next] })}\n`)).toBeGreaterThan(MAX_FRAME_BYTES);
    }
  });

  it('counts the bytes of the encoded id and names, not their characters', () => {
    const users = names(400, 8);
    const id = '\u0001'.repeat(64); // six bytes each once escaped by JSON
    const frames = pageUserList<UsersFrame>({ type: 'users', id }, users, 4_096);
    expect(frames.length).toBeGreaterThan(1);
    for (const frame of frames) expect(encodeFrame(frame).length).toBeLessThanOrEqual(4_096);
    expect(frames.flatMap((frame) => frame.users)).toEqual(users);
  });

  it('refuses an envelope that leaves no room for a name', () => {
    expect(() => pageUserList<UsersFrame>({ type: 'users', id: 'x'.repeat(100) }, ['alice'], 120)).toThrow(RangeError);
  });
});
