import { describe, expect, it } from 'vitest';
import { STEPS, stepOf, type Direction, type RawFrame, type StepNumber } from './index.ts';

describe('STEPS', () => {
  it('lists the ten steps in order with their names', () => {
    expect(STEPS.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(STEPS.map((s) => s.name)).toEqual(['listen', 'connect', 'accept', 'login', 'verify + announce', 'send', 'relay', 'quit', 'remove + announce', 'disconnect']);
    expect(STEPS.filter((s) => s.actor === 'client').map((s) => s.step)).toEqual([2, 4, 6, 8, 10]);
  });
});

describe('stepOf', () => {
  const cases: { name: string; frame: RawFrame; direction: Direction; request?: RawFrame; step: StepNumber | null }[] = [
    // client → server
    { name: 'login', frame: { type: 'login', user: 'a', password: 'b' }, direction: 'c2s', step: 4 },
    { name: 'register', frame: { type: 'register', user: 'a', password: 'b' }, direction: 'c2s', step: 4 },
    { name: 'say', frame: { type: 'say', text: 'hi' }, direction: 'c2s', step: 6 },
    { name: 'private say', frame: { type: 'say', text: 'hi', to: 'bob' }, direction: 'c2s', step: 6 },
    { name: 'quit', frame: { type: 'quit' }, direction: 'c2s', step: 8 },
    { name: 'who (extension)', frame: { type: 'who' }, direction: 'c2s', step: null },
    { name: 'ping (extension)', frame: { type: 'ping' }, direction: 'c2s', step: null },
    { name: 'unknown c2s', frame: { type: 'dance' }, direction: 'c2s', step: null },
    { name: 'a server frame type sent c2s', frame: { type: 'hello', protocol: 'chatlab/1' }, direction: 'c2s', step: null },
    // server → client
    { name: 'hello', frame: { type: 'hello', protocol: 'chatlab/1' }, direction: 's2c', step: 3 },
    { name: 'welcome', frame: { type: 'welcome', user: 'a', users: ['a'] }, direction: 's2c', step: 5 },
    { name: 'presence online', frame: { type: 'presence', user: 'a', status: 'online' }, direction: 's2c', step: 5 },
    { name: 'presence offline', frame: { type: 'presence', user: 'a', status: 'offline' }, direction: 's2c', step: 9 },
    { name: 'presence offline, connection lost', frame: { type: 'presence', user: 'a', status: 'offline', reason: 'connection_lost' }, direction: 's2c', step: 9 },
    { name: 'message', frame: { type: 'message', from: 'a', text: 'hi', ts: 1 }, direction: 's2c', step: 7 },
    { name: 'bye', frame: { type: 'bye' }, direction: 's2c', step: 9 },
    { name: 'users (extension)', frame: { type: 'users', users: [] }, direction: 's2c', step: null },
    { name: 'pong (extension)', frame: { type: 'pong', ts: 1 }, direction: 's2c', step: null },
    { name: 'unknown s2c', frame: { type: 'file_chunk' }, direction: 's2c', step: null },
    { name: 'a client frame type sent s2c', frame: { type: 'login' }, direction: 's2c', step: null },
    // ok / error without the request
    { name: 'ok alone (the say acknowledgement)', frame: { type: 'ok' }, direction: 's2c', step: 7 },
    { name: 'error auth_failed alone', frame: { type: 'error', code: 'auth_failed', message: 'x' }, direction: 's2c', step: 5 },
    { name: 'error already_online alone', frame: { type: 'error', code: 'already_online', message: 'x' }, direction: 's2c', step: 5 },
    { name: 'error bad_frame alone', frame: { type: 'error', code: 'bad_frame', message: 'x' }, direction: 's2c', step: null },
    { name: 'error not_logged_in alone', frame: { type: 'error', code: 'not_logged_in', message: 'x' }, direction: 's2c', step: null },
    // ok with the request it answers: the server's half of the request's step; error: only login/register failures are in the flow
    { name: 'ok to say', frame: { type: 'ok', id: 1 }, request: { type: 'say', text: 'hi', id: 1 }, direction: 's2c', step: 7 },
    { name: 'ok to register', frame: { type: 'ok', id: 1 }, request: { type: 'register', user: 'a', password: 'b' }, direction: 's2c', step: 5 },
    { name: 'ok to login', frame: { type: 'ok' }, request: { type: 'login', user: 'a', password: 'b' }, direction: 's2c', step: 5 },
    { name: 'ok to quit', frame: { type: 'ok' }, request: { type: 'quit' }, direction: 's2c', step: 9 },
    { name: 'ok to who', frame: { type: 'ok' }, request: { type: 'who' }, direction: 's2c', step: null },
    { name: 'ok to ping', frame: { type: 'ok' }, request: { type: 'ping' }, direction: 's2c', step: null },
    { name: 'error to login', frame: { type: 'error', code: 'auth_failed', message: 'x' }, request: { type: 'login' }, direction: 's2c', step: 5 },
    { name: 'error bad_request to login', frame: { type: 'error', code: 'bad_request', message: 'x' }, request: { type: 'login' }, direction: 's2c', step: 5 },
    { name: 'error to register', frame: { type: 'error', code: 'user_exists', message: 'x' }, request: { type: 'register' }, direction: 's2c', step: 5 },
    { name: 'error to say', frame: { type: 'error', code: 'not_logged_in', message: 'x' }, request: { type: 'say', text: 'x' }, direction: 's2c', step: null },
    { name: 'error to quit', frame: { type: 'error', code: 'not_logged_in', message: 'x' }, request: { type: 'quit' }, direction: 's2c', step: null },
    { name: 'error to who', frame: { type: 'error', code: 'not_logged_in', message: 'x' }, request: { type: 'who' }, direction: 's2c', step: null },
    { name: 'users continuing a paged welcome (answers login)', frame: { type: 'users', users: ['b'], id: 1 }, request: { type: 'login', user: 'a', password: 'b', id: 1 }, direction: 's2c', step: 5 },
    { name: 'users answering who', frame: { type: 'users', users: ['b'], more: true, id: 1 }, request: { type: 'who', id: 1 }, direction: 's2c', step: null },
    { name: 'error to an unknown request', frame: { type: 'error', code: 'unknown_type', message: 'x' }, request: { type: 'dance' }, direction: 's2c', step: null },
    // a frame the server could not read answers no step, whatever came before it
    { name: 'error bad_frame after a login', frame: { type: 'error', code: 'bad_frame', message: 'x' }, request: { type: 'login', user: 'a', password: 'b' }, direction: 's2c', step: null },
    {
      name: 'error frame_too_large after a login',
      frame: { type: 'error', code: 'frame_too_large', message: 'x' },
      request: { type: 'login', user: 'a', password: 'b' },
      direction: 's2c',
      step: null,
    },
    { name: 'error bad_frame after a say', frame: { type: 'error', code: 'bad_frame', message: 'x' }, request: { type: 'say', text: 'x' }, direction: 's2c', step: null },
  ];

  it.each(cases)('$direction $name → $step', ({ frame, direction, request, step }) => {
    expect(stepOf(frame, direction, request)).toBe(step);
  });

  it('never puts a frame under a step of the other side', () => {
    for (const { frame, direction, request } of cases) {
      const step = stepOf(frame, direction, request);
      if (step === null) continue;
      expect(STEPS[step - 1]?.actor, `${direction} ${frame.type} → ${step}`).toBe(direction === 'c2s' ? 'client' : 'server');
    }
  });
});
