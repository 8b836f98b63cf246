/**
 * The hub of one node of a cluster. It is the plain {@link Hub} (who is online, rooms, sorted
 * names: every read the rules make stays synchronous and local) holding two kinds of members: this
 * node's users, who are peers here, and a replica of every other node's users ({@link RemoteMember},
 * not a peer: no socket, no outbox here). What changes locally is claimed or announced through the
 * {@link Backplane}; what other nodes announce is applied here by {@link ClusterHub.receive}.
 */
import { LOBBY, encodeFrame, type ClientFrame, type ServerFrame } from '../../protocol/index.ts';
import { Hub } from '../hub.ts';
import type { Audience, Member, MemberDirectory, RecipientSet } from '../recipients.ts';
import type { BusHeader, UserRooms } from './bus-message.ts';

/** Header of a message a node publishes (the backplane adds its own incarnation, `n`). */
export type OutgoingHeader =
  | { k: 'r'; r: string }
  | { k: 'u'; u: string[] }
  | { k: 'sync'; u: UserRooms[] }
  | { k: 'acct'; u: string }
  | { k: 'listed'; u: string }
  | { k: 'f'; o: string; u: string; f: ClientFrame & { transfer: string } };

/** Transfers offered to this node's users by other nodes remembered at most (the oldest forgotten first). */
export const REMOTE_TRANSFERS_KEPT = 10_000;

/** How a relayed `file_offer` starts (compact JSON from encodeFrame: `type` first). */
const FILE_OFFER_START = Buffer.from('{"type":"file_offer"');

/** What a clustered hub needs from the shared store and its channel (Redis: {@link RedisBackplane}). */
export interface Backplane {
  /**
   * Claims `user` for this node, atomically across the cluster, and announces it; false if the
   * user is online anywhere. Rejects (nothing claimed) when the store is unreachable.
   */
  claim(user: string): Promise<boolean>;
  /** Announces a claimed user, now in this node's hub (fire and forget). */
  joined(user: string): void;
  /** Gives the name back and announces the logout (fire and forget: failures are healed by `sync`). */
  release(user: string): void;
  /** Records and announces a room change of a local user (fire and forget). */
  roomChanged(user: string, room: string, entered: boolean): void;
  /** Publishes one message to every other node (dropped while the store is unreachable). */
  publish(header: OutgoingHeader, frame?: Buffer): void;
}

/** A user logged in on another node: known to the directory, reached through the backplane. */
export class RemoteMember implements Member {
  constructor(
    readonly user: string,
    readonly node: string,
  ) {}

  /** Never called by a cluster's recipient set (frames for remote members are published once per node). */
  deliver(): void {}
}

/** A node's hub: local members plus a replica of the other nodes' members (see the module comment). */
export class ClusterHub extends Hub {
  /** Called when this node learns it was declared dead (fenced): it must end every local session. */
  onFenced: (() => void) | undefined;
  /** A file frame of a user on another node, for a transfer relayed here (the server runs it through its relay). */
  onRemoteFile: ((member: Member, frame: ClientFrame) => void) | undefined;
  /** A user of another node left (its transfers relayed here end). */
  onRemoteLeft: ((member: Member, reason: string) => void) | undefined;
  /** Which node relays each transfer offered to this node's users by another node. */
  private readonly remoteTransfers = new Map<string, string>();
  private backplane: Backplane | undefined;
  /** The remote users of each other node (by incarnation), to drop them when that node dies. */
  private readonly byNode = new Map<string, Set<string>>();
  /** This node's own members (the peers here), for a `sync` and for re-claiming after a store restart. */
  private readonly local = new Set<Member>();

  constructor() {
    super({ recipients: (directory) => new ClusterRecipients(directory, () => this.backplane) });
  }

  /** Connects the hub to its backplane (once the store is reachable). */
  attach(backplane: Backplane): void {
    this.backplane = backplane;
  }

  override forwardFileFrame(member: Member, frame: ClientFrame & { transfer: string }): boolean {
    const owner = this.remoteTransfers.get(frame.transfer);
    if (owner === undefined || !this.backplane) return false;
    this.backplane.publish({ k: 'f', o: owner, u: member.user, f: frame });
    return true;
  }

  /** This node's own members now. */
  localMembers(): Member[] {
    return [...this.local];
  }

  /** This node's own members with their rooms, as a `sync` announces them. */
  localRooms(): UserRooms[] {
    return this.localMembers().map((member) => [member.user, this.roomsOf(member)]);
  }

  override async admit(member: Member): Promise<boolean> {
    const backplane = this.backplane;
    if (!backplane) throw new Error('the node is not connected to the cluster yet');
    if (!(await backplane.claim(member.user))) return false;
    // The claim is the truth: a replica entry still naming the user (its logout not heard yet) goes.
    const stale = this.member(member.user);
    if (stale) this.leave(stale);
    // Reachable from here (its `on` lets other nodes deliver to it), listed with its presence.
    if (this.join(member, false)) {
      backplane.joined(member.user);
      return true;
    }
    backplane.release(member.user); // not reachable (the claim was exclusive), but never keep a claim for nobody
    return false;
  }

  /**
   * Lists a local member with its presence, and tells the other nodes right after the presence,
   * in the same turn: one connection and one channel keep the order, so every node lists the
   * user right after relaying its presence (see {@link ClusterHub.receive}, `listed`).
   */
  override announceOnline(member: Member): number {
    const count = super.announceOnline(member);
    if (member.node === undefined) this.backplane?.publish({ k: 'listed', u: member.user });
    return count;
  }

  /** Forgets every other node's users, silently (a fenced node, whose own users are all gone, reloads them). */
  dropRemotes(): void {
    for (const [, users] of [...this.byNode]) {
      for (const user of [...users]) {
        const member = this.member(user);
        if (member?.node !== undefined) this.leave(member);
      }
    }
    this.byNode.clear();
  }

  override join(member: Member, listed = true): boolean {
    if (!super.join(member, listed)) return false;
    if (member.node === undefined) this.local.add(member);
    else {
      let users = this.byNode.get(member.node);
      if (!users) this.byNode.set(member.node, (users = new Set()));
      users.add(member.user);
    }
    return true;
  }

  override leave(member: Member): boolean {
    if (!super.leave(member)) return false;
    if (member.node === undefined) {
      this.local.delete(member);
      this.backplane?.release(member.user);
    } else {
      const users = this.byNode.get(member.node);
      users?.delete(member.user);
      if (users?.size === 0) this.byNode.delete(member.node);
      this.onRemoteLeft?.(member, 'offline');
    }
    return true;
  }

  override enterRoom(member: Member, room: string): boolean {
    if (!super.enterRoom(member, room)) return false;
    if (member.node === undefined) this.backplane?.roomChanged(member.user, room, true);
    return true;
  }

  override leaveRoom(member: Member, room: string): boolean {
    if (!super.leaveRoom(member, room)) return false;
    if (member.node === undefined) this.backplane?.roomChanged(member.user, room, false);
    return true;
  }

  /** Loads another node's user (with its rooms, listed: announced already) from the store's snapshot when this node starts. */
  addRemote(user: string, node: string, rooms: readonly string[]): void {
    const member = this.remoteMember(user, node, true);
    for (const room of rooms) this.enterRoom(member, room);
  }

  /**
   * Applies one message from another node (the backplane drops this node's own and dead nodes'):
   * directory changes to the replica, frames to the local members they are for.
   */
  receive(header: BusHeader, frame: Buffer, self: string): void {
    switch (header.k) {
      case 'on':
        // Reachable at once (a private message sent during its login's replay read is delivered);
        // listed only once its presence was relayed (`listed`, published right after it).
        this.remoteMember(header.u, header.n, false);
        return;
      case 'listed': {
        const member = this.member(header.u);
        if (member?.node === header.n) this.list(member);
        return;
      }
      case 'off': {
        const member = this.member(header.u);
        if (member?.node === header.n) this.leave(member);
        return;
      }
      case 'in':
      case 'out': {
        const member = this.member(header.u);
        if (member?.node !== header.n) return;
        if (header.k === 'in') this.enterRoom(member, header.r);
        else this.leaveRoom(member, header.r);
        return;
      }
      case 'dead':
        if (header.n === self) this.onFenced?.();
        else this.dropNode(header.n, Array.isArray(header.u) ? header.u : []);
        return;
      case 'sync':
        return this.syncNode(header.n, header.u);
      case 'r':
        return this.deliverLocally(frame, this.recipients({ room: header.r }));
      case 'u':
        if (frame.subarray(0, FILE_OFFER_START.length).equals(FILE_OFFER_START)) this.rememberTransfer(frame, header.n);
        for (const user of header.u) {
          const member = this.member(user);
          if (member && member.node === undefined) member.deliver(frame);
        }
        return;
      case 'f': {
        if (header.o !== self) return;
        const member = this.member(header.u);
        if (member?.node === header.n) this.onRemoteFile?.(member, header.f);
        return;
      }
      case 'acct':
      case 'many': // split into its messages by the backplane
        return;
    }
  }

  /** Notes which node relays a transfer offered to local users, so their answers go there. */
  private rememberTransfer(frame: Buffer, node: string): void {
    try {
      const transfer = (JSON.parse(frame.toString()) as { transfer?: unknown }).transfer;
      if (typeof transfer !== 'string') return;
      if (this.remoteTransfers.size >= REMOTE_TRANSFERS_KEPT) this.remoteTransfers.delete(this.remoteTransfers.keys().next().value as string);
      this.remoteTransfers.set(transfer, node);
    } catch {
      // Not a frame we can read: its recipients will answer an unknown transfer.
    }
  }

  /**
   * Makes the whole replica what the store says now (`snapshot`: each other node's users with
   * their rooms), telling local users what changed: after this node's subscription was cut, the
   * announcements made meanwhile were lost, and nodes may have died unseen.
   */
  reconcile(snapshot: ReadonlyMap<string, UserRooms[]>): void {
    for (const node of [...this.byNode.keys()]) if (!snapshot.has(node)) this.syncNode(node, []);
    for (const [node, users] of snapshot) this.syncNode(node, users);
  }

  /** A dead node's users go offline here, told to the local users as `connection_lost`. */
  private dropNode(node: string, users: readonly string[]): void {
    const gone = new Set([...users, ...(this.byNode.get(node) ?? [])]);
    const left: string[] = [];
    for (const user of gone) {
      const member = this.member(user);
      if (member?.node !== node) continue;
      // Local users never heard a user online whose presence had not gone out: no offline either.
      const wasListed = this.isListed(member);
      if (this.leave(member) && wasListed) left.push(user);
    }
    this.byNode.delete(node);
    for (const user of left) this.announceLocally({ type: 'presence', user, status: 'offline', reason: 'connection_lost' });
  }

  /**
   * Makes the replica of `node` exactly what it says it holds (after the store came back: the
   * logins and logouts announced while it was away were lost), telling local users what changed.
   */
  private syncNode(node: string, users: readonly UserRooms[]): void {
    const held = new Map(users);
    for (const user of [...(this.byNode.get(node) ?? [])]) {
      if (held.has(user)) continue;
      const member = this.member(user);
      if (member?.node !== node) continue;
      const wasListed = this.isListed(member);
      if (this.leave(member) && wasListed) this.announceLocally({ type: 'presence', user, status: 'offline', reason: 'connection_lost' });
    }
    for (const [user, rooms] of held) {
      const known = this.member(user);
      if (known && known.node !== node) continue; // claimed elsewhere since: the claim wins
      // Listed: the node holds it, and announced it already (or its announcement was lost meanwhile).
      const member = known ?? this.remoteMember(user, node, true);
      if (known) this.list(known);
      else this.announceLocally({ type: 'presence', user, status: 'online' });
      for (const room of this.roomsOf(member)) if (!rooms.includes(room)) this.leaveRoom(member, room);
      for (const room of rooms) this.enterRoom(member, room);
    }
  }

  /**
   * The replica entry of a remote user, added if missing (a stale entry of another node replaced);
   * listed if `listed` (an entry already there keeps its state).
   */
  private remoteMember(user: string, node: string, listed: boolean): Member {
    const known = this.member(user);
    if (known?.node === node) {
      if (listed) this.list(known);
      return known;
    }
    if (known) this.leave(known);
    const member = new RemoteMember(user, node);
    this.join(member, listed);
    return member;
  }

  private announceLocally(frame: ServerFrame): void {
    this.deliverLocally(encodeFrame(frame), this.recipients({ room: LOBBY }));
  }

  private deliverLocally(bytes: Buffer, members: Iterable<Member>): void {
    for (const member of members) if (member.node === undefined) member.deliver(bytes);
  }
}

/**
 * A cluster node's recipient set: the frame is encoded once; local members get the buffer in their
 * outboxes, and if the audience is a room or reaches anyone on another node, the same bytes are
 * published ONCE (not once per remote member): each node fans them out to its own members.
 */
export class ClusterRecipients implements RecipientSet {
  constructor(
    private readonly directory: MemberDirectory,
    private readonly backplane: () => Backplane | undefined,
  ) {}

  send(frame: ServerFrame, audience: Audience, except?: Member): number {
    let bytes: Buffer | undefined;
    let count = 0;
    let remote = false;
    for (const member of this.directory.recipients(audience)) {
      if (member === except) continue;
      count++;
      if (member.node !== undefined) {
        remote = true;
        continue;
      }
      bytes ??= encodeFrame(frame);
      member.deliver(bytes);
    }
    // A room's broadcast (lobby's too) goes out even when this node's replica names nobody there
    // elsewhere: the replica lags by a pub/sub hop, and a user who has just logged in or joined on
    // another node must get what is committed after its replay was read (docs/clustering.md,
    // "History across nodes"). Each node delivers to its own members of the room, if any.
    if (remote || 'room' in audience) {
      bytes ??= encodeFrame(frame);
      this.backplane()?.publish('room' in audience ? { k: 'r', r: audience.room } : { k: 'u', u: [audience.user] }, bytes);
    }
    return count;
  }

  sendTo(frame: ServerFrame, members: Iterable<Member>, except?: Member): number {
    let bytes: Buffer | undefined;
    let count = 0;
    const remote: string[] = [];
    for (const member of members) {
      if (member === except) continue;
      count++;
      if (member.node !== undefined) {
        remote.push(member.user);
        continue;
      }
      bytes ??= encodeFrame(frame);
      member.deliver(bytes);
    }
    if (remote.length > 0) this.backplane()?.publish({ k: 'u', u: remote }, (bytes ??= encodeFrame(frame)));
    return count;
  }
}
