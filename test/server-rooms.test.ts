/**
 * End to end: rooms. Everyone is in lobby; join/leave with presence per room; a room message
 * reaches only the room's other members; rooms are listed with their sizes and vanish when empty.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RoomEvent } from '../src/server/index.ts';
import { errorFrame as error, startTestServer, threeUsers, type TestServer } from './helpers/chat-server.ts';
import type { FrameSocket } from './helpers/frame-socket.ts';
import { takeHistory } from './helpers/extensions.ts';

let chat: TestServer | undefined;
afterEach(async () => {
  await chat?.stop();
  chat = undefined;
});

/** Joins a room and takes the answer (users) and the replay up to history_end. */
async function join(socket: FrameSocket, room: string, id: string | number): Promise<string[]> {
  socket.send({ type: 'join', room, id });
  const answer = await socket.nextFrame();
  expect(answer).toEqual({ type: 'users', room, users: expect.any(Array), id });
  const { end } = await takeHistory(socket);
  expect(end).toMatchObject({ type: 'history_end', room });
  return answer.users as string[];
}

describe('rooms', () => {
  it('join: users answer, presence to the room only, then messages reach members only', async () => {
    chat = await startTestServer();
    const events: RoomEvent[] = [];
    chat.server.events.on('room', (e) => events.push(e));
    const [alice, bob, carol] = await threeUsers(chat);

    alice.send({ type: 'join', room: 'rust', id: 1 });
    expect(await alice.nextFrame()).toEqual({ type: 'users', room: 'rust', users: ['alice'], id: 1 });
    expect(await alice.nextFrame()).toEqual({ type: 'history_end', room: 'rust', count: 0, last_msgid: 0 });
    expect(await join(bob, 'rust', 2)).toEqual(['alice', 'bob']);
    expect(await alice.nextFrame()).toEqual({ type: 'presence', user: 'bob', status: 'online', room: 'rust' });
    expect(await carol.sync()).toEqual([]); // not a member: no presence about rust

    bob.send({ type: 'say', room: 'rust', text: 'borrow checker 🦀', id: 3 });
    expect(await alice.nextFrame()).toEqual({
      type: 'message',
      from: 'bob',
      room: 'rust',
      text: 'borrow checker 🦀',
      ts: expect.any(Number),
      msgid: expect.any(Number),
    });
    expect(await bob.nextFrame()).toEqual({ type: 'ok', id: 3, msgid: expect.any(Number) });
    expect(await bob.sync()).toEqual([]);
    expect(await carol.sync()).toEqual([]);

    // A plain say still goes to lobby = everyone, room members included, tagged lobby.
    carol.send({ type: 'say', text: 'hello all' });
    for (const other of [alice, bob]) expect(await other.nextFrame()).toMatchObject({ type: 'message', from: 'carol', room: 'lobby', text: 'hello all' });
    expect(events).toEqual([
      { id: expect.any(Number), user: 'alice', room: 'rust', action: 'join' },
      { id: expect.any(Number), user: 'bob', room: 'rust', action: 'join' },
    ]);
  });

  it('join is idempotent: the same answer, no second presence', async () => {
    chat = await startTestServer();
    const [alice, bob] = await threeUsers(chat);
    await join(alice, 'rust', 1);
    await join(bob, 'rust', 2);
    await alice.next('presence');
    expect(await join(bob, 'rust', 3)).toEqual(['alice', 'bob']);
    expect(await alice.sync()).toEqual([]);
    expect(await join(bob, 'lobby', 4)).toEqual(['alice', 'bob', 'carol']);
  });

  it('not_in_room, unknown_room, and lobby cannot be left', async () => {
    chat = await startTestServer();
    const [alice, , carol] = await threeUsers(chat);
    await join(alice, 'rust', 1);
    carol.send({ type: 'say', room: 'rust', text: 'let me in', id: 'a' });
    expect(await carol.nextFrame()).toEqual(error('not_in_room', 'a'));
    carol.send({ type: 'say', room: 'nowhere', text: 'hello?', id: 'b' });
    expect(await carol.nextFrame()).toEqual(error('unknown_room', 'b'));
    carol.send({ type: 'leave', room: 'rust', id: 'c' });
    expect(await carol.nextFrame()).toEqual(error('not_in_room', 'c'));
    carol.send({ type: 'leave', room: 'nowhere', id: 'd' });
    expect(await carol.nextFrame()).toEqual(error('unknown_room', 'd'));
    carol.send({ type: 'leave', room: 'lobby', id: 'e' });
    expect(await carol.nextFrame()).toEqual(error('bad_request', 'e'));
    carol.send({ type: 'join', room: 'Not A Room', id: 'f' });
    expect(await carol.nextFrame()).toEqual(error('bad_request', 'f'));
    carol.send({ type: 'who', room: 'nowhere', id: 'g' });
    expect(await carol.nextFrame()).toEqual(error('unknown_room', 'g'));
    expect(await alice.sync()).toEqual([]); // none of it reached the room
  });

  it('rooms lists every room with its size; who lists a room; empty rooms vanish', async () => {
    chat = await startTestServer();
    const [alice, bob, carol] = await threeUsers(chat);
    await join(alice, 'rust', 1);
    await join(bob, 'rust', 2);
    await alice.next('presence');
    await join(carol, 'go', 3);

    carol.send({ type: 'rooms', id: 'r' });
    expect(await carol.nextFrame()).toEqual({
      type: 'room_list',
      rooms: [
        { room: 'go', users: 1 },
        { room: 'lobby', users: 3 },
        { room: 'rust', users: 2 },
      ],
      id: 'r',
    });
    carol.send({ type: 'who', room: 'rust', id: 'w' });
    expect(await carol.nextFrame()).toEqual({ type: 'users', room: 'rust', users: ['alice', 'bob'], id: 'w' });
    carol.send({ type: 'who', room: 'lobby', id: 'l' });
    expect(await carol.nextFrame()).toEqual({ type: 'users', room: 'lobby', users: ['alice', 'bob', 'carol'], id: 'l' });

    // alice leaves: ok, bob gets presence offline for rust only.
    alice.send({ type: 'leave', room: 'rust', id: 4 });
    expect(await alice.nextFrame()).toEqual({ type: 'ok', id: 4 });
    expect(await bob.nextFrame()).toEqual({ type: 'presence', user: 'alice', status: 'offline', room: 'rust' });
    expect(await carol.sync()).toEqual([]);
    alice.send({ type: 'say', room: 'rust', text: 'still here?', id: 5 });
    expect(await alice.nextFrame()).toEqual(error('not_in_room', 5));

    // The last member leaves: rust is gone.
    bob.send({ type: 'leave', room: 'rust' });
    expect(await bob.sync()).toEqual([]); // no id: no ok
    carol.send({ type: 'rooms', id: 'r2' });
    expect(await carol.nextFrame()).toMatchObject({ rooms: [{ room: 'go', users: 1 }, { room: 'lobby', users: 3 }] });
    carol.send({ type: 'who', room: 'rust', id: 'w2' });
    expect(await carol.nextFrame()).toEqual(error('unknown_room', 'w2'));
  });

  it('going offline leaves every room silently: only the global offline is sent', async () => {
    chat = await startTestServer();
    const [alice, bob, carol] = await threeUsers(chat);
    await join(alice, 'rust', 1);
    await join(bob, 'rust', 2);
    await alice.next('presence');
    bob.destroy();
    expect(await alice.nextFrame()).toEqual({ type: 'presence', user: 'bob', status: 'offline', reason: 'connection_lost' });
    expect(await alice.sync()).toEqual([]);
    expect(await carol.nextFrame()).toEqual({ type: 'presence', user: 'bob', status: 'offline', reason: 'connection_lost' });
    alice.send({ type: 'who', room: 'rust', id: 'w' });
    expect(await alice.nextFrame()).toEqual({ type: 'users', room: 'rust', users: ['alice'], id: 'w' });
    // bob comes back: he is in lobby only.
    const again = await chat.login('bob');
    again.send({ type: 'say', room: 'rust', text: 'back', id: 'x' });
    expect(await again.next((f) => f.id === 'x')).toEqual(error('not_in_room', 'x'));
  });

  it('maxRoomsPerUser bounds the rooms one user is in', async () => {
    chat = await startTestServer({ limits: { maxRoomsPerUser: 2 } });
    const alice = await chat.login('alice');
    await join(alice, 'one', 1);
    await join(alice, 'two', 2);
    alice.send({ type: 'join', room: 'three', id: 3 });
    const refused = await alice.nextFrame();
    expect(refused).toEqual(error('bad_request', 3));
    expect(refused.message).toContain('2 rooms');
    alice.send({ type: 'leave', room: 'one', id: 4 });
    await alice.next('ok');
    expect(await join(alice, 'three', 5)).toEqual(['alice']);
  });
});
