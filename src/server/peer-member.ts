/**
 * A user logged in through a {@link Peer}, as the hub holds them, and what keeps a replay read
 * from a shared store in order with the live frames.
 *
 * Why: on one process a replay (after login, after `join`) is read in the same turn as the user
 * enters the hub or the room, so nothing can come between. A cluster reads it from Redis, a round
 * trip later, while the user is already a member, and a message's relay follows its commit by
 * another round trip (from whichever node recorded it). So:
 * - from the moment the member can receive anything until its replay is written, the frames the
 *   hub delivers to it are held ({@link ReplayGate}), then follow the replay: nothing live
 *   overtakes it;
 * - a message committed before the read is in the replay, but its relay may come later, even
 *   after the gate is open: for a while ({@link LATE_RELAY_MS}) the member drops every live
 *   `message` of a replayed conversation whose msgid is at most the replay's highest (its
 *   horizon). msgids come from one counter in the same script as the commit, so a lower msgid
 *   was committed earlier: it is in the replay, or older than what the replay kept.
 */
import type { Clock } from './clock.ts';
import type { Peer } from './peer.ts';
import type { Member } from './recipients.ts';

/** How long (ms) after a replay late relays of the messages it held are dropped. */
export const LATE_RELAY_MS = 10_000;

/** How a `message` frame starts (compact JSON from encodeFrame: `type` first). */
const MESSAGE_START = Buffer.from('{"type":"message"');

/**
 * The conversation a replay covered, as {@link conversationOf} names it: `#room` for a room
 * (lobby included), `@` for every private conversation of the member.
 */
export type ConversationKey = `#${string}` | '@';

/** The frames held for one member while its replay is read (bounded; see the module comment). */
export class ReplayGate {
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Set once more than `maxBytes` arrived: the client would have been cut off as a slow reader. */
  overflowed = false;

  constructor(private readonly maxBytes: number) {}

  hold(bytes: Buffer): void {
    if (this.overflowed) return;
    if (this.heldBytes + bytes.length > this.maxBytes) {
      this.overflowed = true;
      this.held = [];
      return;
    }
    this.held.push(bytes);
    this.heldBytes += bytes.length;
  }

  /** The held frames, in arrival order (and the gate empty). */
  release(): Buffer[] {
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    return held;
  }
}

/** A local user: deliveries go to its peer, or into its {@link ReplayGate} while one is set. */
export class PeerMember implements Member {
  /** Set while a replay for this member is read from a shared store. */
  gate: ReplayGate | undefined;
  /** After replays read from a shared store: per conversation, the highest msgid they covered. */
  private horizons: Map<ConversationKey, number> | undefined;
  private horizonsUntil = 0;

  constructor(
    readonly user: string,
    private readonly peer: Peer,
    private readonly clock: Pick<Clock, 'now'>,
  ) {}

  deliver(bytes: Buffer): void {
    if (this.gate) this.gate.hold(bytes);
    else if (!(this.horizons && this.replayed(bytes))) this.peer.deliver(bytes);
  }

  /**
   * Ends the gate once the replay is written: the held frames follow, minus the messages the
   * replay covered (`horizons`), which are also dropped if they come later (see the module
   * comment). False if the gate overflowed: the caller cuts the client off.
   */
  openGate(horizons: ReadonlyMap<ConversationKey, number>): boolean {
    const gate = this.gate;
    this.gate = undefined;
    if (gate?.overflowed) return false;
    if (horizons.size > 0) {
      this.horizons ??= new Map();
      for (const [conversation, msgid] of horizons) this.horizons.set(conversation, Math.max(msgid, this.horizons.get(conversation) ?? 0));
      this.horizonsUntil = this.clock.now() + LATE_RELAY_MS;
    }
    for (const bytes of gate?.release() ?? []) this.deliver(bytes);
    return true;
  }

  /** Whether a live frame is a message a replay already gave this member (checked for a while after it). */
  private replayed(bytes: Buffer): boolean {
    if (this.clock.now() > this.horizonsUntil) {
      this.horizons = undefined;
      return false;
    }
    const message = conversationOf(bytes);
    return message !== undefined && message.msgid <= (this.horizons?.get(message.conversation) ?? 0);
  }
}

/** What {@link conversationOf} found in an encoded frame. */
type Conversation = { conversation: ConversationKey; msgid: number } | undefined;

/**
 * The last frame {@link conversationOf} read, and what it found. A broadcast hands the very same
 * buffer to every member in turn, so it is parsed once, not once per recipient (with 1,000 members
 * who have just logged in, parsing it each time costs more than the whole delivery).
 */
let lastRead: { bytes: Buffer; found: Conversation } | undefined;

/** The conversation and msgid of an encoded `message` frame; undefined for any other frame. */
export function conversationOf(bytes: Buffer): Conversation {
  if (lastRead?.bytes === bytes) return lastRead.found;
  const found = readConversation(bytes);
  lastRead = { bytes, found };
  return found;
}

function readConversation(bytes: Buffer): Conversation {
  if (bytes.length <= MESSAGE_START.length || !bytes.subarray(0, MESSAGE_START.length).equals(MESSAGE_START)) return undefined;
  try {
    const frame = JSON.parse(bytes.toString('utf8')) as { room?: unknown; msgid?: unknown };
    if (typeof frame.msgid !== 'number') return undefined;
    return { conversation: typeof frame.room === 'string' ? `#${frame.room}` : '@', msgid: frame.msgid };
  } catch {
    return undefined;
  }
}
