import { describe, expect, it } from 'vitest';
import { encodeFrame, type RawFrame } from '../protocol/index.ts';
import { FakePeer } from '../../test-support/fake-peer.ts';
import { ManualClock } from '../../test-support/manual-clock.ts';
import type { PeerHandler } from './peer.ts';
import { LATE_RELAY_MS, PeerMember, ReplayGate } from './peer-member.ts';

const lobby = (msgid: number): Buffer => encodeFrame({ type: 'message', from: 'alice', room: 'lobby', text: `m${msgid}`, ts: 1, msgid });
const inDev = (msgid: number): Buffer => encodeFrame({ type: 'message', from: 'alice', room: 'dev', text: `d${msgid}`, ts: 1, msgid });
const presence = encodeFrame({ type: 'presence', user: 'carol', status: 'online' });

const IGNORE: PeerHandler = { receive() {}, peerEnded() {}, overflowed() {}, failed() {}, socketError() {}, closed() {} };

function setUp(): { clock: ManualClock; peer: FakePeer; member: PeerMember } {
  const clock = new ManualClock();
  const peer = new FakePeer('bob', 1, '127.0.0.1', IGNORE, clock, 1_000);
  return { clock, peer, member: new PeerMember('bob', peer, clock) };
}

const texts = (frames: RawFrame[]): unknown[] => frames.map((frame) => frame.text ?? frame.type);

describe('PeerMember', () => {
  it('holds deliveries behind its gate; then they follow, without the messages the replay covered', () => {
    const { peer, member } = setUp();
    member.gate = new ReplayGate(10_000);
    for (const bytes of [lobby(4), presence, inDev(5), lobby(6)]) member.deliver(bytes);
    expect(peer.received).toEqual([]);
    expect(member.openGate(new Map([['#lobby', 5]]))).toBe(true);
    expect(texts(peer.received.splice(0))).toEqual(['presence', 'd5', 'm6']);
  });

  it('drops late relays of what a replay covered for a while, then delivers everything again', () => {
    const { clock, peer, member } = setUp();
    member.gate = new ReplayGate(10_000);
    member.openGate(new Map([['#lobby', 5]]));
    member.deliver(lobby(3)); // committed before the read, relayed after the gate opened
    member.deliver(inDev(2)); // another conversation: not covered
    member.deliver(lobby(7));
    expect(texts(peer.received.splice(0))).toEqual(['d2', 'm7']);
    clock.advance(LATE_RELAY_MS + 1);
    member.deliver(lobby(4));
    expect(texts(peer.received.splice(0))).toEqual(['m4']);
  });

  it('judges one broadcast buffer the same for every member it reaches, and each new buffer on its own', () => {
    const { clock } = setUp();
    const members = ['bob', 'carol'].map((user) => {
      const peer = new FakePeer(user, 1, '127.0.0.1', IGNORE, clock, 1_000);
      const member = new PeerMember(user, peer, clock);
      member.gate = new ReplayGate(10_000);
      member.openGate(new Map([['#lobby', 5]]));
      return { peer, member };
    });
    const late = lobby(5);
    const live = lobby(6);
    for (const bytes of [late, live, late, inDev(5), encodeFrame({ type: 'message', from: 'alice', room: 'lobby', text: 'same text', ts: 1, msgid: 4 })]) {
      for (const { member } of members) member.deliver(bytes);
    }
    for (const { peer } of members) expect(texts(peer.received.splice(0))).toEqual(['m6', 'd5']);
  });

  it('is bounded: past its bytes the gate drops what it held, and opening it says so', () => {
    const { peer, member } = setUp();
    const one = lobby(1);
    member.gate = new ReplayGate(one.length * 2);
    member.deliver(one);
    member.deliver(lobby(2));
    member.deliver(lobby(3));
    expect(member.openGate(new Map())).toBe(false);
    expect(peer.received).toEqual([]);
  });
});
