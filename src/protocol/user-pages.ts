import { MAX_FRAME_BYTES } from './limits.ts';
import type { UsersFrame, WelcomeFrame } from './frames.ts';

/** A frame that carries a user list and may be continued: `welcome` or `users`. */
export type UserListFrame = WelcomeFrame | UsersFrame;

/** The fields of a list frame other than the list itself and `more`. */
export type UserListEnvelope<F extends UserListFrame> = Omit<F, 'users' | 'more'>;

/**
 * Splits `users` into frames that each fit in `maxBytes` (newline included), the rule of step 5:
 * every frame but the last carries `"more": true`, all carry the envelope's other fields (`type`,
 * `user`, `room`, `id`) unchanged, and the lists keep their order. A list that fits gives exactly
 * one frame, without `more`, as if nothing were paged.
 *
 * The room left for names is measured on the envelope itself (its real `id` included, encoded as
 * {@link encodeFrame} encodes it, with `"more":true` counted on every page), so no frame this returns
 * can be refused by `encodeFrame`: the server encodes them without a fallback.
 *
 * @throws RangeError when the envelope leaves no room for even one of the names (a programming
 *   error: valid envelopes are far smaller than a frame, and user names are at most 32 characters).
 */
export function pageUserList<F extends UserListFrame>(envelope: UserListEnvelope<F>, users: readonly string[], maxBytes = MAX_FRAME_BYTES): F[] {
  // `[]` and `"more":true` are counted once here; each name then adds its JSON plus a comma.
  const fixed = Buffer.byteLength(JSON.stringify({ ...envelope, users: [], more: true })) + 1;
  const room = maxBytes - fixed;
  const pages: string[][] = [];
  let page: string[] = [];
  let used = 0;
  for (const name of users) {
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
  return pages.map((list, i) => ({ ...envelope, users: list, ...(i < pages.length - 1 && { more: true }) }) as F);
}
