/**
 * The contract's loose ends about who gets what, played against the core (see
 * test-support/playbook.ts): a request `id` is echoed unchanged when valid and refused (never
 * echoed) when it is not a string of ≤ 64 characters or an integer within ±(2^53−1); `ok` without
 * an id only for `register` and `file_offer`; one error per frame, in the documented order.
 */
import { describe, expect, it } from 'vitest';
import { errorFrame as error } from '../test-support/chat-server.ts';
import { sha256Hex } from '../test-support/extensions.ts';
import { play } from '../test-support/playbook.ts';

describe('request ids', () => {
  it('echoes each allowed kind unchanged: strings up to 64 characters, integers within ±(2^53−1)', async () => {
    const script = play().login('alice');
    for (const id of ['m-1', '', '👋'.repeat(64), 0, -42, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]) {
      script.send('alice', { type: 'ping', id }).expectExact('alice', { type: 'pong', ts: script.clock.now(), id });
    }
    await script;
  });

  it('answers any other id with bad_request naming "id", without an id, and does nothing else', async () => {
    const script = play().login('alice').login('bob');
    for (const id of [{ n: 1 }, [1], true, null, 'x'.repeat(65), 1.5, 2 ** 53, -(2 ** 53)]) {
      script.send('alice', { type: 'say', text: `with id ${JSON.stringify(id)}`, id }).expectExact('alice', { ...error('bad_request'), message: expect.stringContaining('"id"') });
    }
    await script.expectNothing('bob');
  });
});

describe('extension answers without an id', () => {
  it('register and file_offer are always answered; say, leave and the other file frames only with an id', async () => {
    const file = Buffer.from('x');
    await play()
      .connect('dora')
      .send('dora', { type: 'register', user: 'dora', password: 'explorer' })
      .expectExact('dora', { type: 'ok' })
      .login('alice')
      .login('bob')
      .send('alice', { type: 'say', text: 'no id' }, { type: 'say', to: 'bob', text: 'no id either' }, { type: 'join', room: 'team' })
      .expectExact('alice', { type: 'users', room: 'team', users: ['alice'] }, { type: 'history_end', room: 'team', count: 0, last_msgid: 0 })
      .send('alice', { type: 'leave', room: 'team' })
      .send('alice', { type: 'file_offer', to: 'bob', name: 'x', size: 1, sha256: sha256Hex(file) })
      .expectExact('alice', { type: 'ok', transfer: 't1', users: ['bob'] })
      .expect('bob', { type: 'message', text: 'no id' }, { type: 'message', text: 'no id either' }, { type: 'file_offer', transfer: 't1' })
      .send('bob', { type: 'file_accept', transfer: 't1' })
      .expectExact('alice', { type: 'file_accept', transfer: 't1', user: 'bob' })
      .expectNothing(); // no ok for the says, the leave or the accept
  });
});

describe('the order of extension errors', () => {
  it('fields, then what they name, then membership and state, then limits', async () => {
    const sha256 = sha256Hex(Buffer.alloc(0));
    const offer = (fields: Record<string, unknown>, id: string) => ({ type: 'file_offer', name: 'f', size: 1, sha256, id, ...fields });
    await play({ limits: { maxFileBytes: 10, maxTransfersPerUser: 1 } })
      .login('alice')
      .login('bob')
      .send('alice', offer({ room: 'nowhere', size: 11 }, 'size-before-room'))
      .expectExact('alice', error('file_too_large', 'size-before-room'))
      .send('alice', offer({ to: 'alice', room: 'nowhere' }, 'fields-first'))
      .expectExact('alice', error('bad_request', 'fields-first'))
      .send('alice', { type: 'say', to: 'alice', room: 'nowhere', text: 'x', id: 'both' })
      .expectExact('alice', error('bad_request', 'both'))
      .send('alice', { type: 'leave', room: 'lobby', id: 'lobby' })
      .expectExact('alice', error('bad_request', 'lobby'))
      .send('alice', offer({ to: 'bob' }, 'one'))
      .expect('alice', { type: 'ok', id: 'one' })
      .expect('bob', { type: 'file_offer' })
      .send('bob', { type: 'join', room: 'team', id: 'j' })
      .expect('bob', { type: 'users', id: 'j' }, { type: 'history_end', room: 'team' })
      // Over maxTransfersPerUser, but not in the room: membership comes before the limit.
      .send('alice', offer({ room: 'team' }, 'member-before-limit'))
      .expectExact('alice', error('not_in_room', 'member-before-limit'))
      .send('alice', offer({ to: 'bob' }, 'limit-last'))
      .expectExact('alice', error('rate_limited', 'limit-last'));
  });
});
