/**
 * Long user lists (step 5 and the `who`/`join` extension): when the list does not fit in one
 * frame, the server pages it — `more: true` on every frame but the last, all with the request's
 * id, nothing else in between. With 65,536-byte frames that takes ~1,870 users with 32-character
 * names (and ~1.8 M presence frames to log them in); the server's `listFrameBytes` limit lowers the
 * page size (computed by the same splitter from the same rule), so 120 users show the paging here.
 * The splitter's own tests cover the real frame limit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { ChatSession } from '../src/client/index.ts';
import { verifyServer } from '../src/verify/index.ts';
import { TEST_TIMEOUTS, failureSummary } from '../test-support/verify-runs.ts';
import { FrameDecoder, encodeFrame, type RawFrame } from '../src/protocol/index.ts';
import { startTestServer, type TestServer } from '../test-support/chat-server.ts';
import { CROWD_PASSWORD, CROWD_SCRYPT, loginCrowd, longNames, seedAccounts, type Crowd } from '../test-support/crowd.ts';
import type { FrameSocket } from '../test-support/frame-socket.ts';

/** A page of {@link LIST_FRAME_BYTES} holds ~27 names of 32 characters: 120 users make 5 pages. */
const CROWD = 120;
const LIST_FRAME_BYTES = 1_024;

let chat: TestServer | undefined;
let crowd: Crowd | undefined;

afterEach(async () => {
  crowd?.close();
  crowd = undefined;
  await chat?.stop();
  chat = undefined;
});

/** Takes the frames of one paged answer: the first (`first` type), then `users` frames while `more`. */
async function takePaged(socket: FrameSocket, first: string): Promise<RawFrame[]> {
  const frames = [await socket.nextFrame(5_000)];
  expect(frames[0]?.type).toBe(first);
  while (frames.at(-1)?.more === true) frames.push(await socket.nextFrame(5_000));
  return frames;
}

function expectPaging(frames: RawFrame[], id: unknown): void {
  expect(frames.length).toBeGreaterThanOrEqual(4);
  for (const frame of frames) {
    expect(Buffer.byteLength(`${JSON.stringify(frame)}\n`)).toBeLessThanOrEqual(LIST_FRAME_BYTES);
    expect(frame.id).toEqual(id);
  }
  expect(frames.slice(0, -1).every((frame) => frame.more === true)).toBe(true);
  expect(frames.at(-1)).not.toHaveProperty('more');
  expect(frames.slice(1).every((frame) => frame.type === 'users')).toBe(true);
}

describe('long user lists', () => {
  it('pages welcome, who and join answers that do not fit in one frame', async () => {
    const names = longNames(CROWD);
    const me = longNames(1, 'z')[0] as string;
    chat = await startTestServer({ users: {}, scrypt: CROWD_SCRYPT, limits: { listFrameBytes: LIST_FRAME_BYTES } });
    await seedAccounts(chat.server, [...names, me]);
    crowd = await loginCrowd(chat.server, chat.port, names);

    const socket = await chat.connect('me');
    await socket.next('hello');
    socket.send({ type: 'login', user: me, password: CROWD_PASSWORD, id: 'L' });
    const welcome = await takePaged(socket, 'welcome');
    expectPaging(welcome, 'L');
    expect(welcome[0]).toMatchObject({ type: 'welcome', user: me });
    expect(welcome.slice(1).every((frame) => !('room' in frame))).toBe(true);
    expect(welcome.flatMap((frame) => frame.users as string[])).toEqual([...names, me]);

    socket.send({ type: 'who', id: 7 });
    const who = await takePaged(socket, 'users');
    expectPaging(who, 7);
    expect(who.flatMap((frame) => frame.users as string[])).toEqual([...names, me]);

    // Joining a room one is in answers the same way: lobby is everyone, so its list is paged too.
    socket.send({ type: 'join', room: 'lobby', id: 'j' });
    const join = await takePaged(socket, 'users');
    expectPaging(join, 'j');
    expect(join.every((frame) => frame.room === 'lobby')).toBe(true);
    expect(join.flatMap((frame) => frame.users as string[])).toEqual([...names, me]);
    expect(await socket.nextFrame()).toMatchObject({ type: 'history_end', room: 'lobby' });

    socket.send({ type: 'who', room: 'lobby', id: 'wl' });
    const whoRoom = await takePaged(socket, 'users');
    expectPaging(whoRoom, 'wl');
    expect(whoRoom.every((frame) => frame.room === 'lobby')).toBe(true);
  });

  it('keeps short lists in one frame without more', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    expect(alice.welcome).toEqual({ type: 'welcome', user: 'alice', users: ['alice'] });
    alice.send({ type: 'who', id: 1 });
    expect(await alice.next('users')).toEqual({ type: 'users', users: ['alice'], id: 1 });
  });
});

describe('the client against a paging server', () => {
  it('reports the whole list: welcome (event and result), who and join', async () => {
    const names = longNames(CROWD);
    const me = longNames(1, 'z')[0] as string;
    chat = await startTestServer({ users: {}, scrypt: CROWD_SCRYPT, limits: { listFrameBytes: LIST_FRAME_BYTES } });
    await seedAccounts(chat.server, [...names, me]);
    crowd = await loginCrowd(chat.server, chat.port, names);
    const session = new ChatSession({ port: chat.port, user: me, password: CROWD_PASSWORD });
    const welcomed = new Promise<string[]>((resolve) => session.once('welcome', (frame) => resolve(frame.users)));
    try {
      const welcome = await session.start();
      expect(welcome.users).toEqual([...names, me]);
      expect(welcome).not.toHaveProperty('more');
      expect(await welcomed).toEqual([...names, me]);
      expect(await session.who()).toEqual([...names, me]);
      expect(await session.join('lobby')).toEqual([...names, me]);
    } finally {
      await session.quit();
    }
  });
});

describe('the verifier against a paging server', () => {
  it('passes every check and puts the paged welcomes together', async () => {
    chat = await startTestServer({ users: {}, scrypt: CROWD_SCRYPT, limits: { listFrameBytes: LIST_FRAME_BYTES } });
    const names = longNames(CROWD);
    await seedAccounts(chat.server, names);
    crowd = await loginCrowd(chat.server, chat.port, names);
    const report = await verifyServer({ target: { host: '127.0.0.1', port: chat.port }, timeouts: TEST_TIMEOUTS });
    expect(report.passed, failureSummary(report)).toBe(true);
    const paged = report.checks.find((check) => check.id === '5.paged-lists');
    expect(paged?.status).toBe('passed');
    expect(paged?.detail).toMatch(/paged welcomes put together: .*in 5 frames/);
  });
});

describe('the verifier against a server that breaks the paging rule', () => {
  let broken: Server | undefined;
  afterEach(() => broken?.close());

  it('fails step 5 naming the frame that broke in', async () => {
    // A minimal server: accepts any register, and answers a login with a paged welcome that a
    // presence interrupts before its last page.
    broken = createServer((socket) => {
      socket.on('error', () => {});
      socket.write('{"type":"hello","protocol":"chatlab/1"}\n');
      const decoder = new FrameDecoder();
      socket.on('data', (chunk) => {
        for (const result of decoder.push(chunk)) {
          // Step 4's error rules, just enough to reach step 5.
          if (!result.ok) {
            socket.write(encodeFrame({ type: 'error', code: result.code, message: result.message }));
            if (result.code === 'frame_too_large') socket.end();
            continue;
          }
          const { type, user, id } = result.frame;
          const idField = id !== undefined ? { id: id as string } : {};
          if (type === 'register') socket.write(encodeFrame({ type: 'ok', ...idField }));
          if (type !== 'login' && type !== 'register') socket.write(encodeFrame({ type: 'error', code: 'unknown_type', message: 'unknown type', ...idField }));
          if (type !== 'login') continue;
          socket.write(encodeFrame({ type: 'welcome', user: String(user), users: [String(user)], more: true }));
          socket.write(encodeFrame({ type: 'presence', user: 'zed', status: 'online' }));
          socket.write(encodeFrame({ type: 'users', users: ['zed'] }));
        }
      });
    });
    await new Promise<void>((resolve) => broken?.listen(0, '127.0.0.1', resolve));
    const { port } = broken.address() as AddressInfo;
    const report = await verifyServer({ target: { host: '127.0.0.1', port }, timeouts: TEST_TIMEOUTS, through: 5 });
    const failed = report.checks.find((check) => check.status === 'failed');
    expect(failed?.id).toBe('5.welcome');
    expect(failed?.failure?.summary).toMatch(/paged welcome was broken off: .*"presence" came before its last page/);
  });
});

describe('a login that fails', () => {
  it('leaves nothing behind: no welcome, not online, no presence, queued messages kept', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    alice.send({ type: 'say', to: 'bob', text: 'while you were out', id: 1 });
    expect(await alice.next('ok')).toMatchObject({ id: 1, queued: true });

    // A database that refuses writes: marking bob's queued message delivered fails mid-login.
    chat.server.accounts.db.pragma('query_only = ON');
    const bob = await chat.connect('bob');
    await bob.next('hello');
    bob.send({ type: 'login', user: 'bob', password: 'builder', id: 'L1' });
    expect(await bob.nextFrame()).toEqual({ type: 'error', code: 'internal', message: expect.any(String), id: 'L1' });
    expect(chat.server.hub.isOnline('bob')).toBe(false);
    expect(await bob.sync()).toEqual([]);
    expect((await alice.sync()).filter((frame) => frame.type === 'presence')).toEqual([]);
    alice.send({ type: 'who', id: 2 });
    expect(await alice.next('users')).toEqual({ type: 'users', users: ['alice'], id: 2 });

    // The connection stays usable: once the database takes writes again, the same login works and
    // the message that waited is delivered (it was not marked delivered by the failed attempt).
    chat.server.accounts.db.pragma('query_only = OFF');
    bob.send({ type: 'login', user: 'bob', password: 'builder', id: 'L2' });
    expect(await bob.nextFrame()).toEqual({ type: 'welcome', user: 'bob', users: ['alice', 'bob'], id: 'L2' });
    expect(await bob.nextFrame()).toMatchObject({ type: 'message', from: 'alice', to: 'bob', text: 'while you were out', queued: true });
    expect(await bob.nextFrame()).toMatchObject({ type: 'history_end', count: 1 });
    expect(await alice.next('presence')).toEqual({ type: 'presence', user: 'bob', status: 'online' });
  });

  it('answers internal with the id when the accounts cannot be read, and the connection may try again', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    const db = chat.server.accounts.db;
    db.exec('ALTER TABLE users RENAME TO users_away');
    const bob = await chat.connect('bob');
    await bob.next('hello');
    bob.send({ type: 'login', user: 'bob', password: 'builder', id: 'L1' });
    expect(await bob.nextFrame()).toEqual({ type: 'error', code: 'internal', message: expect.any(String), id: 'L1' });
    expect(chat.server.hub.isOnline('bob')).toBe(false);
    expect((await alice.sync()).filter((frame) => frame.type === 'presence')).toEqual([]);
    db.exec('ALTER TABLE users_away RENAME TO users');
    bob.send({ type: 'login', user: 'bob', password: 'builder', id: 'L2' });
    expect(await bob.nextFrame()).toEqual({ type: 'welcome', user: 'bob', users: ['alice', 'bob'], id: 'L2' });
  });
});
