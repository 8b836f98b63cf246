import { describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES, PagedListAssembler, encodeFrame, pageUserList, pageWelcome, type RawFrame, type UsersFrame, type WelcomeFrame } from './index.ts';

const names = (count: number, length = 32): string[] => Array.from({ length: count }, (_, i) => `u${String(i).padStart(length - 1, '0')}`);

describe('pageUserList', () => {
  it('gives one frame without more when the list fits', () => {
    expect(pageUserList<WelcomeFrame>({ type: 'welcome', user: 'alice', users: ['alice', 'bob'], id: 1 })).toEqual([{ type: 'welcome', user: 'alice', id: 1, users: ['alice', 'bob'] }]);
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

describe('PagedListAssembler', () => {
  it('passes frames that are not paged lists through', () => {
    const lists = new PagedListAssembler();
    const welcome = { type: 'welcome', user: 'a', users: ['a'], id: 1 };
    expect(lists.take(welcome)).toEqual({ kind: 'whole', frame: welcome });
    expect(lists.take({ type: 'presence', user: 'b', status: 'online' }).kind).toBe('whole');
    expect(lists.inProgress).toBe(false);
  });

  it('puts what pageWelcome split back together', () => {
    const users = names(4_000);
    const frames = pageWelcome(users[0] as string, users, 'L');
    const lists = new PagedListAssembler();
    const steps = frames.map((frame) => lists.take(frame as unknown as RawFrame));
    expect(steps.slice(0, -1).map((step) => step.kind)).toEqual(frames.slice(0, -1).map(() => 'page'));
    expect(steps.at(-1)).toEqual({ kind: 'complete', frame: { type: 'welcome', user: users[0], users, id: 'L' }, pages: frames.length });
    expect(lists.inProgress).toBe(false);
  });

  it('puts a paged room list back together, room kept', () => {
    const users = names(300, 8);
    const frames = pageUserList<UsersFrame>({ type: 'users', room: 'rust', users, id: 3 }, 2_048);
    const lists = new PagedListAssembler();
    const last = frames.map((frame) => lists.take(frame as unknown as RawFrame)).at(-1);
    expect(last).toEqual({ kind: 'complete', frame: { type: 'users', room: 'rust', users, id: 3 }, pages: frames.length });
  });

  it.each([
    ['another frame', { type: 'presence', user: 'x', status: 'online' }, /"presence" came before its last page/],
    ['another id', { type: 'users', users: ['b'], id: 2 }, /has id 2/],
    ['no id', { type: 'users', users: ['b'] }, /has no id/],
    ['a room', { type: 'users', users: ['b'], room: 'rust', id: 1 }, /has room "rust"/],
  ])('reports a continuation broken by %s and hands that frame back', (_name, next, message) => {
    const lists = new PagedListAssembler();
    lists.take({ type: 'welcome', user: 'a', users: ['a'], more: true, id: 1 });
    const step = lists.take(next as RawFrame);
    expect(step).toMatchObject({ kind: 'broken', frame: next, list: { type: 'welcome', users: ['a'] } });
    expect(step.kind === 'broken' && step.message).toMatch(message);
    expect(lists.inProgress).toBe(false);
  });
});
