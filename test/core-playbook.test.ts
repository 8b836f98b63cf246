import { describe, expect, it } from 'vitest';
import { play } from '../test-support/playbook.ts';

describe('the core playbook', () => {
  it('plays the issue’s example: a say reaches bob, not alice', async () => {
    await play().login('alice').login('bob').send('alice', { type: 'say', text: 'hi' }).expect('bob', { type: 'message', from: 'alice', text: 'hi' }).expectNothing('alice');
  });

  it('fails a script that leaves a frame unconsumed', async () => {
    const unfinished = play().login('alice').login('bob').send('alice', { type: 'say', text: 'hi' });
    await expect(unfinished.run()).rejects.toThrow(/frames bob received and did not expect/);
  });

  it('fails an expect that does not match, naming the step', async () => {
    const wrong = play().login('alice').login('bob').send('alice', { type: 'say', text: 'hi' }).expect('bob', { type: 'message', text: 'bye' });
    await expect(wrong.run()).rejects.toThrow(/playbook step 4, expect\(bob/);
  });

  it('moves time only when told: the login deadline fires at advance, not before', async () => {
    await play({ limits: { loginTimeoutMs: 10_000 } })
      .connect('anon')
      .advance(9_999)
      .expectOpen('anon')
      .advance(1)
      .expect('anon', { type: 'error', code: 'idle_timeout' })
      .expectClosed('anon');
  });
});
