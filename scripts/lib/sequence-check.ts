/**
 * The soak run's delivery check for one receiver. Every soak message is numbered twice:
 * `soak n<N> c<C> <channel>`, where N counts every message of its sender and C the sender's
 * messages on that channel (`lobby`, a room, or `@user` for a private conversation). On each
 * arrival, N must grow per sender (no duplicate, no reorder) and C must be the next one per sender
 * and channel (no loss); what arrived per sender and channel is kept for the final count.
 */
import type { RawFrame } from '../../src/protocol/index.ts';

const MESSAGE_PATTERN = /^soak n(\d+) c(\d+) (\S+)$/;

/** The text of a sender's `n`-th message, its `c`-th on `channel`. */
export function soakText(n: number, c: number, channel: string): string {
  return `soak n${n} c${c} ${channel}`;
}

/** What one receiver has had from each sender; faults go to `report` as they are seen. */
export class SequenceCheck {
  /** Per sender, the highest N seen. */
  private readonly lastN = new Map<string, number>();
  /** Per `sender channel`, the highest C seen. */
  private readonly lastC = new Map<string, number>();

  constructor(
    readonly receiver: string,
    private readonly report: (failure: string) => void,
  ) {}

  /** Checks one relayed `message` frame. */
  receive(frame: RawFrame): void {
    const match = MESSAGE_PATTERN.exec(String(frame.text));
    const from = String(frame.from);
    if (!match || frame.history === true) return this.report(`${this.receiver} got an unexpected message ${JSON.stringify(frame)}`);
    const n = Number(match[1]);
    const c = Number(match[2]);
    const channel = match[3] as string;
    const deliveredAs = frame.to !== undefined ? `@${String(frame.to)}` : String(frame.room);
    if (channel !== deliveredAs) this.report(`${this.receiver}: ${from}'s message for ${channel} came as ${deliveredAs}`);
    const lastN = this.lastN.get(from) ?? 0;
    if (n <= lastN) this.report(`${this.receiver}: ${from}'s message n${n} came after n${lastN} (${n === lastN ? 'duplicate' : 'reordered'})`);
    this.lastN.set(from, Math.max(n, lastN));
    const key = `${from} ${channel}`;
    const lastC = this.lastC.get(key) ?? 0;
    if (c !== lastC + 1) this.report(`${this.receiver}: ${from} on ${channel} sent c${c} after c${lastC} (${c > lastC + 1 ? `${c - lastC - 1} lost` : 'duplicate or reordered'})`);
    this.lastC.set(key, Math.max(c, lastC));
  }

  /** How many of `sender`'s messages on `channel` have arrived (the highest C seen). */
  count(sender: string, channel: string): number {
    return this.lastC.get(`${sender} ${channel}`) ?? 0;
  }
}
