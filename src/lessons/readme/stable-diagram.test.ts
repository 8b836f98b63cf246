import { describe, expect, it } from 'vitest';
import { EventScript, tlsHandshakeMessage, tlsRecord, tlsSession } from '../../../test-support/event-script.ts';
import { readTrace } from '../../inspector/trace.ts';
import { findLesson, type Lesson, tracePath } from '../runtime/index.ts';
import { stableDiagram } from './stable-diagram.ts';

type Closing = 'offline to bob' | 'server FIN' | 'client FIN' | 'bob says';

/**
 * alice and bob log in; alice quits. After her bye, the presence to bob and the two FINs of
 * alice's connection come in the order given (they race in a real run); `bob says` puts a
 * frame from bob among them.
 */
function aliceQuits(order: Closing[], options: { serverPort?: number; peers?: [number, number]; welcomeFirst?: boolean } = {}): EventScript {
  const [alicePort, bobPort] = options.peers ?? [50_001, 50_002];
  const s = new EventScript().listening({ host: '127.0.0.1', port: options.serverPort ?? 7070 });
  s.connect(1, `127.0.0.1:${alicePort}`).s2c(1, { type: 'hello', protocol: 'chatlab/1' });
  s.c2s(1, { type: 'login', user: 'alice', password: 'wonderland' }).s2c(1, { type: 'welcome', user: 'alice', users: ['alice'] });
  s.connect(2, `127.0.0.1:${bobPort}`).s2c(2, { type: 'hello', protocol: 'chatlab/1' });
  s.c2s(2, { type: 'login', user: 'bob', password: 'builder' });
  const welcome = (): void => void s.s2c(2, { type: 'welcome', user: 'bob', users: ['alice', 'bob'] });
  const online = (): void => void s.s2c(1, { type: 'presence', user: 'bob', status: 'online' });
  if (options.welcomeFirst === false) {
    online();
    welcome();
  } else {
    welcome();
    online();
  }
  s.c2s(1, { type: 'quit' }).s2c(1, { type: 'bye' });
  for (const what of order) {
    if (what === 'offline to bob') s.s2c(2, { type: 'presence', user: 'alice', status: 'offline' });
    if (what === 'server FIN') s.fin(1, 's2c');
    if (what === 'client FIN') s.fin(1, 'c2s');
    if (what === 'bob says') s.c2s(2, { type: 'say', text: 'bye alice' });
  }
  s.close(1, 'server').close(1, 'client');
  return s;
}

const stable = (script: EventScript): string => stableDiagram(script.events);

describe('stableDiagram', () => {
  const reference = stable(aliceQuits(['offline to bob', 'server FIN', 'client FIN']));

  it('is the same whichever order the closings after a bye raced in', () => {
    const orders: Closing[][] = [
      ['offline to bob', 'client FIN', 'server FIN'],
      ['server FIN', 'offline to bob', 'client FIN'],
      ['server FIN', 'client FIN', 'offline to bob'],
      ['client FIN', 'offline to bob', 'server FIN'],
      ['client FIN', 'server FIN', 'offline to bob'],
    ];
    for (const order of orders) expect(stable(aliceQuits(order)), order.join(', ')).toBe(reference);
  });

  it('ignores the ports picked at random: the server is 7070, clients are *', () => {
    expect(stable(aliceQuits(['offline to bob', 'server FIN', 'client FIN'], { serverPort: 39_415, peers: [41_572, 41_578] }))).toBe(reference);
    expect(reference).toContain('server is listening on 127.0.0.1:7070');
    expect(reference).toContain('TCP connection from 127.0.0.1:* accepted');
  });

  it('ignores TLS records: their sizes and how they fall into reads change on every run', () => {
    const split = tlsSession();
    // The same session, but the server's flight comes in two reads and its signature is a byte longer.
    const other = new EventScript().listening();
    other.connect(1);
    other.bytes(1, 'c2s', tlsRecord(0x16, tlsHandshakeMessage(1, 340), 0x01));
    other.bytes(1, 's2c', Buffer.concat([tlsRecord(0x16, tlsHandshakeMessage(2, 118)), tlsRecord(0x14, Buffer.from([1]))]));
    other.bytes(1, 's2c', Buffer.concat([tlsRecord(0x17, 23), tlsRecord(0x17, 526)]));
    other.bytes(1, 'c2s', Buffer.concat([tlsRecord(0x14, Buffer.from([1])), tlsRecord(0x17, 69)]));
    other.bytes(1, 's2c', tlsRecord(0x17, 68)).bytes(1, 's2c', tlsRecord(0x17, 68));
    other.bytes(1, 'c2s', tlsRecord(0x17, 73));
    other.connect(2).c2s(2, { type: 'login', user: 'dave', password: 'davesecret' });
    other.fin(2, 's2c').fin(2, 'c2s').close(2, 'server').close(2, 'client');
    other.bytes(1, 'c2s', tlsRecord(0x17, 19));
    other.closeBoth(1);
    expect(stable(other)).toBe(stable(split));
    // What stays: the one-time note that the checklist cannot look inside.
    expect(stable(split)).toContain('TLS: the frames inside are encrypted');
  });

  it('still tells a real change apart', () => {
    // The server announces bob before welcoming him.
    expect(stable(aliceQuits(['offline to bob', 'server FIN', 'client FIN'], { welcomeFirst: false }))).not.toBe(reference);
    // The server never closes its side.
    expect(stable(aliceQuits(['offline to bob', 'client FIN']))).not.toBe(reference);
    // The server closes before its bye: one connection and direction keep their order.
    const early = new EventScript().listening();
    early.connect(1).s2c(1, { type: 'hello', protocol: 'chatlab/1' }).c2s(1, { type: 'quit' }).fin(1, 's2c').s2c(1, { type: 'bye' }).fin(1, 'c2s');
    const late = new EventScript().listening();
    late.connect(1).s2c(1, { type: 'hello', protocol: 'chatlab/1' }).c2s(1, { type: 'quit' }).s2c(1, { type: 'bye' }).fin(1, 's2c').fin(1, 'c2s');
    expect(stable(early)).not.toBe(stable(late));
    // The client closes before the bye came (it reacts to the bye, so this is a change too).
    const hasty = new EventScript().listening();
    hasty.connect(1).s2c(1, { type: 'hello', protocol: 'chatlab/1' }).c2s(1, { type: 'quit' }).fin(1, 'c2s').s2c(1, { type: 'bye' }).fin(1, 's2c');
    expect(stable(hasty)).not.toBe(stable(late));
    // A client speaks before, not after, another connection closed: that is the script's order.
    expect(stable(aliceQuits(['offline to bob', 'bob says', 'server FIN', 'client FIN']))).not.toBe(stable(aliceQuits(['offline to bob', 'server FIN', 'client FIN', 'bob says'])));
  });

  it('reads a committed lesson trace', async () => {
    const lesson = findLesson(10) as Lesson;
    const text = stableDiagram(await readTrace(tracePath(lesson)));
    expect(text).toMatch(/^S [^\n]*127\.0\.0\.1:7070$/m);
    expect(text).toContain('C1 frame S: [8] quit');
    expect(text).toMatch(/^steps seen: 1 2 3 4 5 8 9 10$/m);
  });
});
