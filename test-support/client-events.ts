/**
 * Waiting for events of the client library in tests: the first matching event, or a clear
 * failure after a bounded wait. Works with ChatClient, ChatSession and FileTransfers.
 */
import type { ChatClient, ChatClientEvents } from '../src/client/index.ts';

/** Default bound of a wait, in ms. */
export const EVENT_WAIT_MS = 8_000;

type Listener = (...args: never[]) => void;

/**
 * Resolves with the arguments of the first `event` for which `match` is true. Listens from the
 * moment it is called: call it BEFORE the action that causes the event.
 */
export function nextEvent<A extends unknown[] = unknown[]>(emitter: object, event: string, match: (...args: A) => boolean = () => true, timeoutMs = EVENT_WAIT_MS): Promise<A> {
  const target = emitter as unknown as { on(e: string, l: Listener): void; off(e: string, l: Listener): void };
  return new Promise((resolve, reject) => {
    const listener = (...args: never[]) => {
      if (!match(...(args as unknown as A))) return;
      clearTimeout(timer);
      target.off(event, listener);
      resolve(args as unknown as A);
    };
    const timer = setTimeout(() => {
      target.off(event, listener);
      reject(new Error(`no matching "${event}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    target.on(event, listener);
  });
}

/**
 * {@link nextEvent} typed for a ChatClient's own events: resolves with the first argument (the
 * frame, the room, …) of the first `event` for which `match` is true.
 */
export async function nextClientEvent<K extends keyof ChatClientEvents>(
  client: ChatClient,
  event: K,
  match: (...args: ChatClientEvents[K]) => boolean = () => true,
  timeoutMs = EVENT_WAIT_MS,
): Promise<ChatClientEvents[K][0]> {
  const args = await nextEvent<ChatClientEvents[K]>(client, event, match, timeoutMs);
  return args[0];
}

/** Collects every `event`'s first argument into an array (for "nothing else came" assertions). */
export function collect<T>(emitter: object, event: string): T[] {
  const seen: T[] = [];
  (emitter as unknown as { on(e: string, l: (value: T) => void): void }).on(event, (value: T) => seen.push(value));
  return seen;
}

/** Polls `check` (every 20 ms) until it returns true; fails with `what` after `timeoutMs`. */
export async function until(check: () => boolean, what: string, timeoutMs = EVENT_WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
