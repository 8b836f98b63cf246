/**
 * Paging back through history (`history` with `before` and `limit`, of a room or a private
 * conversation), played against the core (see test/helpers/playbook.ts). The replay after
 * welcome, retention and restarts with a file database stay in server-history.test.ts, over TCP.
 */
import { describe, it } from 'vitest';
import { errorFrame as error } from './helpers/chat-server.ts';
import { play, type Playbook } from './helpers/playbook.ts';

/** `name` says each text (in `room`, default lobby) and takes its ok; nobody else may be in the room. */
function sayAll(script: Playbook, name: string, texts: string[], room?: string): Playbook {
  for (const [i, text] of texts.entries()) {
    const id = `say-${room ?? 'lobby'}-${i}`;
    script.send(name, { type: 'say', text, id, ...(room !== undefined && { room }) }).expect(name, { type: 'ok', id });
  }
  return script;
}

/** The replayed messages of `texts`, in order (fields checked: text, history). */
function replayed(...texts: string[]): Record<string, unknown>[] {
  return texts.map((text) => ({ type: 'message', text, history: true }));
}

describe('paging with history', () => {
  it('join has no since: the room’s last messages come whatever since it carries', async () => {
    const script = play()
      .login('alice')
      .send('alice', { type: 'join', room: 'rust', id: 'j' })
      .expect('alice', { type: 'users', id: 'j' }, { type: 'history_end', room: 'rust', count: 0 });
    sayAll(script, 'alice', ['r1', 'r2'], 'rust');
    await script
      .send('alice', { type: 'join', room: 'rust', since: Number.MAX_SAFE_INTEGER, id: 'again' })
      .expectExact('alice', { type: 'users', room: 'rust', users: ['alice'], id: 'again' })
      .expect('alice', ...replayed('r1', 'r2'))
      .expectExact('alice', { type: 'history_end', room: 'rust', count: 2, last_msgid: 2 });
  });

  it('pages back through a room with before and limit', async () => {
    const script = play().login('alice');
    sayAll(script, 'alice', ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    await script
      .send('alice', { type: 'history', room: 'lobby', limit: 3, id: 0 })
      .expect('alice', ...replayed('m5', 'm6', 'm7'))
      .expectExact('alice', { type: 'history_end', room: 'lobby', count: 3, id: 0 })
      .send('alice', { type: 'history', room: 'lobby', limit: 3, before: 5, id: 1 })
      .expect('alice', ...replayed('m2', 'm3', 'm4'))
      .expectExact('alice', { type: 'history_end', room: 'lobby', count: 3, id: 1 })
      .send('alice', { type: 'history', room: 'lobby', limit: 3, before: 2, id: 2 })
      .expect('alice', ...replayed('m1'))
      .expectExact('alice', { type: 'history_end', room: 'lobby', count: 1, id: 2 })
      .send('alice', { type: 'history', room: 'lobby', limit: 3, before: 1, id: 3 })
      .expectExact('alice', { type: 'history_end', room: 'lobby', count: 0, id: 3 });
  });

  it('"whole number" is judged by value: 5.0 is the number 5', async () => {
    const script = play().login('alice');
    sayAll(script, 'alice', ['m1', 'm2', 'm3']);
    await script
      .sendRaw('alice', '{"type":"history","before":3.0,"limit":5.0,"id":"gap"}\n')
      .expect('alice', ...replayed('m1', 'm2'))
      .expectExact('alice', { type: 'history_end', room: 'lobby', count: 2, id: 'gap' });
  });

  it('pages a private conversation with to; refuses what the user may not read', async () => {
    await play()
      .login('alice')
      .login('bob')
      .send('alice', { type: 'say', to: 'bob', text: 'a→b' })
      .send('bob', { type: 'say', to: 'alice', text: 'b→a' })
      .send('alice', { type: 'say', to: 'carol', text: 'a→c' })
      .expect('bob', { type: 'message', text: 'a→b' })
      .expect('alice', { type: 'message', text: 'b→a' })
      .send('alice', { type: 'history', to: 'bob', id: 'h' })
      .expect('alice', ...replayed('a→b', 'b→a'))
      .expectExact('alice', { type: 'history_end', to: 'bob', count: 2, id: 'h' })
      .send('alice', { type: 'history', room: 'rust', id: 1 })
      .expectExact('alice', error('unknown_room', 1))
      .send('bob', { type: 'join', room: 'rust' })
      .expect('bob', { type: 'users', room: 'rust' }, { type: 'history_end', room: 'rust' })
      .send('alice', { type: 'history', room: 'rust', id: 2 })
      .expectExact('alice', error('not_in_room', 2))
      .send('alice', { type: 'history', to: 'nobody', id: 3 })
      .expectExact('alice', error('unknown_user', 3))
      .send('alice', { type: 'history', to: 'bob', room: 'lobby', id: 4 })
      .expectExact('alice', error('bad_request', 4))
      .send('alice', { type: 'history', limit: 0, id: 5 })
      .expectExact('alice', error('bad_request', 5));
  });

  it('lowers a limit over historyPageLimit', async () => {
    const script = play({ limits: { historyPageLimit: 2 } }).login('alice');
    sayAll(script, 'alice', ['1', '2', '3']);
    await script
      .send('alice', { type: 'history', limit: 100, id: 'h' })
      .expect('alice', ...replayed('2', '3'))
      .expectExact('alice', { type: 'history_end', room: 'lobby', count: 2, id: 'h' });
  });
});
