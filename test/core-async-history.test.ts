/**
 * The core over a message store that answers later, as a cluster's Redis does (issue 15), played
 * I/O-free with fake peers: the store's answers are released by the test, one at a time, so what
 * the core sends before and after each one is seen exactly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, type RawFrame } from '../src/protocol/index.ts';
import {
  AccountStore,
  ChatCore,
  ChatServerEventStream,
  FileRelay,
  HistoryStore,
  Hub,
  LoginThrottle,
  SERVER_NAME,
  UnavailableError,
  resolveLimits,
  type MessageStore,
  type NewMessage,
  type StoredMessage,
} from '../src/server/index.ts';
import { TEST_USERS } from '../test-support/chat-server.ts';
import { FakePeer } from '../test-support/fake-peer.ts';
import { ManualClock } from '../test-support/manual-clock.ts';
import { PLAYBOOK_SCRYPT } from '../test-support/playbook.ts';
import { within } from '../test-support/promises.ts';

/** A store call waiting for the test: run against SQLite when released, or failed. */
interface Held {
  name: string;
  release(): void;
  fail(error: Error): void;
}

/** {@link HistoryStore} behind promises that settle only when the test says so (each read sees the store as it is then). */
class DeferredStore implements MessageStore {
  readonly held: Held[] = [];
  private arrived: (() => void) | undefined;
  constructor(private readonly inner: HistoryStore) {}

  private later<T>(name: string, run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.held.push({ name, release: () => resolve(run()), fail: reject });
      this.arrived?.();
    });
  }

  /** Resolves once `count` calls are held (the core got that far; a login waits for scrypt first). */
  async waitFor(count: number): Promise<void> {
    while (this.held.length < count) {
      await within(new Promise<void>((resolve) => (this.arrived = resolve)), 5_000, () => `${count} store calls held; got ${this.held.map((call) => call.name).join(', ')}`);
    }
    this.arrived = undefined;
    expect(this.held).toHaveLength(count);
  }

  /** Releases every held call, oldest first, and lets the core go on. */
  async releaseAll(): Promise<void> {
    for (const call of this.held.splice(0)) call.release();
    await new Promise((resolve) => setImmediate(resolve));
  }

  record(message: NewMessage): Promise<number> {
    return this.later('record', () => {
      const msgid = this.inner.record(message);
      this.inner.flush();
      return msgid;
    });
  }
  roomTail(room: string, limit: number, after?: number): Promise<StoredMessage[]> {
    return this.later('roomTail', () => this.inner.roomTail(room, limit, after));
  }
  roomPage(room: string, before: number, limit: number): Promise<StoredMessage[]> {
    return this.later('roomPage', () => this.inner.roomPage(room, before, limit));
  }
  privateTail(user: string, limit: number, after?: number): Promise<StoredMessage[]> {
    return this.later('privateTail', () => this.inner.privateTail(user, limit, after));
  }
  conversationPage(a: string, b: string, before: number, limit: number): Promise<StoredMessage[]> {
    return this.later('conversationPage', () => this.inner.conversationPage(a, b, before, limit));
  }
  undelivered(user: string, limit: number): Promise<StoredMessage[]> {
    return this.later('undelivered', () => this.inner.undelivered(user, limit));
  }
  markDelivered(user: string, msgids: readonly number[]): Promise<void> {
    return this.later('markDelivered', () => this.inner.markDelivered(user, msgids));
  }
  close(): void {
    this.inner.close();
  }
}

const opened: AccountStore[] = [];
afterEach(() => {
  for (const accounts of opened.splice(0)) accounts.close();
});

async function setUp(): Promise<{ core: ChatCore; store: DeferredStore; connect(name: string): FakePeer }> {
  const clock = new ManualClock();
  const limits = resolveLimits({});
  const hub = new Hub();
  const accounts = new AccountStore({ scrypt: PLAYBOOK_SCRYPT });
  opened.push(accounts);
  for (const [user, password] of Object.entries(TEST_USERS)) await accounts.add(user, password);
  const store = new DeferredStore(new HistoryStore(accounts.db));
  const events = new ChatServerEventStream();
  const files = new FileRelay(hub, limits, () => {});
  const core = new ChatCore({ hub, accounts, limits, events, serverName: SERVER_NAME, history: store, files, throttle: new LoginThrottle(limits, clock), clock });
  let id = 1;
  const connect = (name: string): FakePeer => {
    const peer = new FakePeer(name, id++, '127.0.0.1', core, clock, limits.closeGraceMs);
    core.accept(peer);
    peer.received.shift(); // hello
    return peer;
  };
  return { core, store, connect };
}

/** Hands one frame to the core as a connection does (the returned promise is the connection's wait). */
function input(core: ChatCore, peer: FakePeer, frame: RawFrame): Promise<void> {
  const [item] = peer.decodeInput(encodeFrame(frame));
  return Promise.resolve(core.receive(peer, item as NonNullable<typeof item>));
}

/** Logs in with every store call released as it comes. */
async function login(core: ChatCore, store: DeferredStore, peer: FakePeer, user: string): Promise<void> {
  const done = input(core, peer, { type: 'login', user, password: TEST_USERS[user] });
  await store.waitFor(3); // lobby tail, private tail, queue
  await store.releaseAll();
  await store.waitFor(1); // markDelivered
  await store.releaseAll();
  await done;
  expect(peer.received.shift()).toMatchObject({ type: 'welcome', user });
}

describe('the core over a store that answers later', () => {
  it('sends no ok and no relay before the message is recorded; then both carry its msgid', async () => {
    const { core, store, connect } = await setUp();
    const alice = connect('alice');
    const bob = connect('bob');
    await login(core, store, alice, 'alice');
    await login(core, store, bob, 'bob');
    alice.received.splice(0); // bob's presence
    const said = input(core, alice, { type: 'say', text: 'hi', id: 's' });
    await store.waitFor(1);
    expect({ alice: alice.received, bob: bob.received }).toEqual({ alice: [], bob: [] });
    await store.releaseAll();
    await said;
    expect(alice.received).toEqual([{ type: 'ok', id: 's', msgid: 1 }]);
    expect(bob.received).toEqual([{ type: 'message', from: 'alice', room: 'lobby', text: 'hi', ts: expect.any(Number), msgid: 1 }]);
  });

  it("overlaps a logged-in user's says: the next record is issued before the first resolves, the answers leave in the frames' order", async () => {
    const { core, store, connect } = await setUp();
    const alice = connect('alice');
    const bob = connect('bob');
    const [hello] = alice.decodeInput(encodeFrame({ type: 'say', text: 'too early' }));
    expect(core.overlaps(alice, hello as NonNullable<typeof hello>)).toBe(false); // not logged in yet
    await login(core, store, alice, 'alice');
    await login(core, store, bob, 'bob');
    alice.received.splice(0);
    const frames: RawFrame[] = [
      { type: 'say', text: 'one', id: 's1' },
      { type: 'say', text: 'two', id: 's2', to: 'bob' },
      { type: 'say', text: 'nowhere', id: 's3', room: 'dev' },
      { type: 'say', text: 'three', id: 's4' },
    ];
    const items = frames.map((frame) => alice.decodeInput(encodeFrame(frame))[0] as NonNullable<ReturnType<FakePeer['decodeInput']>[number]>);
    for (const item of items) expect(core.overlaps(alice, item)).toBe(true);
    expect(core.overlaps(alice, alice.decodeInput(encodeFrame({ type: 'quit' }))[0] as (typeof items)[number])).toBe(false);
    // As the transport hands them over: each while the earlier ones are pending.
    const answers = items.map((item) => core.receive(alice, item));
    await store.waitFor(3); // three records issued at once (the say to "dev" is refused: there is no such room)
    expect(store.held.map((call) => call.name)).toEqual(['record', 'record', 'record']);
    expect(answers.every((answer) => answer instanceof Promise)).toBe(true);
    expect({ alice: alice.received, bob: bob.received }).toEqual({ alice: [], bob: [] });
    // The store answers the last record first: its answer still waits for the earlier ones.
    const [one, two, three] = store.held.splice(0) as [Held, Held, Held];
    three.release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(alice.received).toEqual([]);
    two.release();
    one.release();
    await Promise.all(answers);
    expect(alice.received.map((frame) => [frame.type, frame.id, frame.code])).toEqual([
      ['ok', 's1', undefined],
      ['ok', 's2', undefined],
      ['error', 's3', 'unknown_room'],
      ['ok', 's4', undefined],
    ]);
    expect(bob.received.map((frame) => frame.text)).toEqual(['one', 'two', 'three']);
  });

  it('answers an overlapping say the store cannot record with internal, in its turn; the later ones still go through', async () => {
    const { core, store, connect } = await setUp();
    const alice = connect('alice');
    const bob = connect('bob');
    await login(core, store, alice, 'alice');
    await login(core, store, bob, 'bob');
    alice.received.splice(0);
    const answers = ['one', 'two', 'three'].map((text, i) =>
      core.receive(alice, alice.decodeInput(encodeFrame({ type: 'say', text, id: `s${i + 1}` }))[0] as NonNullable<ReturnType<FakePeer['decodeInput']>[number]>),
    );
    await store.waitFor(3);
    const [one, two, three] = store.held.splice(0) as [Held, Held, Held];
    three.release();
    two.fail(new UnavailableError('the cluster store (Redis) failed: NOSCRIPT'));
    one.release();
    await Promise.all(answers);
    expect(alice.received.map((frame) => [frame.type, frame.id, frame.code])).toEqual([
      ['ok', 's1', undefined],
      ['error', 's2', 'internal'],
      ['ok', 's3', undefined],
    ]);
    expect(bob.received.map((frame) => frame.text)).toEqual(['one', 'three']);
  });

  it('answers a say the store cannot record with internal, and relays nothing', async () => {
    const { core, store, connect } = await setUp();
    const alice = connect('alice');
    const bob = connect('bob');
    await login(core, store, alice, 'alice');
    await login(core, store, bob, 'bob');
    alice.received.splice(0);
    const said = input(core, alice, { type: 'say', text: 'hi', id: 's' });
    await store.waitFor(1);
    store.held.shift()?.fail(new UnavailableError('the cluster store (Redis) is unreachable'));
    await said;
    expect(alice.received).toEqual([
      { type: 'error', code: 'internal', id: 's', message: 'your message was not sent: the cluster store (Redis) is unreachable; nothing was stored, try again shortly' },
    ]);
    expect(bob.received).toEqual([]);
  });

  it('holds the live frames of a user whose join replay is being read: the room speaks after users, replay and history_end', async () => {
    const { core, store, connect } = await setUp();
    const alice = connect('alice');
    const bob = connect('bob');
    await login(core, store, alice, 'alice');
    await login(core, store, bob, 'bob');
    alice.received.splice(0);
    const aliceJoins = input(core, alice, { type: 'join', room: 'dev', id: 'ja' });
    await store.waitFor(1);
    await store.releaseAll();
    await aliceJoins;
    alice.received.splice(0);
    const bobJoins = input(core, bob, { type: 'join', room: 'dev', id: 'jb' });
    await store.waitFor(1); // bob is in dev; the room's tail is on its way
    expect(bob.received).toEqual([{ type: 'users', room: 'dev', users: ['alice', 'bob'], id: 'jb' }]);
    const first = input(core, alice, { type: 'say', room: 'dev', text: 'early', id: 's1' });
    await store.waitFor(2);
    const [tail, record] = store.held.splice(0) as [Held, Held];
    record.release(); // committed before the tail is read: in the replay, and held live
    await first;
    const second = input(core, alice, { type: 'say', room: 'dev', text: 'late', id: 's2' });
    await store.waitFor(1);
    tail.release(); // the tail is read now: "late" is not committed yet
    await bobJoins;
    await store.releaseAll();
    await second;
    expect(bob.received).toEqual([
      { type: 'users', room: 'dev', users: ['alice', 'bob'], id: 'jb' },
      { type: 'message', from: 'alice', room: 'dev', text: 'early', ts: expect.any(Number), msgid: 1, history: true },
      { type: 'history_end', room: 'dev', count: 1, last_msgid: 1 },
      { type: 'message', from: 'alice', room: 'dev', text: 'late', ts: expect.any(Number), msgid: 2 },
    ]);
  });

  it('holds the live frames of a user whose login replay is being read: after the replay, without repeating it', async () => {
    const { core, store, connect } = await setUp();
    const alice = connect('alice');
    const bob = connect('bob');
    await login(core, store, alice, 'alice');
    const loggingIn = input(core, bob, { type: 'login', user: 'bob', password: TEST_USERS.bob, since: 0 });
    await store.waitFor(3); // bob is in the hub; his replay is on its way
    const said = input(core, alice, { type: 'say', text: 'meanwhile', id: 's' });
    await store.waitFor(4);
    // Alice's record is committed first, then bob's reads run: the replay holds it, and so does the gate.
    const [lobby, privates, queue, record] = store.held.splice(0) as [Held, Held, Held, Held];
    record.release();
    await said;
    expect(bob.received).toEqual([]);
    for (const call of [lobby, privates, queue]) call.release();
    await store.waitFor(1);
    await store.releaseAll();
    await loggingIn;
    expect(bob.received).toEqual([
      expect.objectContaining({ type: 'welcome', user: 'bob', users: ['alice', 'bob'] }),
      { type: 'message', from: 'alice', room: 'lobby', text: 'meanwhile', ts: expect.any(Number), msgid: 1, history: true },
      { type: 'history_end', count: 1, last_msgid: 1 },
    ]);
  });
});
