/**
 * Step 7, after the relay's happy path: the rules that decide who receives a frame, and the
 * request-id rule. Kept apart from checks-relay.ts so that each rule has its own check id.
 */
import type { Feature, RawFrame } from '../../protocol/index.ts';
import { showBytes } from '../bytes.ts';
import { fail, sentence } from '../failure.ts';
import { nonce, nonceOf } from '../nonce.ts';
import type { Probe, Received } from '../probe.ts';
import type { Check } from '../runner.ts';
import { answerOf, errorCode, json, type ServerContext } from './context.ts';

/** Largest integer id: 2^53−1, the largest integer every JSON parser reads back exactly. */
const LARGEST_ID = Number.MAX_SAFE_INTEGER;

function carries(text: string): (received: Received) => boolean {
  const tag = nonceOf(text);
  return (r) => r.frame?.type === 'message' && typeof r.frame.text === 'string' && r.frame.text.includes(tag);
}

/** Whether an error message names a field (`to`, "to", or to as a word). */
function namesField(message: unknown, field: string): boolean {
  return typeof message === 'string' && new RegExp(`(^|[^A-Za-z0-9_])${field}([^A-Za-z0-9_]|$)`).test(message);
}

/**
 * A barrier: `sender` says a fresh text and every other logged-in user must receive it. TCP keeps
 * each connection's order, so whatever the server relayed before it has arrived by then; a frame
 * that should have reached nobody and is still absent was really not sent.
 */
async function barrier(ctx: ServerContext, sender: Probe): Promise<void> {
  const text = `barrier ${nonce()}`;
  await sender.send({ type: 'say', text });
  for (const probe of ctx.others(sender)) {
    await ctx.expect(probe, carries(text), `${sender.name}'s plain say on ${probe.name}'s connection`, ctx.timeouts.answerMs, {
      timeout: 'after an error, the same connection must keep chatting: relay the next plain say as usual.',
    });
  }
}

/** Fails if any of `probes` received a message carrying `text`. */
function requireNotReceived(probes: Probe[], text: string, summary: (probe: Probe) => string, hint: string): void {
  for (const probe of probes) {
    const leaked = probe.unconsumed(carries(text))[0];
    if (leaked) fail({ summary: summary(probe), received: showBytes(leaked.raw), hint, culprit: leaked.seq });
  }
}

/** Waits for the direct answer (ok or error) with the request's id on `probe`. */
async function answerTo(ctx: ServerContext, probe: Probe, request: RawFrame, timeoutHint: string): Promise<Received> {
  return ctx.expect(probe, (r) => answerOf('ok')(r) && (r.frame?.id === request.id || r.frame?.type === 'error'), `an answer to ${json(request)}`, ctx.timeouts.answerMs, {
    timeout: timeoutHint,
  });
}

/** How one routing field is checked: the feature that supports it, and the frame that uses it. */
interface Routing {
  field: 'to' | 'room';
  feature: Feature;
  /** What the field would do, for the messages ("a private message"). */
  meaning: string;
}

/**
 * A `say` with a routing field. Advertised: it goes where the field says (a private message to
 * bob only; a lobby message to everyone else). Not advertised: `bad_request` naming the field and
 * nobody receives it, since relaying it to everyone would publish what was meant for a few.
 */
async function checkRouting(ctx: ServerContext, { field, feature, meaning }: Routing): Promise<string> {
  const alice = ctx.alice!;
  const bob = ctx.bob!;
  const text = `${meaning} ${nonce()}`;
  const advertised = ctx.advertises(feature);
  // A room the sender never joined cannot be spoken in; lobby holds everyone (rooms extension).
  const value = field === 'to' ? ctx.b.user : advertised ? 'lobby' : 'verify-secret';
  const request = { type: 'say', text, [field]: value, id: `route-${field}` };
  await alice.send(request);
  const answer = await answerTo(
    ctx,
    alice,
    request,
    advertised
      ? `your hello advertises "${feature}": answer a say with "${field}" and an id with {"type":"ok","id":…}.`
      : `a server without "${feature}" in hello.features must answer a say with "${field}" with {"type":"error","code":"bad_request","message":"… ${field} …"}.`,
  );
  const code = errorCode(answer);
  if (advertised) {
    if (code !== null) {
      fail({
        summary: `the server advertises "${feature}" but answered error ${code} to ${meaning}`,
        expected: json({ type: 'ok', id: request.id }),
        received: showBytes(answer.raw),
        hint: `either support "${field}" on say as docs/protocol-extensions.md describes, or leave "${feature}" out of hello.features.`,
        culprit: answer.seq,
      });
    }
    const recipients = field === 'to' ? [bob] : ctx.others(alice);
    for (const probe of recipients) {
      await ctx.expect(probe, carries(text), `${meaning} from ${alice.name} on ${probe.name}'s connection`, ctx.timeouts.answerMs, {
        timeout: `deliver a say with "${field}":"${value}" to ${field === 'to' ? 'that user' : 'every other member of the room'} as a message.`,
      });
    }
    await barrier(ctx, alice);
    const outsiders = [ctx.idle, ctx.guest, ...ctx.others(alice).filter((p) => !recipients.includes(p))].filter((p): p is Probe => p !== undefined);
    requireNotReceived(outsiders, text, (probe) => `${meaning} to ${value} reached ${probe.name}`, `deliver a say with "to" to the named user only.`);
    return `"${feature}" advertised: delivered to ${recipients.map((p) => p.name).join(', ')} only`;
  }
  if (code !== 'bad_request' || !namesField(answer.frame!.message, field)) {
    await barrier(ctx, alice).catch(() => undefined);
    const leaks = ctx.others(alice).flatMap((probe) => probe.unconsumed(carries(text)).map((received) => ({ probe, received })));
    const leakedTo = leaks.map(({ probe }) => probe);
    fail({
      summary:
        leakedTo.length > 0
          ? `${meaning} ("${field}":"${value}") was relayed to ${leakedTo.map((p) => p.name).join(' and ')}: the server ignored "${field}", which leaks it to everyone`
          : code === 'bad_request'
            ? `the server answered bad_request to a say with "${field}" but its message does not name the field "${field}"`
            : `a say with "${field}" was answered with ${code ? `error ${code}` : `"${answer.frame!.type}"`}, not error bad_request naming "${field}"`,
      expected: json({ type: 'error', code: 'bad_request', message: `this server does not support "${field}"`, id: request.id }),
      received: showBytes(answer.raw),
      hint: sentence(
        `your hello advertises no "${feature}", so "${field}" is a field you do not support: answer a say that has one with error bad_request naming "${field}", and relay nothing.`,
        `"Unknown fields are ignored" does not apply to "to" and "room": they decide who receives a frame, and relaying ${meaning} to everyone is a privacy leak.`,
      ),
      // Mark a copy that reached someone it was not meant for (for `to`, anyone but bob).
      culprit: (leaks.find(({ probe }) => field !== 'to' || probe !== bob) ?? leaks[0])?.received.seq ?? answer.seq,
    });
  }
  await barrier(ctx, alice);
  requireNotReceived(
    [...ctx.others(alice), ctx.idle, ctx.guest].filter((p): p is Probe => p !== undefined),
    text,
    (probe) => `${meaning} refused with bad_request still reached ${probe.name}`,
    `a refused say is not relayed at all: answer bad_request and stop there.`,
  );
  return `core only: bad_request naming "${field}", relayed to nobody`;
}

const routingTo: Check<ServerContext> = {
  id: '7.routing-to',
  step: 7,
  title: 'a say with "to" reaches only that user, or is refused with bad_request naming "to" (never relayed to everyone)',
  run: (ctx) => checkRouting(ctx, { field: 'to', feature: 'private', meaning: 'a private message' }),
};

const routingRoom: Check<ServerContext> = {
  id: '7.routing-room',
  step: 7,
  title: 'a say with "room" goes to that room, or is refused with bad_request naming "room"',
  run: (ctx) => checkRouting(ctx, { field: 'room', feature: 'rooms', meaning: 'a room message' }),
};

/** The ids a server must echo unchanged, and the ones it must refuse. */
const GOOD_IDS: { what: string; id: string | number }[] = [
  { what: 'a 64-character string', id: `v${'-'.repeat(56)}${nonce().slice(1).padEnd(7, '0')}` },
  { what: 'a negative integer', id: -7 },
  { what: '2^53−1', id: LARGEST_ID },
];
const BAD_IDS: { what: string; id: unknown; raw: string }[] = [
  { what: 'an object', id: { n: 1 }, raw: '{"n":1}' },
  { what: 'a 65-character string', id: 'x'.repeat(65), raw: `"${'x'.repeat(65)}"` },
  { what: '1.5', id: 1.5, raw: '1.5' },
  { what: '2^53', id: 2 ** 53, raw: '9007199254740992' },
];

const requestIds: Check<ServerContext> = {
  id: '7.request-ids',
  step: 7,
  title: 'ids of every allowed kind are echoed unchanged; any other id gets bad_request',
  async run(ctx) {
    const alice = ctx.alice!;
    const relayed: string[] = [];
    for (const { what, id } of GOOD_IDS) {
      const text = `id ${what} ${nonce()}`;
      relayed.push(text);
      const request = { type: 'say', text, id };
      await alice.send(request);
      const example = json({ type: 'ok', id });
      const answer = await ctx.expect(alice, answerOf('ok'), `${example} on ${alice.name}'s connection`, ctx.timeouts.answerMs, {
        timeout: `an id may be a string of at most 64 characters or an integer within ±(2^53−1): answer ${json(request)} with ${example}.`,
      });
      // Compare as JSON: 2^53−1 read as a float and written back as 9.007199254740991e15 is not the same id.
      const echoed = answer.raw.toString('utf8').match(/"id"\s*:\s*(-?[\d.eE+-]+|"(?:[^"\\]|\\.)*")/)?.[1];
      if (answer.frame!.type !== 'ok' || answer.frame!.id !== id || (typeof id === 'number' && echoed !== String(id))) {
        fail({
          summary:
            answer.frame!.type === 'ok'
              ? `the id ${what} came back as ${echoed ?? JSON.stringify(answer.frame!.id)}, not ${JSON.stringify(id)}`
              : `a say whose id is ${what} was answered with ${errorCode(answer) ? `error ${errorCode(answer)}` : `"${answer.frame!.type}"`}`,
          expected: example,
          received: showBytes(answer.raw),
          hint:
            typeof id === 'number'
              ? 'copy a number id exactly as sent: keep integers as integers (in Python, json.loads gives an int; never convert it to float or string).'
              : 'copy a string id exactly as sent; strings of up to 64 characters are valid ids.',
          culprit: answer.seq,
        });
      }
    }
    for (const text of relayed) {
      for (const probe of ctx.others(alice)) {
        await ctx.expect(probe, carries(text), `${alice.name}'s say with an id on ${probe.name}'s connection`, ctx.timeouts.answerMs, {
          timeout: 'a say with an id is relayed like any other say (the id is for the ok only).',
        });
      }
    }
    const texts: string[] = [];
    for (const { what, raw } of BAD_IDS) {
      const text = `bad id ${what} ${nonce()}`;
      texts.push(text);
      // Sent as raw bytes: 2^53 must reach the server as written, not as a JS number's text.
      const line = `{"type":"say","text":${JSON.stringify(text)},"id":${raw}}`;
      await alice.send(Buffer.from(`${line}\n`), { frames: [JSON.parse(line) as RawFrame] });
      const answer = await ctx.expect(alice, answerOf('ok'), `an answer to a say whose id is ${what}`, ctx.timeouts.answerMs, {
        timeout: `an id is a string of at most 64 characters or an integer within ±(2^53−1): answer a say whose id is ${what} with error bad_request.`,
      });
      const echoed = answer.frame!.id !== undefined;
      if (errorCode(answer) !== 'bad_request' || echoed) {
        fail({
          summary:
            echoed && errorCode(answer) === 'bad_request'
              ? `the invalid id (${what}) was echoed in the error`
              : `a say whose id is ${what} was answered with ${errorCode(answer) ? `error ${errorCode(answer)}` : `"${answer.frame!.type}"`}, not error bad_request`,
          expected: json({ type: 'error', code: 'bad_request', message: 'field "id" must be a string of at most 64 characters or an integer within ±(2^53−1)' }),
          received: showBytes(answer.raw),
          hint: 'a valid id is a string of at most 64 characters or a whole number within ±(2^53−1) (9007199254740991); answer any other id with bad_request naming "id", without an id (an invalid id is never echoed), and do nothing else with the frame.',
          culprit: answer.seq,
        });
      }
    }
    await barrier(ctx, alice);
    for (const text of texts) {
      requireNotReceived(
        ctx.others(alice),
        text,
        (probe) => `a say with an invalid id was refused but still reached ${probe.name}`,
        'a refused frame has no effect: answer bad_request and relay nothing.',
      );
    }
    return `${GOOD_IDS.length} ids echoed, ${BAD_IDS.length} refused`;
  },
};

/** The step-7 checks of who receives a frame and of request ids, in order. */
export const routingChecks: Check<ServerContext>[] = [routingTo, routingRoom, requestIds];
