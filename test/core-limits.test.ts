/**
 * The core's limits on time, played without sockets and with a manual clock (see
 * test-support/playbook.ts): a message flood is rate limited (burst, then `rate_limited`, the
 * connection stays and recovers with time); password and name guessing is throttled per
 * connection and per address. The connection caps (the server's accept) stay in
 * server-limits.test.ts, over TCP.
 */
import { describe, it } from 'vitest';
import { errorFrame as error } from '../test-support/chat-server.ts';
import { play } from '../test-support/playbook.ts';

describe('message rate limit', () => {
  it('a burst of says passes, the rest is refused rate_limited; the connection stays and recovers', async () => {
    // A burst of 6: the login takes one token, 5 are left for the flood; 10 per second refill one every 100 ms.
    const script = play({ limits: { rateLimitBurst: 6, rateLimitPerSecond: 10 } })
      .login('alice')
      .login('bob')
      .send('alice', ...Array.from({ length: 12 }, (_, i) => ({ type: 'say', text: `flood ${i}`, id: i })));
    for (let i = 0; i < 5; i++) script.expect('alice', { type: 'ok', id: i });
    for (let i = 5; i < 12; i++) script.expectExact('alice', error('rate_limited', i));
    // bob gets exactly the accepted ones, nothing of the refused ones.
    for (let i = 0; i < 5; i++) script.expect('bob', { type: 'message', text: `flood ${i}` });
    await script
      .expectNothing('bob')
      .advance(99)
      .send('alice', { type: 'say', text: 'too soon', id: 'soon' })
      .expectExact('alice', error('rate_limited', 'soon'))
      .advance(1)
      .send('alice', { type: 'say', text: 'calm now', id: 'later' })
      .expect('alice', { type: 'ok', id: 'later' })
      .expect('bob', { type: 'message', text: 'calm now' })
      .expectOpen('alice');
  });

  it('is per connection: another connection from the same address keeps its own budget', async () => {
    await play({ limits: { rateLimitBurst: 3, rateLimitPerSecond: 0.01 } })
      .login('alice')
      .login('bob')
      // alice's login took one of her 3 tokens: 2 says pass, 2 are refused.
      .send('alice', ...Array.from({ length: 4 }, (_, i) => ({ type: 'say', text: `flood ${i}`, id: i })))
      .expect('alice', { type: 'ok', id: 0 }, { type: 'ok', id: 1 })
      .expectExact('alice', error('rate_limited', 2), error('rate_limited', 3))
      .expect('bob', { type: 'message', text: 'flood 0' }, { type: 'message', text: 'flood 1' })
      // bob (the same address, one token spent on its login) is served at once.
      .send('bob', { type: 'say', text: 'my own budget', id: 'b1' }, { type: 'say', text: 'still mine', id: 'b2' })
      .expect('bob', { type: 'ok', id: 'b1' }, { type: 'ok', id: 'b2' })
      .expect('alice', { type: 'message', text: 'my own budget' }, { type: 'message', text: 'still mine' });
  });
});

describe('login throttling', () => {
  it('per connection: after the allowed failures even the right password waits; other connections are unaffected', async () => {
    // 2 attempts per 3 s: one comes back every 1.5 s.
    await play({ limits: { loginAttemptsPerConnection: 2, loginAttemptsPerAddress: 100, loginAttemptWindowMs: 3_000 } })
      .connect('guesser')
      .send('guesser', { type: 'login', user: 'alice', password: 'guess1', id: 1 }, { type: 'login', user: 'alice', password: 'guess2', id: 2 })
      .expectExact('guesser', error('auth_failed', 1), error('auth_failed', 2))
      .send('guesser', { type: 'login', user: 'alice', password: 'wonderland', id: 3 })
      .expectExact('guesser', { ...error('rate_limited', 3), message: 'too many failed attempts; try again in 2 s' })
      .send('guesser', { type: 'register', user: 'mallory', password: 'secret12', id: 4 })
      .expectExact('guesser', error('rate_limited', 4))
      .expectOpen('guesser')
      .login('other', { user: 'bob' })
      .advance(1_499)
      .send('guesser', { type: 'login', user: 'alice', password: 'wonderland', id: 5 })
      .expectExact('guesser', { ...error('rate_limited', 5), message: 'too many failed attempts; try again in 1 s' })
      // Once a token is back, the guesser may try again.
      .advance(1)
      .login('guesser', { user: 'alice' });
  });

  it('per address: failures on several connections add up; another address has its own budget', async () => {
    // 3 attempts per 4.5 s: one comes back every 1.5 s.
    await play({ limits: { loginAttemptsPerConnection: 100, loginAttemptsPerAddress: 3, loginAttemptWindowMs: 4_500 } })
      .connect('first', '192.0.2.1')
      .connect('second', '192.0.2.1')
      .send('first', { type: 'login', user: 'alice', password: 'x1', id: 1 }, { type: 'login', user: 'alice', password: 'x2', id: 2 })
      .expectExact('first', error('auth_failed', 1), error('auth_failed', 2))
      .send('second', { type: 'register', user: 'alice', password: 'taken-name', id: 3 }) // probing names counts too
      .expectExact('second', error('user_exists', 3))
      .connect('third', '192.0.2.1')
      .send('third', { type: 'login', user: 'carol', password: 'caroline', id: 4 })
      .expectExact('third', error('rate_limited', 4))
      .login('elsewhere', { user: 'dave' }) // 127.0.0.1
      .advance(1_500)
      .login('third', { user: 'carol' });
  });

  it('successful logins cost nothing', async () => {
    const script = play({ limits: { loginAttemptsPerConnection: 1, loginAttemptsPerAddress: 1 } });
    for (let round = 0; round < 3; round++) {
      script.login(`alice-${round}`, { user: 'alice' }).drop(`alice-${round}`);
      script.login(`bob-${round}`, { user: 'bob' }).drop(`bob-${round}`);
    }
    await script;
  });
});
