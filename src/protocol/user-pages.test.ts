import { describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES, encodeFrame, pageUserList, pageWelcome, type UsersFrame, type WelcomeFrame } from './index.ts';

const names = (count: number, length = 32): string[] =>
  Array.from({ length: count }, (_, i) => `u${String(i).padStart(length - 1, '0')}`);

describe('pageUserList', () => {
  it('gives one frame without more when the list fits', () => {
    expect(pageUserList<WelcomeFrame>({ type: 'welcome', user: 'alice', users: ['alice', 'bob'], id: 1 })).toEqual([
      { type: 'welcome', user: 'alice', id: 1, users: ['alice', 'bob'] },
    ]);
  });

  it('gives one empty frame for an empty list', () => {
    expect(pageUserList<UsersFrame>({ type: 'users', room: 'rust', users: [] })).toEqual([{ type: 'users', room: 'rust', users: [] }]);
  });

  it('pages a list too long for one frame: every frame fits, more on all but the last, order kept', () => {
    const users = names(5_000);
    const frames = pageUserList<WelcomeFrame>({ type: 'welcome', user: users[0] as string, users, id: 'x'.repeat(64) });
    expect(frames.length).toBe(3); // 5,000 × 35 bytes = 175,000 bytes
    for (const frame of frames) expect(encodeFrame(frame).length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    expect(frames.slice(0, -1).every((frame) => frame.more === true)).toBe(true);
    expect(frames.at(-1)).not.toHaveProperty('more');
    expect(frames.every((frame) => frame.id === 'x'.repeat(64) && frame.user === users[0])).toBe(true);
    expect(frames.flatMap((frame) => frame.users)).toEqual(users);
  });

  it('fills each page: one more name would not have fitted', () => {
    const users = names(3_000, 20);
    const frames = pageUserList<UsersFrame>({ type: 'users', room: 'lobby', users, id: 7 });
    expect(frames.length).toBeGreaterThan(1);
    for (const [i, frame] of frames.slice(0, -1).entries()) {
      const next = frames[i + 1]?.users[0] as string;
      expect(Buffer.byteLength(`${JSON.stringify({ ...frame, users: [...frame.users, next] })}\n`)).toBeGreaterThan(MAX_FRAME_BYTES);
    }
  });

  it('counts the bytes of the encoded id and names, not their characters', () => {
    const users = names(400, 8);
    const id = '\u0001'.repeat(64); // six bytes each once escaped by JSON
    const frames = pageUserList<UsersFrame>({ type: 'users', users, id }, 4_096);
    expect(frames.length).toBeGreaterThan(1);
    for (const frame of frames) expect(encodeFrame(frame).length).toBeLessThanOrEqual(4_096);
    expect(frames.flatMap((frame) => frame.users)).toEqual(users);
  });

  it('keeps the order of the fields, users where it was and more last', () => {
    const [first] = pageUserList<UsersFrame>({ type: 'users', users: names(300, 8), room: 'r', id: 1 }, 2_048);
    expect(Object.keys(first as object)).toEqual(['type', 'users', 'room', 'id', 'more']);
  });

  it('refuses an envelope that leaves no room for a name', () => {
    expect(() => pageUserList<UsersFrame>({ type: 'users', users: ['alice'], id: 'x'.repeat(100) }, 120)).toThrow(RangeError);
  });
});

describe('pageWelcome', () => {
  it('is one welcome when the list fits', () => {
    expect(pageWelcome('alice', ['alice', 'bob'], 'L1')).toEqual([{ type: 'welcome', user: 'alice', users: ['alice', 'bob'], id: 'L1' }]);
  });

  it('continues a long list with users frames of the same id, more on all but the last', () => {
    const users = names(4_000);
    const [welcome, ...rest] = pageWelcome(users[5] as string, users, 9);
    expect(welcome).toMatchObject({ type: 'welcome', user: users[5], more: true, id: 9 });
    expect(rest.length).toBeGreaterThan(0);
    expect(rest.every((frame) => frame.type === 'users' && frame.id === 9 && !('room' in frame))).toBe(true);
    expect(rest.slice(0, -1).every((frame) => frame.more === true)).toBe(true);
    expect(rest.at(-1)).not.toHaveProperty('more');
    for (const frame of [welcome, ...rest]) expect(encodeFrame(frame).length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    expect([welcome, ...rest].flatMap((frame) => frame.users)).toEqual(users);
  });

  it('leaves id out when the login had none', () => {
    const frames = pageWelcome('a', names(4_000));
    expect(frames.every((frame) => !('id' in frame))).toBe(true);
  });
});
