/**
 * Private messages (`say` with `to`), played against the core (see test-support/playbook.ts):
 * only the target receives them, unknown users are refused clearly, and a message to an offline
 * user waits for its next login, where it is delivered once (flagged `queued`), never as new again.
 */
import { describe, expect, it } from 'vitest';
import type { MessageEvent } from '../src/server/index.ts';
import { errorFrame as error } from '../test-support/chat-server.ts';
import { play } from '../test-support/playbook.ts';

describe('private messages', () => {
  it('reach only the target; the sender gets ok with the msgid and no copy', async () => {
    const script = play().login('alice').login('bob').login('carol');
    await script
      .send('alice', { type: 'say', to: 'bob', text: 'psst 🤫', id: 1 })
      .expectExact('bob', { type: 'message', from: 'alice', to: 'bob', text: 'psst 🤫', ts: script.clock.now(), msgid: 1 })
      .expectExact('alice', { type: 'ok', id: 1, msgid: 1 })
      .expectNothing('alice', 'carol')
      // Without an id: delivered just the same, no ok.
      .send('bob', { type: 'say', to: 'alice', text: 'hi back' })
      .expect('alice', { type: 'message', from: 'bob', to: 'alice', text: 'hi back' })
      .expectNothing('bob', 'carol');
  });

  it('refuses an unknown user, to + room together, and yourself; the connection stays', async () => {
    await play()
      .login('alice')
      .send('alice', { type: 'say', to: 'nobody', text: 'hello?', id: 'u' })
      .expectExact('alice', { ...error('unknown_user', 'u'), message: expect.stringContaining('nobody') })
      .send('alice', { type: 'say', to: 'bob', room: 'lobby', text: 'both', id: 'b' })
      .expectExact('alice', error('bad_request', 'b'))
      .send('alice', { type: 'say', to: 'alice', text: 'me', id: 'm' })
      .expectExact('alice', error('bad_request', 'm'))
      .send('alice', { type: 'say', to: 'b ob', text: 'bad name', id: 'n' })
      .expectExact('alice', error('bad_request', 'n'))
      .expectOpen('alice');
  });

  it('to an offline user: ok queued, delivered once at the next login, never flagged new again', async () => {
    const script = play();
    const events: MessageEvent[] = [];
    script.events.on('message', (event) => events.push(event));
    const ts = script.clock.now();
    await script
      .login('alice')
      .send('alice', { type: 'say', to: 'bob', text: 'while you were out', id: 1 })
      .expectExact('alice', { type: 'ok', id: 1, msgid: 1, queued: true })
      .send('alice', { type: 'say', to: 'bob', text: 'and another one', id: 2 })
      .expectExact('alice', { type: 'ok', id: 2, msgid: 2, queued: true })
      .check('message events', () =>
        expect(events).toEqual([expect.objectContaining({ from: 'alice', to: 'bob', recipients: 0, queued: true, msgid: 1 }), expect.objectContaining({ to: 'bob', queued: true, msgid: 2 })]),
      )
      // bob's first login: both arrive, in order, flagged queued, then history_end.
      .login('bob')
      .expectExact(
        'bob',
        { type: 'message', from: 'alice', to: 'bob', text: 'while you were out', ts, msgid: 1, history: true, queued: true },
        { type: 'message', from: 'alice', to: 'bob', text: 'and another one', ts, msgid: 2, history: true, queued: true },
        { type: 'history_end', count: 2, last_msgid: 2 },
      )
      .send('bob', { type: 'quit' })
      .expectExact('bob', { type: 'bye' })
      .end('bob')
      .expectClosed('bob')
      .expectExact('alice', { type: 'presence', user: 'bob', status: 'offline' })
      // Next login without since: the conversation is history now, no longer queued.
      .login('bob again', { user: 'bob' })
      .expectExact(
        'bob again',
        { type: 'message', from: 'alice', to: 'bob', text: 'while you were out', ts, msgid: 1, history: true },
        { type: 'message', from: 'alice', to: 'bob', text: 'and another one', ts, msgid: 2, history: true },
        { type: 'history_end', count: 2, last_msgid: 2 },
      )
      .drop('bob again')
      .expect('alice', { type: 'presence', user: 'bob', status: 'offline', reason: 'connection_lost' })
      // A client that says what it has seen gets nothing again.
      .login('resumed', { user: 'bob', extra: { since: 2 } })
      .expectExact('resumed', { type: 'history_end', count: 0, last_msgid: 0 });
  });

  it('stays private in history: other users never see it replayed', async () => {
    await play()
      .login('alice')
      .send('alice', { type: 'say', to: 'bob', text: 'secret', id: 1 }, { type: 'say', text: 'public', id: 2 })
      .expect('alice', { type: 'ok', id: 1 }, { type: 'ok', id: 2 })
      .login('carol')
      .expect('carol', { type: 'message', text: 'public', history: true }, { type: 'history_end', count: 1 })
      .send('carol', { type: 'history', to: 'alice', id: 'h' })
      .expectExact('carol', { type: 'history_end', to: 'alice', count: 0, id: 'h' });
  });
});
