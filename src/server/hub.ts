import { LOBBY, compareCodePoints, encodeFrame, type ClientFrame, type RoomCount, type ServerFrame } from '../protocol/index.ts';
import { LocalRecipients, type Audience, type Member, type MemberDirectory, type RecipientSet } from './recipients.ts';

export type { Audience, Member } from './recipients.ts';

/** Options of a {@link Hub}. */
export interface HubOptions {
  /**
   * Makes the recipient set the hub delivers through, given the hub's own membership.
   * Default: {@link LocalRecipients} (this process only).
   */
  recipients?: (directory: MemberDirectory) => RecipientSet;
}

/**
 * The hub: who is online, who is in which room, and how frames reach them. It is the only place
 * that knows recipients; delivery goes through its {@link RecipientSet}, which encodes a frame
 * once however many members receive it. Everyone online is in `lobby`; other rooms exist while
 * they have members.
 *
 * A member is **reachable** from its admission (frames reach it, {@link isOnline} is true) and
 * **listed** (in {@link users}, lobby's {@link roomUsers} and {@link roomList}) once its
 * `presence online` went out ({@link announceOnline}): a welcome or `who` never names a user whose
 * presence is still to come. On one process both happen in one turn; a cluster node reads the
 * login's replay from Redis in between.
 */
export class Hub implements MemberDirectory {
  /** How frames reach an audience (see {@link RecipientSet}). */
  readonly delivery: RecipientSet;
  private readonly members = new Map<string, Member>();
  /**
   * Everyone online in code-point order, kept sorted as members come and go (a binary search and
   * one splice each) rather than re-sorted after every change: in a 10,000-user chat every login
   * asks for the list (welcome), and a full sort each time was n log n per login, n² log n in all.
   */
  private readonly sortedNames: string[] = [];
  /**
   * The names in {@link sortedNames} not listed yet (admitted, presence still to come; see the
   * class comment). Kept apart rather than out of the sorted list, so that a login costs what it
   * did on one process (one splice, one copy for the welcome) and this set is empty whenever
   * anyone else asks there; a cluster node's lists skip these names while a login is in flight.
   */
  private readonly unlisted = new Set<string>();
  /** Rooms other than lobby, with their members. A room is deleted when its last member leaves. */
  private readonly rooms = new Map<string, Set<Member>>();
  /**
   * The rooms (other than lobby) each online member is in; a member in no such room has no entry
   * (most users of a big chat stay in lobby: no empty Set each).
   */
  private readonly memberships = new Map<Member, Set<string>>();

  constructor(options: HubOptions = {}) {
    this.delivery = options.recipients?.(this) ?? new LocalRecipients(this);
  }

  /**
   * Adds a member (into lobby), listed at once unless `listed` is false (then {@link list} lists it
   * later); returns false (and changes nothing) if that user is already online.
   */
  join(member: Member, listed = true): boolean {
    if (this.members.has(member.user)) return false;
    this.members.set(member.user, member);
    this.sortedNames.splice(insertionPoint(this.sortedNames, member.user), 0, member.user);
    if (!listed) this.unlisted.add(member.user);
    return true;
  }

  /** Lists a member joined unlisted (see the class comment); false if it is not online or listed already. */
  list(member: Member): boolean {
    return this.members.get(member.user) === member && this.unlisted.delete(member.user);
  }

  /** Whether this member is online and listed (its `presence online` went out). */
  isListed(member: Member): boolean {
    return this.members.get(member.user) === member && !this.unlisted.has(member.user);
  }

  /**
   * Tells everyone else that an admitted member is online (`presence` to lobby) and lists it, in
   * one step: from now on welcomes and `who` answers name it. Returns how many members the
   * presence was queued to.
   */
  announceOnline(member: Member): number {
    const count = this.send({ type: 'presence', user: member.user, status: 'online' }, { room: LOBBY }, member);
    this.list(member);
    return count;
  }

  /**
   * Logs a member in: {@link join} here; a clustered hub first claims the name across every node
   * (atomically, so of two simultaneous logins on two nodes exactly one wins), hence the promise.
   * False if the user is already online; rejects if the claim cannot be made (the shared store is
   * unreachable) — nothing changed then. The member is reachable, not listed: {@link announceOnline}
   * lists it.
   */
  admit(member: Member): boolean | Promise<boolean> {
    return this.join(member, false);
  }

  /**
   * Removes this member (only if it is the one registered under its name) from the chat and from
   * every room, silently; rooms left empty disappear. Returns whether it was registered.
   */
  leave(member: Member): boolean {
    if (this.members.get(member.user) !== member) return false;
    for (const room of this.memberships.get(member) ?? []) this.removeFromRoom(member, room);
    this.memberships.delete(member);
    this.members.delete(member.user);
    this.unlisted.delete(member.user);
    this.sortedNames.splice(insertionPoint(this.sortedNames, member.user), 1);
    return true;
  }

  /** Puts an online member in a room, creating the room if needed; false if it was there already. */
  enterRoom(member: Member, room: string): boolean {
    if (room === LOBBY || this.members.get(member.user) !== member) return false;
    let rooms = this.memberships.get(member);
    if (!rooms) this.memberships.set(member, (rooms = new Set()));
    else if (rooms.has(room)) return false;
    let members = this.rooms.get(room);
    if (!members) this.rooms.set(room, (members = new Set()));
    members.add(member);
    rooms.add(room);
    return true;
  }

  /** Takes a member out of a room (never lobby); the room disappears when empty. False if it was not in. */
  leaveRoom(member: Member, room: string): boolean {
    const rooms = this.memberships.get(member);
    if (!rooms?.delete(room)) return false;
    if (rooms.size === 0) this.memberships.delete(member);
    this.removeFromRoom(member, room);
    return true;
  }

  /** Whether a member is in a room (everyone online is in lobby). */
  isInRoom(member: Member, room: string): boolean {
    if (room === LOBBY) return this.members.get(member.user) === member;
    return this.rooms.get(room)?.has(member) === true;
  }

  /**
   * A file frame of `member` for a transfer this process does not relay: a cluster node hands it
   * to the node that does (and returns true; that node answers). One process: false, nothing done.
   */
  forwardFileFrame(_member: Member, _frame: ClientFrame & { transfer: string }): boolean {
    return false;
  }

  /** The rooms besides lobby a member is in (a fresh array, unsorted). */
  roomsOf(member: Member): string[] {
    return [...(this.memberships.get(member) ?? [])];
  }

  /** How many rooms besides lobby a member is in. */
  roomCount(member: Member): number {
    return this.memberships.get(member)?.size ?? 0;
  }

  /** The members of a room, sorted by code point ([] for a room that does not exist). */
  roomUsers(room: string): string[] {
    if (room === LOBBY) return this.users();
    return [...(this.rooms.get(room) ?? [])].map((member) => member.user).sort(compareCodePoints);
  }

  /**
   * Every room with its number of members, sorted by name (lobby: the listed ones). A member
   * enters other rooms only once listed (its `join` comes after its login's presence).
   */
  roomList(): RoomCount[] {
    const list: RoomCount[] = [{ room: LOBBY, users: this.members.size - this.unlisted.size }];
    for (const [room, members] of this.rooms) list.push({ room, users: members.size });
    return list.sort((a, b) => compareCodePoints(a.room, b.room));
  }

  private removeFromRoom(member: Member, room: string): void {
    const members = this.rooms.get(room);
    if (!members) return;
    members.delete(member);
    if (members.size === 0) this.rooms.delete(room);
  }

  /** Whether a user is online. */
  isOnline(user: string): boolean {
    return this.members.has(user);
  }

  /** The member logged in under that name, if any. */
  member(user: string): Member | undefined {
    return this.members.get(user);
  }

  /** Number of users online (reachable, listed or not yet). */
  get size(): number {
    return this.members.size;
  }

  /** Everyone listed, sorted (code-point order, the same in every language), as a fresh array. */
  users(): string[] {
    return this.unlisted.size === 0 ? this.sortedNames.slice() : this.listedNames(undefined);
  }

  /**
   * {@link users}, and `member` in its place if it is online but not listed yet: a welcome,
   * computed before the member's own presence goes out, names its user.
   */
  usersWith(member: Member): string[] {
    const own = this.members.get(member.user) === member && this.unlisted.has(member.user);
    if (this.unlisted.size === (own ? 1 : 0)) return this.sortedNames.slice();
    return this.listedNames(own ? member.user : undefined);
  }

  /** The listed names in order, and `also` (a cluster node's lists while logins are in flight). */
  private listedNames(also: string | undefined): string[] {
    const names: string[] = [];
    for (const name of this.sortedNames) if (name === also || !this.unlisted.has(name)) names.push(name);
    return names;
  }

  /** Whether a room exists: lobby always, any other room while it has members. */
  hasRoom(room: string): boolean {
    return room === LOBBY || this.rooms.has(room);
  }

  /**
   * The members an audience reaches. A plain iterable, not a generator: `send` walks it for every
   * broadcast, and a generator's `yield*` costs about as much per member as the delivery itself.
   */
  recipients(audience: Audience): Iterable<Member> {
    if ('user' in audience) {
      const member = this.members.get(audience.user);
      return member ? [member] : [];
    }
    if (audience.room === LOBBY) return this.members.values();
    return this.rooms.get(audience.room) ?? [];
  }

  /**
   * Encodes a frame once and queues the same bytes to every member of the audience but `except`
   * (through {@link delivery}). Returns how many members it was queued to.
   */
  send(frame: ServerFrame, audience: Audience, except?: Member): number {
    return this.delivery.send(frame, audience, except);
  }

  /** Encodes a frame once (only if someone gets it) and queues it to each of `members` but `except`; returns how many. */
  sendTo(frame: ServerFrame, members: Iterable<Member>, except?: Member): number {
    return this.delivery.sendTo(frame, members, except);
  }

  /**
   * Like {@link send}, but only to the members on this process (never through a cluster's
   * backplane): what a cluster node relays while it cannot reach the other nodes, so that the
   * same message is not delivered twice when it reaches them later. Returns how many.
   */
  sendLocally(frame: ServerFrame, audience: Audience, except?: Member): number {
    let bytes: Buffer | undefined;
    let count = 0;
    for (const member of this.recipients(audience)) {
      if (member === except || member.node !== undefined) continue;
      bytes ??= encodeFrame(frame);
      member.deliver(bytes);
      count++;
    }
    return count;
  }
}

/** Where `name` is, or would go, in a list sorted with {@link compareCodePoints} (binary search). */
function insertionPoint(sorted: readonly string[], name: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareCodePoints(sorted[middle] as string, name) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
