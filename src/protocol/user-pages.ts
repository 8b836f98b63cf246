import { MAX_FRAME_BYTES } from './limits.ts';
import type { UsersFrame, WelcomeFrame } from './frames.ts';

/** A frame that carries a user list and may be continued: `welcome` or `users`. */
export type UserListFrame = WelcomeFrame | UsersFrame;

/**
 * Splits the `users` of `frame` into frames that each fit in `maxBytes` (newline included), the
 * rule of step 5: every frame but the last carries `"more": true`, all carry the frame's other
 * fields (`type`, `user`, `room`, `id`) unchanged and in the same order, and the lists keep their
 * order. A list that fits gives exactly one frame, without `more`: the frame as it was.
 *
 * The room left for names is measured on the frame itself (its real `id` included, encoded as
 * {@link encodeFrame} encodes it, with `"more":true` counted on every page), so no frame this returns
 * can be refused by `encodeFrame`: the server encodes them without a fallback.
 *
 * @throws RangeError when the other fields leave no room for even one of the names (a programming
 *   error: valid envelopes are far smaller than a frame, and user names are at most 32 characters).
 */
export function pageUserList<F extends UserListFrame>(frame: F, maxBytes = MAX_FRAME_BYTES): F[] {
  // `[]` and `"more":true` are counted once here; each name then adds its JSON plus a comma.
  const fixed = Buffer.byteLength(JSON.stringify({ ...frame, users: [], more: true })) + 1;
  const room = maxBytes - fixed;
  const pages: string[][] = [];
  let page: string[] = [];
  let used = 0;
  for (const name of frame.users) {
    const nameBytes = Buffer.byteLength(JSON.stringify(name));
    if (page.length > 0 && used + 1 + nameBytes > room) {
      pages.push(page);
      page = [];
      used = 0;
    }
    const cost = nameBytes + (page.length > 0 ? 1 : 0);
    if (used + cost > room) throw new RangeError(`a list frame of ${fixed} bytes leaves no room for the name ${JSON.stringify(name)} within ${maxBytes} bytes`);
    page.push(name);
    used += cost;
  }
  pages.push(page);
  // Spreading the frame keeps `users` where it was; `more` goes last.
  return pages.map((list, i) => ({ ...frame, users: list, ...(i < pages.length - 1 && { more: true }) }));
}

/**
 * The answer to a successful login (step 5) as frames that each fit: a `welcome` with the first
 * names, then `users` frames with the same `id` for the rest, `more: true` on all but the last.
 * Every page is sized for the `welcome` envelope (the larger one), so each continuation fits too.
 */
export function pageWelcome(user: string, users: readonly string[], id?: WelcomeFrame['id'], maxBytes = MAX_FRAME_BYTES): [WelcomeFrame, ...UsersFrame[]] {
  const idField = id === undefined ? {} : { id };
  const [first, ...rest] = pageUserList<WelcomeFrame>({ type: 'welcome', user, users: [...users], ...idField }, maxBytes);
  const continuations = rest.map(({ users: page, more }): UsersFrame => ({ type: 'users', users: page, ...idField, ...(more && { more }) }));
  return [first as WelcomeFrame, ...continuations];
}
