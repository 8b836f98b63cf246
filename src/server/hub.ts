import { LOBBY, encodeFrame, type ServerFrame } from '../protocol/index.ts';

/** Someone logged in, as the hub sees them: a name and a way to hand them encoded frames. */
export interface Member {
  /** The logged-in user name. */
  readonly user: string;
  /** Queues already-encoded frame bytes for this member (never throws). */
  deliver(bytes: Buffer): void;
}

/**
 * Who a frame goes to. Today everyone is in the room `lobby`; rooms and private messages will
 * add audiences here (`{ room }` for any room, `{ user }` for one user) without touching callers.
 */
export type Audience = { room: string } | { user: string };

/**
 * The hub: who is online and how frames reach them. It is the only place that knows recipients,
 * and it encodes a frame once however many members receive it.
 */
export class Hub {
  private readonly members = new Map<string, Member>();
  private sortedNames: string[] | null = [];

  /** Adds a member; returns false (and changes nothing) if that user is already online. */
  join(member: Member): boolean {
    if (this.members.has(member.user)) return false;
    this.members.set(member.user, member);
    this.sortedNames = null;
    return true;
  }

  /** Removes this member (only if it is the one registered under its name); returns whether it was. */
  leave(member: Member): boolean {
    if (this.members.get(member.user) !== member) return false;
    this.members.delete(member.user);
    this.sortedNames = null;
    return true;
  }

  /** Whether a user is online. */
  isOnline(user: string): boolean {
    return this.members.has(user);
  }

  /** The member logged in under that name, if any. */
  member(user: string): Member | undefined {
    return this.members.get(user);
  }

  /** Number of users online. */
  get size(): number {
    return this.members.size;
  }

  /** Everyone online, sorted (code-point order, the same in every language), as a fresh array. */
  users(): string[] {
    this.sortedNames ??= [...this.members.keys()].sort(byCodePoint);
    return [...this.sortedNames];
  }

  /** Whether a room exists. Only the lobby does, for now. */
  hasRoom(room: string): boolean {
    return room === LOBBY;
  }

  /** The members an audience reaches. */
  *recipients(audience: Audience): Iterable<Member> {
    if ('user' in audience) {
      const member = this.members.get(audience.user);
      if (member) yield member;
      return;
    }
    if (!this.hasRoom(audience.room)) return;
    yield* this.members.values();
  }

  /**
   * Encodes a frame once and queues the same bytes to every member of the audience but `except`.
   * Returns how many members it was queued to.
   */
  send(frame: ServerFrame, audience: Audience, except?: Member): number {
    let bytes: Buffer | undefined;
    let count = 0;
    for (const member of this.recipients(audience)) {
      if (member === except) continue;
      bytes ??= encodeFrame(frame);
      member.deliver(bytes);
      count++;
    }
    return count;
  }
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
