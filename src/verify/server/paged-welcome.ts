import { PagedListAssembler, type RawFrame } from '../../protocol/index.ts';
import { showBytes } from '../bytes.ts';
import { fail } from '../failure.ts';
import type { Probe, Received } from '../probe.ts';
import type { ServerContext } from './context.ts';

/** A welcome with every page of its list put together. */
export interface WholeWelcome {
  /** The welcome frame, its `users` being the names of every page, without `more`. */
  frame: RawFrame;
  /** How many frames the list came in (1 when it was not paged). */
  pages: number;
  /** The last frame of the list (the welcome itself when it was not paged). */
  last: Received;
}

const RULE =
  'when the online list does not fit in one frame, welcome carries the first part and "more": true, then "users" frames with the same id continue it (the last one without "more"), before any other frame to that client.';

/** The welcomes that came paged in this run, per check context: what `5.paged-lists` reports. */
const pagedWelcomes = new WeakMap<ServerContext, { probe: string; pages: number }[]>();

/**
 * Takes a welcome and, when it says `"more": true`, the `users` frames that continue it (the very
 * next frames on that connection, consumed so no later check mistakes them for stray frames), and
 * checks the continuation rule of step 5 on the way: `users` frames only, the welcome's id (or
 * none), `more` on all but the last, nothing else in between. Fails the check with the frame that
 * broke the rule.
 */
export async function wholeWelcome(ctx: ServerContext, probe: Probe, welcome: Received): Promise<WholeWelcome> {
  const lists = new PagedListAssembler();
  const first = lists.take(welcome.frame as RawFrame);
  if (first.kind === 'whole') return { frame: welcome.frame as RawFrame, pages: 1, last: welcome };
  let last = welcome;
  for (;;) {
    const next = await nextAfter(ctx, probe, last);
    if (!next.frame) {
      fail({ summary: `${probe.name}'s paged welcome was followed by a line that is not a frame`, received: showBytes(next.raw), hint: RULE, culprit: next.seq });
    }
    const step = lists.take(next.frame);
    next.consumed = true;
    if (step.kind === 'broken' || step.kind === 'whole') {
      fail({
        summary: `${probe.name}'s paged welcome was broken off: ${step.kind === 'broken' ? step.message : `a "${next.frame.type}" came instead of its continuation`}`,
        expected: 'a "users" frame with the welcome\'s id',
        received: showBytes(next.raw),
        hint: RULE,
        culprit: next.seq,
      });
    }
    ctx.requireValid(probe, next, RULE);
    last = next;
    if (step.kind === 'complete') {
      const seen = pagedWelcomes.get(ctx) ?? [];
      seen.push({ probe: probe.name, pages: step.pages });
      pagedWelcomes.set(ctx, seen);
      return { frame: step.frame as unknown as RawFrame, pages: step.pages, last };
    }
  }
}

/** The welcomes of this run that came in more than one frame. */
export function pagedWelcomesSeen(ctx: ServerContext): readonly { probe: string; pages: number }[] {
  return pagedWelcomes.get(ctx) ?? [];
}

/** The item received on `probe` right after `previous`, waiting for it if needed. */
async function nextAfter(ctx: ServerContext, probe: Probe, previous: Received): Promise<Received> {
  const index = probe.inbox.indexOf(previous);
  const present = index === -1 ? undefined : probe.inbox[index + 1];
  if (present) return present;
  const wait = await probe.next((received) => received.seq > previous.seq, ctx.timeouts.answerMs, { consume: false });
  if (wait.kind === 'frame') return wait.received;
  fail({
    summary: `${probe.name}'s welcome said "more": true, but ${wait.kind === 'closed' ? 'the connection closed' : `nothing followed within ${ctx.timeouts.answerMs / 1000} s`}`,
    expected: 'a "users" frame with the welcome\'s id, continuing the list',
    received: showBytes(previous.raw),
    hint: RULE,
    culprit: previous.seq,
  });
}
