import { describe, expect, it } from 'vitest';
import { encodeFrame, type ServerFrame } from '../../protocol/index.ts';
import type { Member } from '../recipients.ts';
import { ClusterHub, type Backplane, type OutgoingHeader } from './cluster-hub.ts';

/** A backplane that records what the hub asks of it (no Redis: the hub's own logic only). */
class RecordingBackplane implements Backplane {
  published: Array<{ header: OutgoingHeader; frame: Buffer | undefined }> = [];
  claimed = new Set<string>();
  released: string[] = [];
  rooms: string[] = [];
  claim(user: string): Promise<boolean> {
    if (this.claimed.has(user)) return Promise.resolve(false);
    this.claimed.add(user);
    return Promise.resolve(true);
  }
  joined(user: string): void {
    this.published.push({ header: { k: 'on', u: user } as unknown as OutgoingHeader, frame: undefined });
  }
  release(user: string): void {
    this.released.push(user);
  }
  roomChanged(user: string, room: string, entered: boolean): void {
    this.rooms.push(`${user} ${entered ? 'in' : 'out'} ${room}`);
  }
  publish(header: OutgoingHeader, frame?: Buffer): void {
    this.published.push({ header, frame });
  }
}

function localMember(user: string): Member & { got: Buffer[] } {
  const got: Buffer[] = [];
  return { user, got, deliver: (bytes) => void got.push(bytes) };
}

function hubWith(backplane = new RecordingBackplane()): { hub: ClusterHub; backplane: RecordingBackplane } {
  const hub = new ClusterHub();
  hub.attach(backplane);
  return { hub, backplane };
}

const message: ServerFrame = { type: 'message', from: 'alice', room: 'lobby', text: 'hi', ts: 1, msgid: 1 };

describe('ClusterHub', () => {
  it('publishes a broadcast ONCE however many members other nodes hold, and hands local members the same buffer', async () => {
    const { hub, backplane } = hubWith();
    const alice = localMember('alice');
    const bob = localMember('bob');
    expect(await hub.admit(alice)).toBe(true);
    expect(await hub.admit(bob)).toBe(true);
    for (const [user, node] of [
      ['carol', 'n2/x'],
      ['dave', 'n2/x'],
      ['erin', 'n3/y'],
    ] as const)
      hub.receive({ n: node, k: 'on', u: user }, Buffer.alloc(0), 'n1/self');
    expect(hub.users()).toEqual([]); // reachable, none announced yet

    backplane.published = []; // the two logins' announcements
    expect(hub.send(message, { room: 'lobby' }, alice)).toBe(4);
    expect(backplane.published).toHaveLength(1);
    expect(backplane.published[0]?.header).toEqual({ k: 'r', r: 'lobby' });
    expect(backplane.published[0]?.frame).toEqual(encodeFrame(message));
    expect(bob.got).toHaveLength(1);
    expect(bob.got[0]).toBe(backplane.published[0]?.frame); // encoded once, shared
    expect(alice.got).toEqual([]);
  });

  it('publishes a room broadcast once even when the replica names nobody there elsewhere (it lags); a frame for local users only, never', async () => {
    const { hub, backplane } = hubWith();
    const alice = localMember('alice');
    const bob = localMember('bob');
    await hub.admit(alice);
    await hub.admit(bob);
    hub.receive({ n: 'n2/x', k: 'on', u: 'carol' }, Buffer.alloc(0), 'n1/self');
    hub.enterRoom(alice, 'dev');
    hub.enterRoom(bob, 'dev');
    backplane.published = []; // the two logins' announcements
    expect(hub.send(message, { room: 'dev' }, alice)).toBe(1);
    expect(backplane.published).toEqual([{ header: { k: 'r', r: 'dev' }, frame: bob.got[0] }]);
    expect(backplane.rooms).toEqual(['alice in dev', 'bob in dev']);
    backplane.published = [];
    expect(hub.send(message, { user: 'bob' })).toBe(1);
    expect(hub.sendTo(message, [alice, bob])).toBe(2);
    expect(backplane.published).toEqual([]);
  });

  it('delivers a relayed frame to its local members of the room only', async () => {
    const { hub } = hubWith();
    const alice = localMember('alice');
    const bob = localMember('bob');
    await hub.admit(alice);
    await hub.admit(bob);
    hub.enterRoom(alice, 'dev');
    const bytes = encodeFrame(message);
    hub.receive({ n: 'n2/x', k: 'r', r: 'dev' }, bytes, 'n1/self');
    expect(alice.got).toEqual([bytes]);
    expect(bob.got).toEqual([]);
  });

  it('refuses a name claimed elsewhere, and releases the name when a local member leaves', async () => {
    const backplane = new RecordingBackplane();
    backplane.claimed.add('bob');
    const { hub } = hubWith(backplane);
    expect(await hub.admit(localMember('bob'))).toBe(false);
    const alice = localMember('alice');
    await hub.admit(alice);
    hub.leave(alice);
    expect(backplane.released).toEqual(['alice']);
  });

  it("drops a dead node's users and tells local users they were lost", async () => {
    const { hub } = hubWith();
    const alice = localMember('alice');
    await hub.admit(alice);
    hub.announceOnline(alice);
    hub.receive({ n: 'n2/x', k: 'on', u: 'bob' }, Buffer.alloc(0), 'n1/self');
    hub.receive({ n: 'n2/x', k: 'listed', u: 'bob' }, Buffer.alloc(0), 'n1/self');
    expect(hub.users()).toEqual(['alice', 'bob']);
    hub.receive({ n: 'n2/x', k: 'dead', u: ['bob'] }, Buffer.alloc(0), 'n1/self');
    expect(hub.users()).toEqual(['alice']);
    expect(alice.got.map((bytes) => JSON.parse(bytes.toString()))).toEqual([{ type: 'presence', user: 'bob', status: 'offline', reason: 'connection_lost' }]);
  });

  it('lists a local member with its presence, and announces the listing right after the presence', async () => {
    const { hub, backplane } = hubWith();
    const alice = localMember('alice');
    const bob = localMember('bob');
    await hub.admit(alice);
    hub.announceOnline(alice);
    await hub.admit(bob);
    expect(hub.users()).toEqual(['alice']);
    backplane.published = [];
    hub.announceOnline(bob);
    expect(hub.users()).toEqual(['alice', 'bob']);
    const presence = encodeFrame({ type: 'presence', user: 'bob', status: 'online' });
    expect(backplane.published).toEqual([
      { header: { k: 'r', r: 'lobby' }, frame: presence },
      { header: { k: 'listed', u: 'bob' }, frame: undefined },
    ]);
    expect(alice.got).toEqual([presence]);
  });

  it("lists another node's user once its presence was relayed (listed), and reaches it from its admission (on)", async () => {
    const { hub, backplane } = hubWith();
    await hub.admit(localMember('alice'));
    hub.receive({ n: 'n2/x', k: 'on', u: 'carol' }, Buffer.alloc(0), 'n1/self');
    expect(hub.isOnline('carol')).toBe(true);
    expect(hub.users()).toEqual([]);
    expect(hub.roomList()).toEqual([{ room: 'lobby', users: 0 }]);
    backplane.published = [];
    expect(hub.send(message, { user: 'carol' })).toBe(1);
    expect(backplane.published.map((entry) => entry.header)).toEqual([{ k: 'u', u: ['carol'] }]);
    hub.receive({ n: 'n3/y', k: 'listed', u: 'carol' }, Buffer.alloc(0), 'n1/self'); // not the node holding her
    expect(hub.users()).toEqual([]);
    hub.receive({ n: 'n2/x', k: 'listed', u: 'carol' }, Buffer.alloc(0), 'n1/self');
    expect(hub.users()).toEqual(['carol']);
    expect(hub.roomList()).toEqual([{ room: 'lobby', users: 1 }]);
  });

  it('lets a user whose presence never went out go silently (its node died, or its sync left it out); a sync lists whom it names', async () => {
    const { hub } = hubWith();
    const alice = localMember('alice');
    await hub.admit(alice);
    hub.announceOnline(alice);
    for (const user of ['bob', 'carol']) hub.receive({ n: 'n2/x', k: 'on', u: user }, Buffer.alloc(0), 'n1/self');
    hub.receive({ n: 'n2/x', k: 'listed', u: 'carol' }, Buffer.alloc(0), 'n1/self');
    hub.receive({ n: 'n2/x', k: 'dead', u: ['bob', 'carol'] }, Buffer.alloc(0), 'n1/self');
    expect(hub.isOnline('bob')).toBe(false);
    expect(alice.got.map((bytes) => JSON.parse(bytes.toString()))).toEqual([{ type: 'presence', user: 'carol', status: 'offline', reason: 'connection_lost' }]);

    alice.got.length = 0;
    for (const user of ['dave', 'erin']) hub.receive({ n: 'n3/y', k: 'on', u: user }, Buffer.alloc(0), 'n1/self');
    hub.receive({ n: 'n3/y', k: 'sync', u: [['dave', []]] }, Buffer.alloc(0), 'n1/self');
    expect(hub.isOnline('erin')).toBe(false);
    expect(hub.users()).toEqual(['alice', 'dave']);
    expect(alice.got).toEqual([]);
  });

  it('calls onFenced when the dead node is this one', () => {
    const { hub } = hubWith();
    let fenced = 0;
    hub.onFenced = () => fenced++;
    hub.receive({ n: 'n1/self', k: 'dead', u: [] }, Buffer.alloc(0), 'n1/self');
    expect(fenced).toBe(1);
  });
});
