/**
 * The hub's recipient set: how a frame reaches "user X", "room R" or "everyone but Y". The core
 * and the file relay only ever name an audience (through the hub); this interface is what turns
 * it into deliveries, so a later implementation can reach members on other server processes (a
 * backplane publishing the encoded bytes once per process) without the rules changing.
 * {@link LocalRecipients}, over this process's members, is the only implementation today.
 */
import { encodeFrame, type ServerFrame } from '../protocol/index.ts';

/** Someone logged in, as the hub sees them: a name and a way to hand them encoded frames. */
export interface Member {
  /** The logged-in user name. */
  readonly user: string;
  /** Queues already-encoded frame bytes for this member (never throws). */
  deliver(bytes: Buffer): void;
  /**
   * Set only for a user logged in on another server process of a cluster: that node's incarnation.
   * Such a member is known to the directory (who is online, rooms) but is not a peer here: frames
   * for it travel over the backplane, once per node, not through `deliver`.
   */
  readonly node?: string;
}

/** Who a frame goes to: the members of a room (`lobby` is everyone online) or one user. */
export type Audience = { room: string } | { user: string };

/** Delivers frames to audiences, encoding each frame once however many members receive it. */
export interface RecipientSet {
  /**
   * Encodes `frame` once (only if someone gets it) and queues the same bytes to every member the
   * audience reaches but `except`. Returns how many members it was queued to.
   */
  send(frame: ServerFrame, audience: Audience, except?: Member): number;
  /** Encodes `frame` once (only if someone gets it) and queues it to each of `members` but `except`; returns how many. */
  sendTo(frame: ServerFrame, members: Iterable<Member>, except?: Member): number;
}

/** Who an audience reaches on this process (the hub's membership). */
export interface MemberDirectory {
  /** The members an audience reaches. */
  recipients(audience: Audience): Iterable<Member>;
}

/**
 * The in-process recipient set: resolves an audience against this process's members and hands
 * each of them the same encoded buffer (their bounded outboxes take it from there).
 */
export class LocalRecipients implements RecipientSet {
  constructor(private readonly directory: MemberDirectory) {}

  send(frame: ServerFrame, audience: Audience, except?: Member): number {
    return this.sendTo(frame, this.directory.recipients(audience), except);
  }

  sendTo(frame: ServerFrame, members: Iterable<Member>, except?: Member): number {
    let bytes: Buffer | undefined;
    let count = 0;
    for (const member of members) {
      if (member === except) continue;
      bytes ??= encodeFrame(frame);
      member.deliver(bytes);
      count++;
    }
    return count;
  }
}
