/**
 * A user logged in through a {@link Peer}, as the hub holds them, and the gate that holds the
 * frames the hub delivers to them while a replay is being read from a shared store.
 *
 * Why a gate: on one process a replay (after login, after `join`) is read in the same turn as the
 * user enters the hub or the room, so nothing can come between. A cluster reads it from Redis,
 * a round trip later, while the user is already a member: live frames arriving meanwhile must
 * not overtake the replay, nor repeat a message it already holds. So the member's deliveries are
 * held from the moment it can receive any until the replay is written; then the held frames
 * follow it, minus the `message` frames whose msgid the replay contains (a message committed
 * before the read but relayed after the user became a member is in both).
 */
import type { Peer } from './peer.ts';
import type { Member } from './recipients.ts';

/** How a `message` frame starts (compact JSON from encodeFrame: `type` first). */
const MESSAGE_START = Buffer.from('{"type":"message"');

/** The frames held for one member while its replay is read (bounded; see the module comment). */
export class ReplayGate {
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Set once more than `maxBytes` arrived: the client would have been cut off as a slow reader. */
  overflowed = false;

  constructor(private readonly maxBytes: number) {}

  /** Bytes held now (for the overflow report). */
  get bytes(): number {
    return this.heldBytes;
  }

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

  /** The held frames, in arrival order, without the messages whose msgid `replayed` has. */
  release(replayed: ReadonlySet<number>): Buffer[] {
    const held = this.held;
    this.held = [];
    if (replayed.size === 0) return held;
    return held.filter((bytes) => !(isMessage(bytes) && replayed.has(msgidOf(bytes))));
  }
}

/** A local user: deliveries go to its peer, or into its {@link ReplayGate} while one is set. */
export class PeerMember implements Member {
  /** Set while a replay for this member is read from a shared store. */
  gate: ReplayGate | undefined;

  constructor(
    readonly user: string,
    private readonly peer: Peer,
  ) {}

  deliver(bytes: Buffer): void {
    if (this.gate) this.gate.hold(bytes);
    else this.peer.deliver(bytes);
  }
}

function isMessage(bytes: Buffer): boolean {
  return bytes.length > MESSAGE_START.length && bytes.subarray(0, MESSAGE_START.length).equals(MESSAGE_START);
}

function msgidOf(bytes: Buffer): number {
  try {
    const msgid = (JSON.parse(bytes.toString('utf8')) as { msgid?: unknown }).msgid;
    return typeof msgid === 'number' ? msgid : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
