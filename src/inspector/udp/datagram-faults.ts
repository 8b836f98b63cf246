import type { Direction } from '../../protocol/index.ts';
import type { FaultOptions } from '../events.ts';
import { seededRandom } from './seeded-random.ts';

/** What the tap does with one datagram. */
export interface DatagramDecision {
  /** Drop it: it never reaches the other side. */
  lose: boolean;
  /** Send it a second time right after. */
  duplicate: boolean;
  /** Hold it back and send it after the next datagram of its stream (reordering). */
  holdBack: boolean;
}

/**
 * The fault decisions of one stream (one client address, one direction), drawn from a PRNG
 * seeded with the run's seed, the connection number and the direction. A stream's decisions
 * depend only on its own datagrams, in their order: several clients interleaving differently
 * from run to run do not change which of each client's datagrams are lost.
 */
export class DatagramFaults {
  private readonly random: () => number;

  constructor(
    private readonly faults: FaultOptions,
    seed: number,
    conn: number,
    dir: Direction,
  ) {
    this.random = seededRandom(mix(seed, conn * 2 + (dir === 'c2s' ? 0 : 1)));
  }

  /** The decision for the stream's next datagram (three draws each, whatever the options, so decisions stay aligned). */
  next(): DatagramDecision {
    const loss = this.random();
    const duplicate = this.random();
    const hold = this.random();
    const lose = loss < (this.faults.loss ?? 0);
    return {
      lose,
      duplicate: !lose && duplicate < (this.faults.duplicate ?? 0),
      holdBack: !lose && this.faults.reorder === true && hold < 0.5,
    };
  }
}

/** One 32-bit seed from two numbers (a multiply-xorshift mix, so streams 1 and 2 are not related). */
function mix(seed: number, stream: number): number {
  let h = (seed ^ Math.imul(stream + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Whether any of the UDP faults (loss, reorder, duplicate) is on: then a seed decides them. */
export function hasRandomFaults(faults: FaultOptions | undefined): boolean {
  return Boolean(faults && ((faults.loss ?? 0) > 0 || faults.reorder || (faults.duplicate ?? 0) > 0));
}
