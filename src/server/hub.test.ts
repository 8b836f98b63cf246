import { describe, expect, it } from 'vitest';
import { Hub, type Member } from './hub.ts';
import { LocalRecipients } from './recipients.ts';

function member(user: string): Member & { got: Buffer[] } {
  const got: Buffer[] = [];
  return { user, got, deliver: (bytes) => void got.push(bytes) };
}

describe('Hub', () => {
  it('knows who is online, sorted, and refuses a second member of the same name', () => {
    const hub = new Hub();
    const [carol, alice, bob] = [member('carol'), member('alice'), member('bob')];
    for (const m of [carol, alice, bob]) expect(hub.join(m)).toBe(true);
    expect(hub.join(member('alice'))).toBe(false);
    expect(hub.users()).toEqual(['alice', 'bob', 'carol']);
    expect(hub.leave(member('alice'))).toBe(false); // not the registered one
    expect(hub.leave(alice)).toBe(true);
    expect(hub.users()).toEqual(['bob', 'carol']);
    expect(hub.isOnline('alice')).toBe(false);
  });

  it('sorts by code point, the same order in every language', () => {
    const hub = new Hub();
    for (const name of ['bob', 'Zed', '_x', 'alice', '9lives']) hub.join(member(name));
    expect(hub.users()).toEqual(['9lives', 'Zed', '_x', 'alice', 'bob']);
  });

  it('keeps the list sorted through many joins and leaves in any order', () => {
    const hub = new Hub();
    const names = Array.from({ length: 200 }, (_, i) => `u${(i * 7919) % 200}`);
    const members = new Map(names.map((name) => [name, member(name)]));
    for (const name of names) hub.join(members.get(name) as Member);
    const gone = names.filter((_, i) => i % 3 === 0);
    for (const name of gone) hub.leave(members.get(name) as Member);
    const expected = names.filter((name) => !gone.includes(name)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(hub.users()).toEqual(expected);
    const copy = hub.users();
    copy.pop(); // a fresh array each time: the caller may change it
    expect(hub.users()).toEqual(expected);
  });

  it('encodes a broadcast once and hands the same buffer to every recipient but the sender', () => {
    const hub = new Hub();
    const [alice, bob, carol] = [member('alice'), member('bob'), member('carol')];
    [alice, bob, carol].forEach((m) => hub.join(m));
    const count = hub.send({ type: 'message', from: 'alice', text: 'hi', ts: 1 }, { room: 'lobby' }, alice);
    expect(count).toBe(2);
    expect(alice.got).toEqual([]);
    expect(bob.got[0]).toBe(carol.got[0]); // the very same Buffer
    expect(bob.got[0]?.toString()).toBe('{"type":"message","from":"alice","text":"hi","ts":1}\n');
  });

  it('routes to one user, and to nobody in a room that does not exist', () => {
    const hub = new Hub();
    const [alice, bob] = [member('alice'), member('bob')];
    [alice, bob].forEach((m) => hub.join(m));
    expect(hub.send({ type: 'ok' }, { user: 'bob' })).toBe(1);
    expect(alice.got).toHaveLength(0);
    expect(hub.send({ type: 'ok' }, { room: 'kitchen' })).toBe(0);
  });

  it('reaches a room’s members only, and skips the one excepted', () => {
    const hub = new Hub();
    const [alice, bob, carol] = [member('alice'), member('bob'), member('carol')];
    [alice, bob, carol].forEach((m) => hub.join(m));
    hub.enterRoom(alice, 'rust');
    hub.enterRoom(carol, 'rust');
    expect([...hub.recipients({ room: 'rust' })].map((m) => m.user)).toEqual(['alice', 'carol']);
    expect(hub.send({ type: 'ok' }, { room: 'rust' }, carol)).toBe(1);
    expect([alice.got.length, bob.got.length, carol.got.length]).toEqual([1, 0, 0]);
    expect(hub.sendTo({ type: 'ok' }, [alice, bob, carol], bob)).toBe(2);
    expect([alice.got.length, bob.got.length, carol.got.length]).toEqual([2, 0, 1]);
  });
});

describe('Hub recipient set', () => {
  it('delivers every send through the recipient set it was given, which still encodes once', () => {
    const audiences: unknown[] = [];
    const hub = new Hub({
      recipients: (directory) => {
        const local = new LocalRecipients(directory);
        return {
          send: (frame, audience, except) => (audiences.push(audience), local.send(frame, audience, except)),
          sendTo: (frame, members, except) => (audiences.push('list'), local.sendTo(frame, members, except)),
        };
      },
    });
    const [alice, bob, carol] = [member('alice'), member('bob'), member('carol')];
    [alice, bob, carol].forEach((m) => hub.join(m));
    expect(hub.send({ type: 'message', from: 'alice', text: 'hi', ts: 1 }, { room: 'lobby' }, alice)).toBe(2);
    expect(hub.send({ type: 'ok' }, { user: 'bob' })).toBe(1);
    expect(hub.sendTo({ type: 'ok' }, [alice, carol])).toBe(2);
    expect(audiences).toEqual([{ room: 'lobby' }, { user: 'bob' }, 'list']);
    expect(bob.got[0]).toBe(carol.got[0]);
    expect([alice.got.length, bob.got.length, carol.got.length]).toEqual([1, 2, 2]);
  });

  it('lists an admitted member only once it is announced online; it is reachable from its admission', () => {
    const hub = new Hub();
    const [alice, bob] = [member('alice'), member('bob')];
    hub.join(alice);
    expect(hub.admit(bob)).toBe(true);
    expect(hub.admit(member('bob'))).toBe(false);
    expect(hub.isOnline('bob')).toBe(true);
    expect(hub.isListed(bob)).toBe(false);
    expect(hub.users()).toEqual(['alice']);
    expect(hub.roomUsers('lobby')).toEqual(['alice']);
    expect(hub.roomList()).toEqual([{ room: 'lobby', users: 1 }]);
    expect(hub.usersWith(bob)).toEqual(['alice', 'bob']); // its own welcome names it
    expect(hub.usersWith(alice)).toEqual(['alice']);
    const carol = member('carol');
    hub.admit(carol);
    expect(hub.usersWith(bob)).toEqual(['alice', 'bob']); // not carol, admitted meanwhile
    expect(hub.users()).toEqual(['alice']);
    hub.leave(carol);
    expect(hub.send({ type: 'ok' }, { user: 'bob' })).toBe(1);

    expect(hub.announceOnline(bob)).toBe(1);
    expect(alice.got.map((bytes) => JSON.parse(bytes.toString()))).toEqual([{ type: 'presence', user: 'bob', status: 'online' }]);
    expect(hub.isListed(bob)).toBe(true);
    expect(hub.users()).toEqual(['alice', 'bob']);
    expect(hub.roomList()).toEqual([{ room: 'lobby', users: 2 }]);
    expect(hub.list(bob)).toBe(false); // once
    expect(hub.users()).toEqual(['alice', 'bob']);
  });

  it('takes out a member that was never listed without touching the list', () => {
    const hub = new Hub();
    const [alice, bob, carol] = [member('alice'), member('bob'), member('carol')];
    hub.join(alice);
    hub.join(carol);
    hub.admit(bob);
    expect(hub.leave(bob)).toBe(true);
    expect(hub.users()).toEqual(['alice', 'carol']);
    expect(hub.list(bob)).toBe(false); // gone: never listed
    expect(hub.users()).toEqual(['alice', 'carol']);
  });
});
