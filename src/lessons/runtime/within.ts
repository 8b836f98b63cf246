/**
 * `promise`, or a rejection after `timeoutMs` saying what did not happen (`what`, or a function
 * computing it at that moment): e.g. `await within(client.exited, 5_000, 'alice did not exit')`.
 */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string | (() => string)): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${typeof what === 'string' ? what : what()} (waited ${timeoutMs} ms)`)), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
