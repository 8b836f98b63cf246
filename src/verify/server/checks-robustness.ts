import { sentence } from '../failure.ts';
import type { Probe } from '../probe.ts';
import type { Check } from '../runner.ts';
import { nonceOf } from '../nonce.ts';
import { answerOf, type ServerContext } from './context.ts';
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
  title: 'a client that sends garbage and drops does not disturb another pair\'s chat',
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
export const robustnessChecks: Check<ServerContext>[] = [garbageThenDrop];
