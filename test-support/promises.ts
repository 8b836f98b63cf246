/**
 * Assertions on promises for tests: a bounded wait that fails with a clear message, and the error
 * a promise rejects with.
 *
 * ```ts
 * await within(new Promise((resolve) => socket.once('close', resolve)), 5_000, 'the socket to close');
 * const error = await rejection<ProtocolError>(client.login('bob', 'wrong'));
 * expect(error.code).toBe('auth_failed');
 * ```
 */

/**
 * `promise`, or a rejection after `ms` saying what did not happen: `what` is a phrase ("the socket
 * to close", "alice's client did not exit"), or a function computing it when the time is up (to
 * show what did happen by then). The one bounded wait of test support.
 */
export function within<T>(promise: Promise<T>, ms: number, what: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${typeof what === 'string' ? what : what()}`)), ms);
    }),
  ]);
}

/** The error a promise rejects with, for assertions on it; fails the test if the promise resolves. */
export async function rejection<E extends Error = Error>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (error) {
    return error as E;
  }
  throw new Error('expected the promise to reject');
}
