/**
 * A playbook for the server's protocol rules, in the style of mitmproxy's: a script of what
 * clients send and what each must receive, played against the real {@link ChatCore} (hub, history,
 * file relay, throttle) with fake peers instead of sockets, in-memory accounts at a negligible
 * scrypt cost, and a manual clock instead of real time. No port, no sleep: a rule test runs in
 * milliseconds, and `advance(ms)` stands in for waiting.
 *
 * ```ts
 * await play()
 *   .login('alice')
 *   .login('bob') // alice hears bob's presence; login takes it
 *   .send('alice', { type: 'say', text: 'hi' })
 *   .expect('bob', { type: 'message', from: 'alice', text: 'hi' })
 *   .expectNothing('alice');
 * ```
 *
 * Each `expect` takes the next frame the peer received and matches it with `toMatchObject` (the
 * fields given must be equal; others are not checked); `expectExact` with `toEqual`. A script is run by awaiting it. It fails
 * when a step fails, when a frame is left unconsumed at the end (every frame must be accounted
 * for), and when it was built but never awaited (checked after each test).
 *
 * It lives in test-support/, beside the TCP helpers, because it is test support: it asserts with
 * vitest, and nothing in the shipped server depends on it.
 */
import { afterEach, expect } from 'vitest';
import { encodeFrame, type DecodeResult, type RawFrame } from '../src/protocol/index.ts';
import { AccountStore, ChatCore, ChatServerEventStream, FileRelay, HistoryStore, Hub, LoginThrottle, resolveLimits, SERVER_NAME, type ScryptParams, type ServerLimits } from '../src/server/index.ts';
import { TEST_USERS } from './chat-server.ts';
import { FakePeer } from './fake-peer.ts';
import { ManualClock } from './manual-clock.ts';

/** The cheapest scrypt cost there is: same code path, no cost worth measuring. */
export const PLAYBOOK_SCRYPT: ScryptParams = { N: 2, r: 1, p: 1 };

/** Options of {@link play}. */
export interface PlayOptions {
  /** Overrides of the server limits. */
  limits?: Partial<ServerLimits>;
  /** Accounts (name → password) made before the script runs. Default {@link TEST_USERS}. */
  users?: Readonly<Record<string, string>>;
}

/** What {@link Playbook.login} sends besides the user name, and who logs in. */
export interface LoginOptions {
  /** The account (default: the peer's name). */
  user?: string;
  /** Default: the account's password from the script's users. */
  password?: string;
  /** Extra fields of the `login` frame (`id`, `since`). */
  extra?: Record<string, unknown>;
}

/** A frame to expect: the fields that must match (anything `toMatchObject` accepts). */
export type ExpectedFrame = Record<string, unknown>;

interface Step {
  label: string;
  run(): void | Promise<void>;
}

/** Scripts built and not awaited yet; each test must run every script it builds. */
const unrun = new Set<Playbook>();

afterEach(() => {
  if (unrun.size === 0) return;
  const count = unrun.size;
  unrun.clear();
  throw new Error(`${count} playbook script(s) built but never run: await the play() chain`);
});

/** Starts a script against a fresh core (see the module comment). */
export function play(options: PlayOptions = {}): Playbook {
  return new Playbook(options);
}

/** A script for the core; awaiting it runs it. */
export class Playbook implements PromiseLike<void> {
  /** The clock the core, its throttles and the peers' timers run on. */
  readonly clock = new ManualClock();
  readonly limits: ServerLimits;
  readonly hub = new Hub();
  readonly events = new ChatServerEventStream();
  readonly accounts: AccountStore;
  readonly history: HistoryStore;
  readonly files: FileRelay;
  readonly core: ChatCore;
  private readonly users: Readonly<Record<string, string>>;
  private readonly peers = new Map<string, FakePeer>();
  private readonly steps: Step[] = [];
  private nextId = 1;
  private running: Promise<void> | undefined;

  constructor(options: PlayOptions) {
    this.limits = resolveLimits(options.limits);
    this.users = options.users ?? TEST_USERS;
    this.accounts = new AccountStore({ scrypt: PLAYBOOK_SCRYPT });
    this.history = new HistoryStore(this.accounts.db, { retainPerConversation: this.limits.historyRetainPerConversation });
    this.files = new FileRelay(this.hub, this.limits, (event) => this.events.emit('transfer', event));
    this.core = new ChatCore({
      hub: this.hub,
      accounts: this.accounts,
      limits: this.limits,
      events: this.events,
      serverName: SERVER_NAME,
      history: this.history,
      files: this.files,
      throttle: new LoginThrottle(this.limits, this.clock),
      clock: this.clock,
    });
    unrun.add(this);
  }

  // ------------------------------------------------------------ steps

  /** A new client connects (from `address`, default 127.0.0.1) and takes its `hello`. */
  connect(name: string, address = '127.0.0.1'): this {
    return this.step(`connect(${name})`, () => void this.open(name, address));
  }

  /**
   * Logs in (connecting first if `name` has no peer yet): sends `login`, takes the `welcome`, and
   * takes the `presence online` every other logged-in peer got. A history replay is left to expect.
   */
  login(name: string, options: LoginOptions = {}): this {
    const user = options.user ?? name;
    return this.step(`login(${name})`, async () => {
      const peer = this.peers.get(name) ?? this.open(name);
      const others = [...this.peers.values()].filter((other) => other !== peer && other.member !== undefined && other.state === 'open');
      const password = options.password ?? this.users[user];
      await this.input(peer, encodeFrame({ type: 'login', user, password, ...options.extra } as RawFrame));
      this.take(peer, { type: 'welcome', user });
      for (const other of others) this.take(other, { type: 'presence', user, status: 'online' });
    });
  }

  /** A client sends frames (encoded as on the wire, then decoded as a connection would). */
  send(name: string, ...frames: RawFrame[]): this {
    return this.step(`send(${name}, ${frames.map(describe).join(', ')})`, () => this.input(this.peer(name), Buffer.concat(frames.map((frame) => encodeFrame(frame)))));
  }

  /** A client sends raw bytes (a bad line, a partial frame, several frames in one write). */
  sendRaw(name: string, bytes: string | Uint8Array): this {
    return this.step(`sendRaw(${name})`, () => this.input(this.peer(name), typeof bytes === 'string' ? Buffer.from(bytes) : bytes));
  }

  /** The next frames `name` received match these, in order. */
  expect(name: string, ...frames: ExpectedFrame[]): this {
    return this.step(`expect(${name}, ${frames.map(describe).join(', ')})`, () => {
      for (const frame of frames) this.take(this.peer(name), frame);
    });
  }

  /** The next frames `name` received are exactly these (`toEqual`: no field more or less). */
  expectExact(name: string, ...frames: ExpectedFrame[]): this {
    return this.step(`expectExact(${name}, ${frames.map(describe).join(', ')})`, () => {
      for (const frame of frames) this.take(this.peer(name), frame, true);
    });
  }

  /** `name` has no frame left to consume (every peer when no name is given). */
  expectNothing(...names: string[]): this {
    return this.step(`expectNothing(${names.join(', ')})`, () => {
      for (const peer of names.length > 0 ? names.map((name) => this.peer(name)) : this.peers.values()) {
        expect(peer.received, `frames ${peer.name} received and the script did not expect`).toEqual([]);
      }
    });
  }

  /** The server closed `name`'s connection, and `name` has no frame left to consume. */
  expectClosed(name: string): this {
    return this.step(`expectClosed(${name})`, () => {
      const peer = this.peer(name);
      expect(peer.received, `frames ${name} received and the script did not expect`).toEqual([]);
      expect(peer.state, `the state of ${name}'s connection`).toBe('closed');
    });
  }

  /** `name`'s connection is still open. */
  expectOpen(name: string): this {
    return this.step(`expectOpen(${name})`, () => expect(this.peer(name).state, `the state of ${name}'s connection`).toBe('open'));
  }

  /** The client closes its sending side (as after `bye`, or a client that hangs up cleanly). */
  end(name: string): this {
    return this.step(`end(${name})`, async () => {
      const peer = this.peer(name);
      if (peer.state === 'open') {
        for (const item of peer.endInput()) await this.handle(peer, item);
        if (peer.state === 'open') this.core.peerEnded(peer);
      } else {
        peer.endInput();
        peer.disconnected();
      }
    });
  }

  /** The connection is lost (a reset, a cable pulled): the core only hears that it closed. */
  drop(name: string): this {
    return this.step(`drop(${name})`, () => this.peer(name).disconnected());
  }

  /** Moves the clock forward, running the timers that fall due. */
  advance(ms: number): this {
    return this.step(`advance(${ms})`, () => this.clock.advance(ms));
  }

  /** Any other check, at this point of the script (on history, events, the hub, …). */
  check(label: string, action: (book: this) => void | Promise<void>): this {
    return this.step(`check(${label})`, () => action(this));
  }

  // ------------------------------------------------------------ running

  /** The peer a script calls `name` (for checks). */
  peer(name: string): FakePeer {
    const peer = this.peers.get(name);
    if (!peer) throw new Error(`no peer called ${name}: connect or log it in first`);
    return peer;
  }

  /** Runs the script once: every step in order, then the check that nothing was left unconsumed. */
  run(): Promise<void> {
    this.running ??= this.play();
    return this.running;
  }

  then<R1 = void, R2 = never>(onFulfilled?: ((value: void) => R1 | PromiseLike<R1>) | null, onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null): PromiseLike<R1 | R2> {
    return this.run().then(onFulfilled, onRejected);
  }

  private async play(): Promise<void> {
    unrun.delete(this);
    try {
      for (const [user, password] of Object.entries(this.users)) await this.accounts.add(user, password);
      for (const [index, step] of this.steps.entries()) {
        try {
          await step.run();
          await settle();
        } catch (error) {
          if (error instanceof Error) error.message = `playbook step ${index + 1}, ${step.label}: ${error.message}`;
          throw error;
        }
      }
      for (const peer of this.peers.values()) {
        expect(peer.received, `the script ended with frames ${peer.name} received and did not expect`).toEqual([]);
      }
    } finally {
      this.history.close();
      this.accounts.close();
    }
  }

  /** A new fake peer, accepted by the core; its `hello` is taken. */
  private open(name: string, address = '127.0.0.1'): FakePeer {
    if (this.peers.has(name)) throw new Error(`there is already a peer called ${name}`);
    const peer = new FakePeer(name, this.nextId++, address, this.core, this.clock, this.limits.closeGraceMs);
    this.peers.set(name, peer);
    this.core.accept(peer);
    this.take(peer, { type: 'hello', protocol: 'chatlab/1' });
    return peer;
  }

  private step(label: string, run: () => void | Promise<void>): this {
    if (this.running) throw new Error(`the script is already running: add ${label} before awaiting it`);
    this.steps.push({ label, run });
    return this;
  }

  /** Hands a client's bytes to the core as a connection does: in order, each item after the previous one settled. */
  private async input(peer: FakePeer, bytes: Uint8Array): Promise<void> {
    if (peer.state !== 'open') throw new Error(`${peer.name} cannot send: its connection is ${peer.state}`);
    for (const item of peer.decodeInput(bytes)) await this.handle(peer, item);
  }

  private async handle(peer: FakePeer, item: DecodeResult): Promise<void> {
    if (peer.state !== 'open') return;
    try {
      await this.core.receive(peer, item);
    } catch (error) {
      this.core.failed(peer, error);
    }
  }

  private take(peer: FakePeer, expected: ExpectedFrame, exact = false): void {
    const frame = peer.received.shift();
    if (frame === undefined) throw new Error(`${peer.name} received nothing; expected ${describe(expected)}`);
    if (exact) expect(frame, `the next frame ${peer.name} received`).toEqual(expected);
    else expect(frame, `the next frame ${peer.name} received`).toMatchObject(expected);
  }
}

/** Lets what the step started finish: promise callbacks, then the close of connections it ended. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function describe(frame: object): string {
  const text = JSON.stringify(frame);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
