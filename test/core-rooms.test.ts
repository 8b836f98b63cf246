/**
 * Rooms, played against the core (see test-support/playbook.ts). Everyone is in lobby;
 * join/leave with presence per room; a room message reaches only the room's other members; rooms
 * are listed with their sizes and vanish when empty.
 */
import { describe, expect, it } from 'vitest';
import type { RoomEvent } from '../src/server/index.ts';
import { errorFrame as error } from '../test-support/chat-server.ts';
import { play, type Playbook } from '../test-support/playbook.ts';

/** `name` joins an empty-history room: the `users` answer, then an empty replay. */
function join(script: Playbook, name: string, room: string, id: string | number, users: string[]): Playbook {
  return script.send(name, { type: 'join', room, id }).expectExact(name, { type: 'users', room, users, id }, { type: 'history_end', room, count: 0, last_msgid: 0 });
}

function threeUsers(options?: Parameters<typeof play>[0]): Playbook {
  return play(options).login('alice').login('bob').login('carol');
}

describe('rooms', () => {
  it('join: users answer, presence to the room only, then messages reach members only', async () => {
    const script = threeUsers();
    const events: RoomEvent[] = [];
    script.events.on('room', (event) => events.push(event));
    join(script, 'alice', 'rust', 1, ['alice']);
    join(script, 'bob', 'rust', 2, ['alice', 'bob']);
    await script
      .expectExact('alice', { type: 'presence', user: 'bob', status: 'online', room: 'rust' })
      .expectNothing('carol') // not a member: no presence about rust
      .send('bob', { type: 'say', room: 'rust', text: 'borrow checker 🦀', id: 3 })
      .expectExact('alice', { type: 'message', from: 'bob', room: 'rust', text: 'borrow checker 🦀', ts: script.clock.now(), msgid: 1 })
      .expectExact('bob', { type: 'ok', id: 3, msgid: 1 })
      .expectNothing('bob', 'carol')
      // A plain say still goes to lobby = everyone, room members included, tagged lobby.
      .send('carol', { type: 'say', text: 'hello all' })
      .expect('alice', { type: 'message', from: 'carol', room: 'lobby', text: 'hello all' })
      .expect('bob', { type: 'message', from: 'carol', room: 'lobby', text: 'hello all' })
      .check('room events', () =>
        expect(events).toEqual([
          { id: expect.any(Number), user: 'alice', room: 'rust', action: 'join' },
          { id: expect.any(Number), user: 'bob', room: 'rust', action: 'join' },
        ]),
      );
  });

  it('join is idempotent: the same answer, no second presence', async () => {
    const script = threeUsers();
    join(script, 'alice', 'rust', 1, ['alice']);
    join(script, 'bob', 'rust', 2, ['alice', 'bob']);
    script.expect('alice', { type: 'presence', user: 'bob', room: 'rust' });
    join(script, 'bob', 'rust', 3, ['alice', 'bob']);
    script.expectNothing('alice');
    join(script, 'bob', 'lobby', 4, ['alice', 'bob', 'carol']);
    await script;
  });

  it('not_in_room, unknown_room, and lobby cannot be left', async () => {
    const script = threeUsers();
    join(script, 'alice', 'rust', 1, ['alice']);
    await script
      .send('carol', { type: 'say', room: 'rust', text: 'let me in', id: 'a' })
      .expectExact('carol', error('not_in_room', 'a'))
      .send('carol', { type: 'say', room: 'nowhere', text: 'hello?', id: 'b' })
      .expectExact('carol', error('unknown_room', 'b'))
      .send('carol', { type: 'leave', room: 'rust', id: 'c' })
      .expectExact('carol', error('not_in_room', 'c'))
      .send('carol', { type: 'leave', room: 'nowhere', id: 'd' })
      .expectExact('carol', error('unknown_room', 'd'))
      .send('carol', { type: 'leave', room: 'lobby', id: 'e' })
      .expectExact('carol', error('bad_request', 'e'))
      .send('carol', { type: 'join', room: 'Not A Room', id: 'f' })
      .expectExact('carol', error('bad_request', 'f'))
      .send('carol', { type: 'who', room: 'nowhere', id: 'g' })
      .expectExact('carol', error('unknown_room', 'g'))
      .expectNothing('alice'); // none of it reached the room
  });

  it('rooms lists every room with its size; who lists a room; empty rooms vanish', async () => {
    const script = threeUsers();
    join(script, 'alice', 'rust', 1, ['alice']);
    join(script, 'bob', 'rust', 2, ['alice', 'bob']);
    script.expect('alice', { type: 'presence', user: 'bob', room: 'rust' });
    join(script, 'carol', 'go', 3, ['carol']);
    await script
      .send('carol', { type: 'rooms', id: 'r' })
      .expectExact('carol', {
        type: 'room_list',
        rooms: [
          { room: 'go', users: 1 },
          { room: 'lobby', users: 3 },
          { room: 'rust', users: 2 },
        ],
        id: 'r',
      })
      .send('carol', { type: 'who', room: 'rust', id: 'w' })
      .expectExact('carol', { type: 'users', room: 'rust', users: ['alice', 'bob'], id: 'w' })
      .send('carol', { type: 'who', room: 'lobby', id: 'l' })
      .expectExact('carol', { type: 'users', room: 'lobby', users: ['alice', 'bob', 'carol'], id: 'l' })
      // alice leaves: ok, bob gets presence offline for rust only.
      .send('alice', { type: 'leave', room: 'rust', id: 4 })
      .expectExact('alice', { type: 'ok', id: 4 })
      .expectExact('bob', { type: 'presence', user: 'alice', status: 'offline', room: 'rust' })
      .expectNothing('carol')
      .send('alice', { type: 'say', room: 'rust', text: 'still here?', id: 5 })
      .expectExact('alice', error('not_in_room', 5))
      // The last member leaves (no id: no ok): rust is gone.
      .send('bob', { type: 'leave', room: 'rust' })
      .expectNothing('bob')
      .send('carol', { type: 'rooms', id: 'r2' })
      .expect('carol', {
        rooms: [
          { room: 'go', users: 1 },
          { room: 'lobby', users: 3 },
        ],
      })
      .send('carol', { type: 'who', room: 'rust', id: 'w2' })
      .expectExact('carol', error('unknown_room', 'w2'));
  });

  it('going offline leaves every room silently: only the global offline is sent', async () => {
    const script = threeUsers();
    join(script, 'alice', 'rust', 1, ['alice']);
    join(script, 'bob', 'rust', 2, ['alice', 'bob']);
    await script
      .expect('alice', { type: 'presence', user: 'bob', room: 'rust' })
      .drop('bob')
      .expectExact('alice', { type: 'presence', user: 'bob', status: 'offline', reason: 'connection_lost' })
      .expectExact('carol', { type: 'presence', user: 'bob', status: 'offline', reason: 'connection_lost' })
      .expectNothing('alice')
      .send('alice', { type: 'who', room: 'rust', id: 'w' })
      .expectExact('alice', { type: 'users', room: 'rust', users: ['alice'], id: 'w' })
      // bob comes back: he is in lobby only.
      .login('bob again', { user: 'bob' })
      .send('bob again', { type: 'say', room: 'rust', text: 'back', id: 'x' })
      .expectExact('bob again', error('not_in_room', 'x'));
  });

  it('maxRoomsPerUser bounds the rooms one user is in', async () => {
    const script = play({ limits: { maxRoomsPerUser: 2 } }).login('alice');
    join(script, 'alice', 'one', 1, ['alice']);
    join(script, 'alice', 'two', 2, ['alice']);
    script
      .send('alice', { type: 'join', room: 'three', id: 3 })
      .expectExact('alice', { ...error('bad_request', 3), message: expect.stringContaining('2 rooms') })
      .send('alice', { type: 'leave', room: 'one', id: 4 })
      .expectExact('alice', { type: 'ok', id: 4 });
    join(script, 'alice', 'three', 5, ['alice']);
    await script;
  });
});
