/**
 * The fuzz run's oracle: what the reference server must answer to each frame, and the relays it
 * must deliver. Kept apart from the socket handling in scripts/fuzz.ts so its checks can be
 * tested on their own (test/fuzz-soak-scripts.test.ts feeds it wrong answers).
 */
import type { RawFrame, RequestId } from '../../src/protocol/index.ts';

/** How many mismatches a report shows (all are counted). */
const MAX_SHOWN = 20;

/** What the server must answer to one frame. */
export type Expected = { answer: 'error'; code: string; id?: RequestId } | { answer: 'ok'; id: RequestId; relay: Relay } | { answer: 'pong' | 'users' | 'room_list'; id: RequestId };

/** A say the oracle expects relayed: to everyone else (`to` absent) or to one user. */
export interface Relay {
  from: string;
  text: string;
  to?: string;
  /** The msgid of the sender's `ok`, once it came. */
  msgid?: number;
  /** Msgids the relays carried so far, checked against the `ok`'s once both are in. */
  seen: number[];
  /** Receivers that have not had it yet. */
  waiting: number;
}

/** Shared state of a run: the relays each receiver still expects, and the mismatches. */
export class Oracle {
  /** receiver → sender → relays expected, in the sender's order. */
  readonly pending = new Map<string, Map<string, Relay[]>>();
  readonly mismatches: string[] = [];
  mismatchCount = 0;
  relays = 0;
  answers = 0;
  /** Every msgid an `ok` announced: none may come twice. */
  private readonly msgids = new Set<number>();

  constructor(readonly users: string[]) {
    for (const receiver of users) this.pending.set(receiver, new Map(users.map((sender) => [sender, []])));
  }

  mismatch(text: string): void {
    this.mismatchCount++;
    if (this.mismatches.length < MAX_SHOWN) this.mismatches.push(text);
  }

  /** The sender wrote a say: every receiver it goes to now expects it. */
  expectRelay(relay: Relay): void {
    const receivers = relay.to !== undefined ? [relay.to] : this.users.filter((u) => u !== relay.from);
    relay.waiting = receivers.length;
    for (const receiver of receivers) this.pending.get(receiver)?.get(relay.from)?.push(relay);
  }

  /** A `message` reached `receiver`: it must be the next one expected from its sender. */
  checkRelay(receiver: string, frame: RawFrame): void {
    this.relays++;
    const queue = this.pending.get(receiver)?.get(String(frame.from));
    const relay = queue?.shift();
    if (!relay) return this.mismatch(`${receiver} got a message nobody sent it: ${show(frame)}`);
    const where = relay.to !== undefined ? frame.to === relay.to && frame.room === undefined : frame.room === 'lobby' && frame.to === undefined;
    if (frame.text !== relay.text || !where || typeof frame.ts !== 'number' || typeof frame.msgid !== 'number') {
      return this.mismatch(`${receiver} expected from ${relay.from} ${JSON.stringify({ text: relay.text, to: relay.to })}, got ${show(frame)}`);
    }
    relay.seen.push(frame.msgid);
    relay.waiting--;
    this.settle(relay);
  }

  /** The sender's `ok` announced `msgid` for this say. */
  acknowledged(relay: Relay, msgid: number): void {
    if (this.msgids.has(msgid)) this.mismatch(`msgid ${msgid} given twice (again to ${relay.from}'s say ${JSON.stringify(relay.text.slice(0, 40))})`);
    this.msgids.add(msgid);
    relay.msgid = msgid;
    this.settle(relay);
  }

  /** Once the ok and every relay are in: each relay carried the ok's msgid. Nothing is kept after. */
  private settle(relay: Relay): void {
    if (relay.waiting > 0 || relay.msgid === undefined) return;
    for (const seen of relay.seen) {
      if (seen !== relay.msgid) this.mismatch(`a relay of ${relay.from}'s say carried msgid ${seen}, its ok said ${relay.msgid}`);
    }
    relay.seen = [];
  }

  /** Relays still expected by anyone. */
  outstandingRelays(): number {
    let n = 0;
    for (const bySender of this.pending.values()) for (const queue of bySender.values()) n += queue.length;
    return n;
  }
}

/** Why an answer is not what the oracle expected, or null when it is. */
export function answerProblem(expected: Expected, frame: RawFrame, users: string[]): string | null {
  const sameId = (id: RequestId | undefined): boolean => frame.id === id;
  switch (expected.answer) {
    case 'error':
      if (frame.type !== 'error' || frame.code !== expected.code) return `expected error ${expected.code}`;
      if (!sameId(expected.id)) return `expected ${expected.id === undefined ? 'no id' : `id ${JSON.stringify(expected.id)}`}`;
      return typeof frame.message === 'string' && frame.message.length > 0 ? null : 'expected a message';
    case 'ok':
      return frame.type === 'ok' && sameId(expected.id) && typeof frame.msgid === 'number' ? null : `expected ok with id ${JSON.stringify(expected.id)} and a msgid`;
    case 'pong':
      return frame.type === 'pong' && sameId(expected.id) && typeof frame.ts === 'number' ? null : `expected pong with id ${JSON.stringify(expected.id)}`;
    case 'users':
      return frame.type === 'users' && sameId(expected.id) && JSON.stringify(frame.users) === JSON.stringify(users)
        ? null
        : `expected users ${JSON.stringify(users)} with id ${JSON.stringify(expected.id)}`;
    case 'room_list': {
      const rooms = [{ room: 'lobby', users: users.length }];
      return frame.type === 'room_list' && sameId(expected.id) && JSON.stringify(frame.rooms) === JSON.stringify(rooms)
        ? null
        : `expected room_list ${JSON.stringify(rooms)} with id ${JSON.stringify(expected.id)}`;
    }
  }
}

/** A frame, shortened for a report line. */
export const show = (frame: RawFrame): string => JSON.stringify(frame).slice(0, 300);
