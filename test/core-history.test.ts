/**
 * Paging back through history (`history` with `before` and `limit`, of a room or a private
 * conversation), played against the core (see test-support/playbook.ts). The replay after
 * welcome, retention and restarts with a file database stay in server-history.test.ts, over TCP.
 */
import { describe, expect, it } from 'vitest';
import { errorFrame as error } from '../test-support/chat-server.ts';
import { play, type Playbook } from '../test-support/playbook.ts';

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
    const script = play().login('alice').send('alice', { type: 'join', room: 'rust', id: 'j' }).expect('alice', { type: 'users', id: 'j' }, { type: 'history_end', room: 'rust', count: 0 });
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

describe('history replay after welcome', () => {
  it('replays lobby in msgid order with history: true, then history_end; live messages carry msgid', async () => {
    const script = play().login('alice').login('bob');
    const ts = script.clock.now();
    await script
      .send('alice', { type: 'say', text: 'one' }, { type: 'say', text: 'two' })
      .send('bob', { type: 'say', text: 'three' })
      .expect('bob', { type: 'message', text: 'one', msgid: 1 }, { type: 'message', text: 'two', msgid: 2 })
      .expect('alice', { type: 'message', text: 'three', msgid: 3 })
      .connect('carol')
      .send('carol', { type: 'login', user: 'carol', password: 'caroline' })
      .expectExact(
        'carol',
        { type: 'welcome', user: 'carol', users: ['alice', 'bob', 'carol'] },
        { type: 'message', from: 'alice', room: 'lobby', text: 'one', ts, msgid: 1, history: true },
        { type: 'message', from: 'alice', room: 'lobby', text: 'two', ts, msgid: 2, history: true },
        { type: 'message', from: 'bob', room: 'lobby', text: 'three', ts, msgid: 3, history: true },
        { type: 'history_end', count: 3, last_msgid: 3 },
      )
      .expect('alice', { type: 'presence', user: 'carol' })
      .expect('bob', { type: 'presence', user: 'carol' });
  });

  it('a fresh server replays nothing and sends no history_end to a login without since', async () => {
    await play()
      .login('alice')
      .expectNothing('alice')
      .login('bob', { extra: { since: 0 } }) // asking with since always gets the end marker
      .expectExact('bob', { type: 'history_end', count: 0, last_msgid: 0 });
  });

  it('since: a reconnecting client gets only what it missed', async () => {
    const script = play().login('alice').login('bob');
    sayAll(script, 'alice', ['before 1', 'before 2']);
    await script
      .expect('bob', { type: 'message', msgid: 1 }, { type: 'message', msgid: 2 })
      .drop('bob')
      .expect('alice', { type: 'presence', user: 'bob', status: 'offline' })
      .send('alice', { type: 'say', text: 'missed 1' }, { type: 'say', text: 'missed 2' })
      .login('back', { user: 'bob', extra: { since: 2 } })
      .expect('back', ...replayed('missed 1', 'missed 2'))
      .expectExact('back', { type: 'history_end', count: 2, last_msgid: 4 });
  });

  it('replays at most historyReplayLimit per conversation', async () => {
    const script = play({ limits: { historyReplayLimit: 2 } }).login('alice');
    sayAll(script, 'alice', ['a', 'b', 'c', 'd']);
    await script
      .login('bob')
      .expect('bob', ...replayed('c', 'd'))
      .expectExact('bob', { type: 'history_end', count: 2, last_msgid: 4 });
  });

  it('a historyReplayLimit of 0 turns replay off', async () => {
    const script = play({ limits: { historyReplayLimit: 0 } }).login('carol');
    sayAll(script, 'carol', ['x']);
    await script.login('dave').expectNothing('dave');
  });

  it('since: when a group missed more than historyReplayLimit, the newest are replayed; a page fills the gap', async () => {
    const script = play({ limits: { historyReplayLimit: 2 } }).login('alice');
    sayAll(script, 'alice', ['seen', 'm1', 'm2', 'm3', 'm4']);
    await script
      .login('bob', { extra: { since: 1 } })
      .expect('bob', ...replayed('m3', 'm4'))
      .expectExact('bob', { type: 'history_end', count: 2, last_msgid: 5 })
      .send('bob', { type: 'history', before: 4, limit: 5, id: 'gap' })
      .expect('bob', ...replayed('seen', 'm1', 'm2'))
      .expectExact('bob', { type: 'history_end', room: 'lobby', count: 3, id: 'gap' });
  });

  it('replays the user’s private conversations too', async () => {
    await play()
      .login('alice')
      .login('bob')
      .send('alice', { type: 'say', to: 'bob', text: 'private hello', id: 1 })
      .expect('alice', { type: 'ok', id: 1 })
      .expect('bob', { type: 'message', to: 'bob', text: 'private hello' })
      .send('bob', { type: 'say', text: 'public reply' })
      .expect('alice', { type: 'message', text: 'public reply' })
      .drop('bob')
      .expect('alice', { type: 'presence', user: 'bob', status: 'offline' })
      .login('back', { user: 'bob' })
      .expectExact(
        'back',
        { type: 'message', from: 'alice', to: 'bob', text: 'private hello', ts: expect.any(Number), msgid: 1, history: true },
        { type: 'message', from: 'bob', room: 'lobby', text: 'public reply', ts: expect.any(Number), msgid: 2, history: true },
        { type: 'history_end', count: 2, last_msgid: 2 },
      );
  });

  it('a room’s last messages follow the users answer, even after the room emptied', async () => {
    const script = play().login('alice').login('bob');
    for (const name of ['alice', 'bob']) script.send(name, { type: 'join', room: 'rust' }).expect(name, { type: 'users' }, { type: 'history_end' });
    await script
      .expect('alice', { type: 'presence', user: 'bob', room: 'rust' })
      .send('alice', { type: 'say', room: 'rust', text: 'fn main() {}' })
      .send('bob', { type: 'say', room: 'rust', text: 'cargo run' }, { type: 'say', text: 'in the lobby' })
      .expect('bob', { type: 'message', text: 'fn main() {}' })
      .expect('alice', { type: 'message', text: 'cargo run' }, { type: 'message', text: 'in the lobby' })
      .send('alice', { type: 'leave', room: 'rust', id: 'l' })
      .expect('alice', { type: 'ok', id: 'l' })
      .expect('bob', { type: 'presence', user: 'alice', room: 'rust', status: 'offline' })
      .send('bob', { type: 'leave', room: 'rust', id: 'l' })
      .expect('bob', { type: 'ok', id: 'l' })
      .login('carol')
      .expect('carol', ...replayed('in the lobby'), { type: 'history_end', count: 1 })
      .send('carol', { type: 'join', room: 'rust', id: 'j' })
      .expectExact('carol', { type: 'users', room: 'rust', users: ['carol'], id: 'j' })
      .expect('carol', { from: 'alice', room: 'rust', text: 'fn main() {}' }, { from: 'bob', room: 'rust', text: 'cargo run' })
      .expectExact('carol', { type: 'history_end', room: 'rust', count: 2, last_msgid: 2 });
  });
});
