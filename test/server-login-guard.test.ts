/**
 * End to end: guessing passwords and names stays slow however it is done. Simultaneous wrong
 * logins from one address reach the password hasher at most as often as the address's budget
 * allows; `unknown_user` answers (to `say` and `history` with `to`) are charged against the same
 * budget; and a name that looks like an existing one (case, 1/l/i, 0/o) cannot be registered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RawFrame } from '../src/protocol/index.ts';
import { anonymous, errorFrame as error, startTestServer, type TestServer } from '../test-support/chat-server.ts';
import type { FrameSocket } from '../test-support/frame-socket.ts';

let chat: TestServer | undefined;
afterEach(async () => {
  await chat?.stop();
  chat = undefined;
});

/** Counts the password checks the server makes (every call of the account store's verify). */
function countVerifications(server: TestServer['server']): { count: number } {
  const counter = { count: 0 };
  const verify = server.accounts.verify.bind(server.accounts);
  server.accounts.verify = (user: string, password: string) => {
    counter.count++;
    return verify(user, password);
  };
  return counter;
}

async function request(socket: FrameSocket, frame: Record<string, unknown>): Promise<RawFrame> {
  socket.send(frame);
  return socket.next((f) => f.id === frame.id && (f.type === 'error' || f.type === 'ok' || f.type === 'history_end'));
}

describe('login throttling under concurrency', () => {
  it('200 simultaneous wrong logins from one address: at most the address budget reach the hasher, the rest get rate_limited', async () => {
    chat = await startTestServer({ limits: { loginAttemptsPerConnection: 5, loginAttemptsPerAddress: 20 } });
    const verifications = countVerifications(chat.server);
    const sockets = await Promise.all(Array.from({ length: 200 }, (_, i) => anonymous(chat as TestServer, `guesser-${i}`)));
    for (const [i, socket] of sockets.entries()) socket.send({ type: 'login', user: 'alice', password: `guess-${i}`, id: i });
    const answers = await Promise.all(sockets.map((socket, i) => socket.next((f) => f.id === i, 10_000)));
    const codes = answers.map((answer) => answer.code);
    const failed = codes.filter((code) => code === 'auth_failed').length;
    expect(codes.filter((code) => code !== 'auth_failed' && code !== 'rate_limited')).toEqual([]);
    expect(failed).toBeGreaterThan(0);
    expect(failed).toBeLessThanOrEqual(20);
    expect(verifications.count).toBe(failed);
    await Promise.all(sockets.map((socket) => (socket.destroy(), socket.closed())));
  });

  it('a right password refunds its reservation: successful logins still cost nothing', async () => {
    chat = await startTestServer({ limits: { loginAttemptsPerConnection: 1, loginAttemptsPerAddress: 1 } });
    const logins = await Promise.all(['alice', 'bob', 'carol'].map((user) => chat!.login(user)));
    expect(logins.map((socket) => socket.welcome.user)).toEqual(['alice', 'bob', 'carol']);
  });
});

describe('account enumeration through say and history with "to"', () => {
  it('charges each unknown_user against the failed-attempt budget; once spent, offline targets get rate_limited whether they exist or not', async () => {
    chat = await startTestServer({ limits: { loginAttemptsPerConnection: 3, loginAttemptsPerAddress: 100, loginAttemptWindowMs: 60_000 } });
    const alice = await chat.login('alice');
    expect(await request(alice, { type: 'say', to: 'ghost1', text: 'hi', id: 1 })).toEqual(error('unknown_user', 1));
    expect(await request(alice, { type: 'history', to: 'ghost2', id: 2 })).toEqual(error('unknown_user', 2));
    expect(await request(alice, { type: 'say', to: 'ghost3', text: 'hi', id: 3 })).toEqual(error('unknown_user', 3));
    const limited = await request(alice, { type: 'say', to: 'ghost4', text: 'hi', id: 4 });
    expect(limited).toEqual(error('rate_limited', 4));
    expect(limited.message).toMatch(/try again in \d+ s/);
    // dave exists but is offline: the same answer as for a name that does not exist.
    expect(await request(alice, { type: 'say', to: 'dave', text: 'hi', id: 5 })).toEqual(error('rate_limited', 5));
    expect(await request(alice, { type: 'history', to: 'dave', id: 6 })).toEqual(error('rate_limited', 6));
    // Online users are public (who): talking to them is never throttled.
    const bob = await chat.login('bob');
    expect(await request(alice, { type: 'say', to: 'bob', text: 'still here', id: 7 })).toMatchObject({ type: 'ok', id: 7 });
    expect(await bob.next('message')).toMatchObject({ from: 'alice', to: 'bob', text: 'still here' });
    // The budget is the one logins use: this connection cannot guess a password either.
    expect(await request(alice, { type: 'say', to: 'ghost5', text: 'hi', id: 8 })).toEqual(error('rate_limited', 8));
  });

  it('unknown_user answers and wrong logins share the per-address budget', async () => {
    chat = await startTestServer({ limits: { loginAttemptsPerConnection: 100, loginAttemptsPerAddress: 2 } });
    const alice = await chat.login('alice');
    expect(await request(alice, { type: 'say', to: 'ghost1', text: 'hi', id: 1 })).toEqual(error('unknown_user', 1));
    expect(await request(alice, { type: 'say', to: 'ghost2', text: 'hi', id: 2 })).toEqual(error('unknown_user', 2));
    const guesser = await anonymous(chat, 'guesser');
    expect(await request(guesser, { type: 'login', user: 'bob', password: 'guess', id: 3 })).toEqual(error('rate_limited', 3));
  });
});

describe('look-alike names', () => {
  it('refuses to register a name that differs from an existing one only by case or 1/l/i, 0/o, - and _', async () => {
    chat = await startTestServer({ users: { alice: 'wonderland', bob_o: 'builder' }, limits: { loginAttemptsPerConnection: 100, loginAttemptsPerAddress: 100 } });
    const socket = await anonymous(chat, 'registrar');
    for (const [i, name] of ['Alice', 'a1ice', 'ALlCE', 'aIice', 'bob-0', 'B0B_O'].entries()) {
      const answer = await request(socket, { type: 'register', user: name, password: 'secret-pw', id: i });
      expect(answer, name).toEqual(error('user_exists', i));
      expect(answer.message, name).toMatch(name.toLowerCase().startsWith('b') ? /"bob_o"/ : /"alice"/);
    }
    // A name that merely shares letters is fine, and logging in still needs the exact stored name.
    expect(await request(socket, { type: 'register', user: 'alicia', password: 'secret-pw', id: 'ok' })).toEqual({ type: 'ok', id: 'ok' });
    expect(await request(socket, { type: 'login', user: 'Alice', password: 'wonderland', id: 'exact' })).toEqual(error('auth_failed', 'exact'));
  });
});
