import { MAX_FRAME_BYTES } from './limits.ts';
import type { RawFrame, ServerFrame, UsersFrame, WelcomeFrame } from './frames.ts';

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

/** What {@link PagedListAssembler.take} made of one frame. */
export type PagedListStep =
  /** Not part of a paged list: handle it as it is. */
  | { kind: 'whole'; frame: RawFrame }
  /** A page of a list that continues: wait for the next frame. */
  | { kind: 'page'; page: number }
  /** The last page: `frame` is the first frame of the list with every page's names and no `more`. */
  | { kind: 'complete'; frame: UserListFrame; pages: number }
  /**
   * The frame broke the continuation rule (another frame, another id or room, before the last
   * page): the partial list is dropped. `frame` is that frame, to be handled as it is.
   */
  | { kind: 'broken'; message: string; list: UserListFrame; frame: RawFrame };

/**
 * Puts a paged user list back together on the reading side (client, verifier, inspector): a
 * `welcome` or `users` with `"more": true` is continued by `users` frames with the same `id` (and
 * `room`), the last without `more`, before any other frame. Feed it every server frame, in order.
 */
export class PagedListAssembler {
  private open: { first: UserListFrame; users: string[]; pages: number } | undefined;

  /** Whether a list is waiting for its next page. */
  get inProgress(): boolean {
    return this.open !== undefined;
  }

  /** Takes the next server frame (already validated, or at least known to be an object with a type). */
  take(taken: RawFrame | ServerFrame): PagedListStep {
    const frame = taken as RawFrame;
    const open = this.open;
    if (!open) {
      if ((frame.type === 'welcome' || frame.type === 'users') && frame.more === true && Array.isArray(frame.users)) {
        this.open = { first: frame as unknown as UserListFrame, users: [...(frame.users as string[])], pages: 1 };
        return { kind: 'page', page: 1 };
      }
      return { kind: 'whole', frame };
    }
    const problem = continuationProblem(open.first, frame);
    if (problem) {
      this.open = undefined;
      return { kind: 'broken', message: problem, list: { ...open.first, users: open.users }, frame };
    }
    for (const name of frame.users as string[]) open.users.push(name);
    open.pages++;
    if (frame.more === true) return { kind: 'page', page: open.pages };
    this.open = undefined;
    const { more: _more, ...first } = open.first;
    return { kind: 'complete', frame: { ...first, users: open.users } as UserListFrame, pages: open.pages };
  }

  /** Forgets a list in progress (the connection ended). */
  reset(): void {
    this.open = undefined;
  }
}

/** Why `frame` is not the next page of the list `first` began, or null when it is. */
function continuationProblem(first: UserListFrame, frame: RawFrame): string | null {
  const what = `the ${first.type} of ${first.id === undefined ? 'no id' : `id ${JSON.stringify(first.id)}`} said "more": true`;
  if (frame.type !== 'users' || !Array.isArray(frame.users)) return `${what}, but a "${frame.type}" came before its last page (a "users" frame without "more")`;
  if (frame.id !== first.id) return `${what}, but the next "users" has ${frame.id === undefined ? 'no id' : `id ${JSON.stringify(frame.id)}`}`;
  const room = first.type === 'users' ? first.room : undefined;
  if (frame.room !== room) return `${what}${room === undefined ? '' : ` (room "${room}")`}, but the next "users" has ${frame.room === undefined ? 'no room' : `room ${JSON.stringify(frame.room)}`}`;
  return null;
}
