import type { Direction, RawFrame } from './frames.ts';

/** A step of the 10-step chat flow. */
export type StepNumber = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;

/** One step of the flow: who acts and what happens. */
export interface Step {
  step: StepNumber;
  name: string;
  actor: 'server' | 'client';
  summary: string;
}

/** The 10-step socket chat flow; every step is a lesson. */
export const STEPS: readonly Step[] = [
  { step: 1, name: 'listen', actor: 'server', summary: 'server binds and listens' },
  { step: 2, name: 'connect', actor: 'client', summary: 'client opens a TCP connection' },
  { step: 3, name: 'accept', actor: 'server', summary: 'server accepts, creates a session, sends hello' },
  { step: 4, name: 'login', actor: 'client', summary: 'client sends login (user + password)' },
  { step: 5, name: 'verify + announce', actor: 'server', summary: 'server verifies, sends welcome, broadcasts online' },
  { step: 6, name: 'send', actor: 'client', summary: 'user sends a message' },
  { step: 7, name: 'relay', actor: 'server', summary: 'server relays it to the others' },
  { step: 8, name: 'quit', actor: 'client', summary: 'user sends quit' },
  { step: 9, name: 'remove + announce', actor: 'server', summary: 'server removes the user, sends bye, broadcasts offline' },
  { step: 10, name: 'disconnect', actor: 'client', summary: 'client closes; server closes its side' },
];

const LOGIN_ERRORS = new Set(['auth_failed', 'already_online']);
/** Codes by which the server says it could not read a frame at all: such an error answers no step. */
const UNREAD_ERRORS = new Set(['bad_frame', 'frame_too_large']);

/**
 * Which of the 10 steps a frame belongs to, or `null` for frames outside the core flow.
 * Steps 1, 2 and 10 are connection events, not frames. An `ok` or `error` belongs to the step of
 * the request it answers: pass that request when known; without it, `ok` counts as the
 * acknowledgement of a `say` (step 7), the only `ok` of the core. A `users` frame answering a
 * `login` continues a paged `welcome`, so it is step 5 too; other `users` frames are extensions.
 * A `bad_frame` or `frame_too_large` error says the server could not read what it got, so it
 * belongs to no step even after a login: a server that misreads a login must not light step 5.
 */
export function stepOf(frame: RawFrame, direction: Direction, request?: RawFrame): StepNumber | null {
  if (direction === 'c2s') {
    switch (frame.type) {
      case 'login':
      case 'register':
        return 4;
      case 'say':
        return 6;
      case 'quit':
        return 8;
      default:
        return null;
    }
  }
  switch (frame.type) {
    case 'hello':
      return 3;
    case 'welcome':
      return 5;
    case 'presence':
      return frame.status === 'offline' ? 9 : 5;
    case 'message':
      return 7;
    case 'bye':
      return 9;
    case 'ok': {
      // The server's half of the request's step (login 4 → 5, say 6 → 7, quit 8 → 9), never a client step.
      const asked = request ? stepOf(request, 'c2s') : 6;
      return asked === null ? null : ((asked + 1) as StepNumber);
    }
    case 'users':
      return request && stepOf(request, 'c2s') === 4 ? 5 : null;
    case 'error':
      if (UNREAD_ERRORS.has(String(frame.code))) return null;
      // A refused login or register is step 5's failure branch; other refusals are outside the flow.
      if (request) return stepOf(request, 'c2s') === 4 ? 5 : null;
      return LOGIN_ERRORS.has(String(frame.code)) ? 5 : null;
    default:
      return null;
  }
}
