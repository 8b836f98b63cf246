import type { RawFrame } from '../../protocol/index.ts';
import { fail, seconds } from '../failure.ts';
import { nonce } from '../nonce.ts';
import type { Check } from '../runner.ts';
import type { UdpContext } from './context.ts';
import type { UdpProbe } from './udp-probe.ts';

const isType =
  (type: string) =>
  (frame: RawFrame): boolean =>
    frame.type === type;

/** Logs `probe` in as account `index`; fails unless the server answers welcome. */
async function logIn(ctx: UdpContext, probe: UdpProbe, index: number): Promise<void> {
  const { user, password } = ctx.account(index);
  probe.send({ type: 'login', user, password });
  const got = await ctx.expectFrame(
    probe,
    (frame) => frame.type === 'welcome' || frame.type === 'error',
    `{"type":"welcome","user":"${user}",…} in one datagram`,
    'answer a login datagram with one datagram holding the welcome, sent to the address the login came from (rinfo.address and rinfo.port in Node, the address recvfrom() returned in Python).',
  );
  const frame = got.frame as RawFrame;
  if (frame.type === 'error')
    fail({ summary: `the server refused ${user}'s login: ${String(frame.code)}`, received: got.raw.toString('utf8'), hint: 'check the accounts given to the verifier (--accounts or --user).' });
  if (frame.user !== user || !Array.isArray(frame.users) || !frame.users.includes(user)) {
    fail({
      summary: `the welcome does not name ${user} among the users online`,
      received: got.raw.toString('utf8'),
      hint: 'the welcome carries "user" and "users": everyone online, sorted, the new user included.',
    });
  }
}

/**
 * The checks of `chatlab verify --udp`: the chat over UDP, one frame per datagram, with no loss
 * injected. A short list, since UDP has no connection to accept or close: the server answers,
 * logs users in by address, relays to the others and not to the sender, lets a user quit, and
 * expires a peer that went silent (what step 10 becomes without a connection).
 */
export const UDP_CHECKS: readonly Check<UdpContext>[] = [
  {
    id: '1.udp-answers',
    step: 1,
    title: 'the server answers a datagram sent to its port',
    async run(ctx) {
      const probe = await ctx.probe('first');
      // Any answer will do: a pong, or an error for a type it does not know.
      probe.send({ type: 'ping' });
      const got = await probe.waitFor(() => true, ctx.timeouts.answerMs);
      if (!got) {
        const exit = ctx.supervisor ? await ctx.supervisor.exitDescription(50) : null;
        fail({
          summary: exit ? `the server ${exit}` : `no datagram came back within ${seconds(ctx.timeouts.answerMs)} for a ping sent to ${ctx.host}:${ctx.port}`,
          expected: 'any datagram back (a pong, or an error)',
          hint: 'bind a UDP socket (dgram.createSocket("udp4") in Node, socket(AF_INET, SOCK_DGRAM) in Python) to the PORT from the environment, and answer each datagram to the address it came from.',
          timeoutSeconds: ctx.timeouts.answerMs / 1000,
        });
      }
      probe.close();
    },
  },
  {
    id: '5.udp-login',
    step: 5,
    title: 'login by datagram: welcome to the sender, presence online to the others',
    async run(ctx) {
      ctx.alice = await ctx.probe('alice');
      await logIn(ctx, ctx.alice, 0);
      ctx.bob = await ctx.probe('bob');
      await logIn(ctx, ctx.bob, 1);
      const bob = ctx.account(1).user;
      await ctx.expectFrame(
        ctx.alice,
        (frame) => frame.type === 'presence' && frame.user === bob && frame.status === 'online',
        `{"type":"presence","user":"${bob}","status":"online"}`,
        'a login that succeeds is news for every other logged-in address: send each of them a presence online datagram.',
      );
      return `${ctx.account(0).user} and ${bob} logged in from two addresses`;
    },
  },
  {
    id: '7.udp-relay',
    step: 7,
    title: 'a say is relayed to the others as a message from its sender',
    async run(ctx) {
      const alice = ctx.alice as UdpProbe;
      const bob = ctx.bob as UdpProbe;
      const text = `over udp 👋 ${nonce()}`;
      alice.send({ type: 'say', text });
      const got = await ctx.expectFrame(
        bob,
        (frame) => frame.type === 'message' && frame.text === text,
        `{"type":"message","from":"${ctx.account(0).user}","text":"${text}","ts":…}`,
        'relay each say to every other logged-in address as a message, with "from" set to the name the sending address logged in as.',
      );
      if (got.frame?.from !== ctx.account(0).user)
        fail({
          summary: 'the relayed message does not name its sender in "from"',
          received: got.raw.toString('utf8'),
          hint: 'set "from" to the user the sending address logged in as, never to a field of the say.',
        });
    },
  },
  {
    id: '7.udp-no-echo',
    step: 7,
    title: 'the sender gets no copy of its own message',
    async run(ctx) {
      const alice = ctx.alice as UdpProbe;
      const bob = ctx.bob as UdpProbe;
      const text = `no echo ${nonce()}`;
      alice.send({ type: 'say', text });
      await ctx.expectFrame(bob, (frame) => frame.type === 'message' && frame.text === text, 'the second message', 'relay each say to the others.');
      // The echo, if any, was sent with bob's copy: a short quiet window is enough to see it.
      const echo = await alice.waitFor((frame) => frame.type === 'message' && frame.text === text, ctx.timeouts.quietMs);
      if (echo) {
        fail({
          summary: `${ctx.account(0).user} got her own message back`,
          received: echo.raw.toString('utf8'),
          hint: 'relay to every logged-in address except the one the say came from: its own screen already shows what it typed.',
        });
      }
    },
  },
  {
    id: '9.udp-quit',
    step: 9,
    title: 'quit: bye to the sender, presence offline to the others',
    async run(ctx) {
      const alice = ctx.alice as UdpProbe;
      const bob = ctx.bob as UdpProbe;
      const name = ctx.account(1).user;
      bob.send({ type: 'quit' });
      await ctx.expectFrame(bob, isType('bye'), '{"type":"bye"}', 'answer quit with a bye datagram to that address, then forget who it was.');
      await ctx.expectFrame(
        alice,
        (frame) => frame.type === 'presence' && frame.user === name && frame.status === 'offline',
        `{"type":"presence","user":"${name}","status":"offline"}`,
        'after a quit, tell every other logged-in address that the user went offline.',
      );
      bob.close();
    },
  },
  {
    id: '10.udp-expiry',
    step: 10,
    title: 'a peer that goes silent is expired and announced offline',
    async run(ctx) {
      const alice = ctx.alice as UdpProbe;
      const name = ctx.account(2).user;
      ctx.carol = await ctx.probe('carol');
      await logIn(ctx, ctx.carol, 2);
      await ctx.expectFrame(
        alice,
        (frame) => frame.type === 'presence' && frame.user === name && frame.status === 'online',
        `{"type":"presence","user":"${name}","status":"online"}`,
        'announce every login to the others.',
      );
      // carol now says nothing at all, like a client that crashed; alice stays alive with pings.
      const silentSince = performance.now();
      const stop = ctx.keepAlive(alice);
      try {
        const offline = await alice.waitFor((frame) => frame.type === 'presence' && frame.user === name && frame.status === 'offline', ctx.expiryMs);
        if (!offline) {
          fail({
            summary: `${name} has been silent for ${seconds(ctx.expiryMs)} and is still online for the others: the server never expires a silent peer`,
            expected: `{"type":"presence","user":"${name}","status":"offline",…} within ${seconds(ctx.expiryMs)}`,
            hint: 'without a connection, silence is the only sign that a peer is gone: note when you last heard from each logged-in address, and every second forget those silent for longer than your timeout (a few seconds; clients ping meanwhile), telling the others with presence offline.',
            timeoutSeconds: ctx.expiryMs / 1000,
          });
        }
        return `${name} expired after ${seconds(performance.now() - silentSince)} of silence`;
      } finally {
        stop();
      }
    },
  },
];
