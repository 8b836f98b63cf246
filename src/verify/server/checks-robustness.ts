import { setTimeout as delay } from 'node:timers/promises';
import { encodeFrame } from '../../protocol/index.ts';
import { showBytes } from '../bytes.ts';
import { fail, sentence } from '../failure.ts';
import type { Probe } from '../probe.ts';
import type { Check } from '../runner.ts';
import { nonceOf } from '../nonce.ts';
import { answerOf, errorCode, json, type ServerContext } from './context.ts';
import { expectRelayedTo } from './checks-relay.ts';

/** Bytes a broken client might send: invalid UTF-8, a lone continuation byte, half a frame, and no final newline. */
const GARBAGE = Buffer.concat([
  Buffer.from([0xff, 0xfe, 0x80, 0xc3, 0x28, 0x0a]),
  Buffer.from('{"type":"say","text":"\u00e9', 'utf8').subarray(0, -1),
  Buffer.from('\n{"type":"login","user":', 'utf8'),
]);

const HINT =
  'a client that sends garbage and drops must not disturb anyone else: handle bad bytes, a reset connection and a half frame at the close inside that one connection (catch errors per connection, never let them stop the server or the other connections).';

const garbageThenDrop: Check<ServerContext> = {
  id: '10.garbage-then-drop',
  step: 10,
  title: "a client that sends garbage and drops does not disturb another pair's chat",
  async run(ctx) {
    const alice = ctx.alice!;
    // A fresh partner for alice: bob left at step 10.
    const partner: Probe = await ctx.openWithHello(`${ctx.b.user}(3)`);
    await partner.send({ type: 'login', user: ctx.b.user, password: ctx.b.password });
    await ctx.expect(partner, answerOf('welcome'), `an answer to ${ctx.b.user}'s login after the drop`, ctx.timeouts.answerMs, {
      timeout: 'answer a good login with welcome, also for a user whose earlier connection dropped.',
    });
    const vandal = await ctx.openWithHello('garbage');
    await vandal.send(GARBAGE.subarray(0, GARBAGE.indexOf(0x0a) + 1));
    // Its first line is surely read once answered (or once the server fell over): only then the rest, and the drop.
    await vandal.next(() => true, ctx.timeouts.answerMs);
    await vandal.send(GARBAGE.subarray(GARBAGE.indexOf(0x0a) + 1));
    vandal.drop();
    await alice.send({ type: 'say', text: ctx.texts.pairAsk });
    await expectRelayedTo(ctx, partner, ctx.a.user, ctx.texts.pairAsk, sentence(`${ctx.a.user}'s say never reached ${partner.name} after another client sent garbage and dropped.`, HINT));
    await partner.send({ type: 'say', text: ctx.texts.pairReply });
    await expectRelayedTo(ctx, alice, ctx.b.user, ctx.texts.pairReply, sentence(`${partner.name}'s answer never reached ${ctx.a.user} after another client sent garbage and dropped.`, HINT));
    partner.end();
    return `${nonceOf(ctx.texts.pairAsk)} and ${nonceOf(ctx.texts.pairReply)} went through`;
  },
};

/** The robustness checks (step 10), run after the other checks of their step. */
const SHARED_BUFFER_HINT =
  "keep the bytes received but not yet a whole line in that connection's session (session.pending), never in a variable all connections share: two clients' half frames must not mix.";

/**
 * Lesson 03's warning, "shared state by accident", where it bites first: the start of a frame not
 * yet complete belongs to its connection. Two connections each send the first half of a frame,
 * then the rest; a server with one buffer for everyone reads a mix of the two.
 */
const halvesOnTwoConnections: Check<ServerContext> = {
  id: '4.halves-on-two-connections',
  step: 4,
  title: 'two connections each send half a frame, then the rest: each frame is read whole, on its own connection',
  async run(ctx) {
    const probes = [await ctx.openWithHello('half-1'), await ctx.openWithHello('half-2')];
    // A type no server knows: whatever its step, the answer is unknown_type with the id (4.unknown-type).
    const frames = probes.map((probe) => ({ type: 'verify_half', id: probe.name }));
    const bytes = frames.map((frame) => encodeFrame(frame));
    const cuts = bytes.map((b) => Math.floor(b.length / 2));
    // First halves, then second halves, a pause between writes so each is a read of its own.
    for (const [index, probe] of probes.entries()) {
      await probe.send(bytes[index]!.subarray(0, cuts[index]), { frames: [] });
      await delay(20);
    }
    for (const [index, probe] of probes.entries()) {
      await probe.send(bytes[index]!.subarray(cuts[index]), { frames: [frames[index]!] });
      await delay(20);
    }
    for (const [index, probe] of probes.entries()) {
      const frame = frames[index]!;
      const what = `an answer to ${json(frame)}, sent in two halves while another connection sent its own`;
      const answer = await ctx.expect(probe, answerOf(), what, ctx.timeouts.answerMs, { timeout: SHARED_BUFFER_HINT, close: SHARED_BUFFER_HINT });
      if (errorCode(answer) !== 'unknown_type' || answer.frame!.id !== frame.id) {
        fail({
          summary: `${probe.name}'s frame, sent in two halves while another connection sent its own, was answered with ${errorCode(answer) ? `error ${errorCode(answer)}` : `"${answer.frame!.type}"`}, not error unknown_type with its id`,
          expected: json({ type: 'error', code: 'unknown_type', message: '…', id: frame.id }),
          received: showBytes(answer.raw),
          hint: SHARED_BUFFER_HINT,
          culprit: answer.seq,
        });
      }
    }
    for (const probe of probes) probe.end();
  },
};

export const robustnessChecks: Check<ServerContext>[] = [halvesOnTwoConnections, garbageThenDrop];
