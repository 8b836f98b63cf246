import type { RawFrame } from '../../protocol/index.ts';
import { showBytes } from '../bytes.ts';
import { fail, sentence } from '../failure.ts';
import { nonce } from '../nonce.ts';
import type { Probe, Received } from '../probe.ts';
import type { Check } from '../runner.ts';
import { expectRelayedTo } from './checks-relay.ts';
import { errorCode, type ServerContext } from './context.ts';

/**
 * The rate-limit floor (step 7): a server may limit how fast each connection sends, but it must
 * serve at least 20 frames per second with bursts of 40 on every connection, so a client that
 * paces itself below that never meets `rate_limited`.
 */

/** The floor every server must grant each connection (docs: the limits of chatlab/1 extensions). */
const FLOOR = { perSecond: 20, burst: 40 } as const;
/** Frames sent at the floor rate after the burst. */
const STREAM = 20;
/**
 * Pause between the burst and the stream: the tokens it refills (6 at the floor rate) absorb a
 * server that reads the burst late, on a busy machine, and the stream on time.
 */
const GAP_MS = 300;
/** A bucket refilled at the floor rate is full again this long after it was emptied. */
const REFILL_WINDOW_MS = (FLOOR.burst / FLOOR.perSecond) * 1000;

const HINT = `a server may limit how fast each connection sends, but never below ${FLOOR.perSecond} frames per second with bursts of ${FLOOR.burst} (a token bucket per connection: ${FLOOR.burst} tokens, refilled at ${FLOOR.perSecond} per second): a client that stays within that must never get rate_limited, and every one of its says is relayed.`;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * How long until a bucket at the floor rate is surely full again for `probe`: the lines it sent
 * in the last {@link REFILL_WINDOW_MS} are at most the tokens missing (anything older has been
 * refilled), and each takes 1/{@link FLOOR.perSecond} s to come back.
 */
function refillWaitMs(ctx: ServerContext, probe: Probe): number {
  const events = ctx.transcript.events;
  const latest = events.at(-1)?.atMs ?? 0;
  let lines = 0;
  for (const event of events) {
    if (event.kind !== 'send' || event.conn !== probe.name || event.atMs < latest - REFILL_WINDOW_MS) continue;
    lines += event.raw.filter((byte) => byte === 0x0a).length;
  }
  return Math.min(lines, FLOOR.burst) * (1000 / FLOOR.perSecond);
}

/** How many lines `probe` had sent holding `tag` before transcript event `seq`. */
function sentLines(ctx: ServerContext, probe: Probe, tag: string, seq: number): number {
  const marker = Buffer.from(tag, 'utf8');
  let lines = 0;
  for (const event of ctx.transcript.events) {
    if (event.kind === 'send' && event.conn === probe.name && event.seq < seq && event.raw.includes(marker)) lines += event.raw.filter((byte) => byte === 0x0a).length;
  }
  return lines;
}

const rateFloor: Check<ServerContext> = {
  id: '7.rate-floor',
  step: 7,
  title: `a burst of ${FLOOR.burst} says, then ${STREAM} more at ${FLOOR.perSecond} per second, are all relayed: no rate_limited below the floor`,
  async run(ctx) {
    const alice = ctx.alice!;
    await delay(refillWaitMs(ctx, alice) + 50);
    const run = nonce();
    const texts = Array.from({ length: FLOOR.burst + STREAM }, (_, index) => `rate floor ${index + 1} ${run} ${nonce()}`);
    const says: RawFrame[] = texts.map((text) => ({ type: 'say', text }));
    const mark = ctx.transcript.seq;
    await alice.send(says.slice(0, FLOOR.burst));
    // Each frame of the stream leaves no earlier than its slot, whatever the timers' delays.
    const streamStart = performance.now() + GAP_MS;
    for (const [index, say] of says.slice(FLOOR.burst).entries()) {
      const slot = streamStart + (index * 1000) / FLOOR.perSecond;
      await delay(Math.max(0, slot - performance.now()));
      await alice.send(say);
    }
    const refused = await alice.next((r) => r.seq > mark && errorCode(r) !== null, ctx.timeouts.quietMs, { consume: false });
    if (refused.kind === 'frame') {
      const answer: Received = refused.received;
      const sentBefore = sentLines(ctx, alice, run, answer.seq);
      const when =
        sentBefore <= FLOOR.burst
          ? `during its burst of ${FLOOR.burst} says (one write, after a pause long enough to refill the bucket)`
          : `after its burst of ${FLOOR.burst} says and ${sentBefore - FLOOR.burst} more paced at ${FLOOR.perSecond} per second`;
      fail({
        summary: `${alice.name} got error ${errorCode(answer)} ${when}`,
        expected: 'no error: every say is relayed to the others',
        received: showBytes(answer.raw),
        hint: HINT,
        culprit: answer.seq,
      });
    }
    for (const probe of ctx.others(alice)) {
      for (const [index, text] of texts.entries()) {
        const where = index < FLOOR.burst ? `of the burst of ${FLOOR.burst}` : `of the ${STREAM} paced at ${FLOOR.perSecond} per second`;
        await expectRelayedTo(ctx, probe, ctx.a.user, text, sentence(`say #${index + 1} (${where}) never reached ${probe.name}: the server dropped it.`, HINT));
      }
    }
    return `${texts.length} says relayed to ${ctx.others(alice).length} users`;
  },
};

/** The rate-floor check of step 7 (it runs after the other checks of its step). */
export const rateChecks: Check<ServerContext>[] = [rateFloor];
