import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChatClient, ProtocolError } from '../client/index.ts';
import type { MessageFrame, PresenceFrame, ServerFrame, StepNumber } from '../protocol/index.ts';

/** The accounts the scenario logs in with (the same as lessons/accounts.json). */
export const DEMO_ACCOUNTS = [
  { user: 'alice', password: 'wonderland' },
  { user: 'bob', password: 'builder' },
  { user: 'carol', password: 'caroline' },
] as const;

/** A user of the scenario. */
export type DemoUser = (typeof DEMO_ACCOUNTS)[number]['user'];

/** The messages the scenario sends (emoji and CJK on purpose: the inspector shows their bytes). */
export const DEMO_MESSAGES = {
  alice: 'hello everyone 👋',
  bob: 'hi alice! 你好 🙂',
  carol: 'hey, gotta run 🏃',
} as const;

/** Options of {@link runScenario}. */
export interface ScenarioOptions {
  /** The server (or the inspector in front of it). */
  host: string;
  port: number;
  /**
   * Where a user connects instead of `host`:`port` (the cluster demo: alice through node A's
   * inspector, bob and carol through node B's). Users not named here use `host`:`port`.
   */
  targets?: Partial<Record<DemoUser, { host: string; port: number }>>;
  /** Pause between actions, in ms, so a person can follow (default 0). */
  paceMs?: number;
  /**
   * Called before each action with a sentence saying what happens next ("bob says hi"); awaited,
   * so a view can catch up first.
   */
  narrate?: (text: string) => void | Promise<void>;
  /**
   * Play only the steps a server supports so far (lessons): 1–2 just open and close a TCP
   * connection, 3 waits for hello, 4–5 log in, 6–7 chat, 8–10 the full goodbye (default 10).
   */
  through?: StepNumber;
  /** Most ms to wait for any one expected frame (default 5,000). */
  timeoutMs?: number;
  /**
   * Stops the script where it is (a pause, a connect, a wait for a frame): every client is
   * destroyed and the returned promise rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

/** What the scenario saw: who received what. */
export interface ScenarioResult {
  /** Messages received, per user. */
  received: Record<string, MessageFrame[]>;
  /** Presence frames received, per user. */
  presence: Record<string, PresenceFrame[]>;
  /** The `auth_failed` error alice got for her wrong password (when through ≥ 5). */
  authError?: ProtocolError;
}

/**
 * A controller to stop a demo with, that also aborts when the caller's `signal` does: the demo
 * aborts it itself too (q in the terminal UI). `release` stops following the caller's signal.
 */
export function followAbort(signal: AbortSignal | undefined): { stop: AbortController; release: () => void } {
  const stop = new AbortController();
  const onCallerAbort = (): void => stop.abort(signal?.reason);
  if (signal?.aborted) onCallerAbort();
  else signal?.addEventListener('abort', onCallerAbort, { once: true });
  return { stop, release: () => signal?.removeEventListener('abort', onCallerAbort) };
}

/**
 * Settles as `work` does, or rejects with `signal.reason` as soon as the signal aborts, whichever
 * comes first. `work` is left to settle on its own (the caller tears down what it waits on).
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}

/** What a wait for a frame needs besides the client and the frame it accepts. */
interface FrameWait {
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

/**
 * Resolves with the first frame `client` receives that `accepts`; rejects after `timeoutMs`, or
 * with the signal's reason when it aborts.
 */
function waitForFrame<F extends ServerFrame>(client: ChatClient, accepts: (frame: ServerFrame) => frame is F, wait: FrameWait, what: string): Promise<F> {
  const { timeoutMs, signal } = wait;
  const waiting = new Promise<F>((resolve, reject) => {
    const stop = (): void => {
      clearTimeout(timer);
      client.off('frame', listener);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      stop();
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const listener = (frame: ServerFrame): void => {
      if (!accepts(frame)) return;
      stop();
      resolve(frame);
    };
    client.on('frame', listener);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  // A wait the script no longer reaches (it failed or was stopped first) must not surface later.
  waiting.catch(() => undefined);
  return waiting;
}

function waitForPresence(client: ChatClient, predicate: (p: PresenceFrame) => boolean, wait: FrameWait, what: string): Promise<PresenceFrame> {
  return waitForFrame(client, (frame): frame is PresenceFrame => frame.type === 'presence' && predicate(frame), wait, what);
}

function waitForMessage(client: ChatClient, from: string, wait: FrameWait): Promise<MessageFrame> {
  const what = `${client.user ?? 'a client'} to receive ${from}'s message`;
  return waitForFrame(client, (frame): frame is MessageFrame => frame.type === 'message' && frame.from === from, wait, what);
}

/** `Promise.all` for waits the script may never reach: a rejection nobody awaits stays quiet. */
function allOf<T>(waits: Promise<T>[]): Promise<T[]> {
  const all = Promise.all(waits);
  all.catch(() => undefined);
  return all;
}

/** Steps 1–2 only: open a bare TCP connection, then close it. */
async function bareConnection(host: string, port: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host, port, signal });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`timed out after ${timeoutMs} ms connecting to ${host}:${port}`));
    }, timeoutMs);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.end();
      socket.resume();
      socket.once('close', () => resolve());
    });
  });
}

/**
 * The scripted chat the demo plays: alice, bob and
 * carol walk through all ten steps — connect, hello, login (alice first with a wrong password),
 * welcome and presence, messages with emoji, then carol drops abruptly (the others see her go
 * offline, connection_lost), bob and alice quit (bye, offline) and close.
 */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const { host, port } = options;
  const through = options.through ?? 10;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const { signal } = options;
  const wait: FrameWait = { timeoutMs, signal };
  const result: ScenarioResult = { received: {}, presence: {} };
  // Every wait of the script goes through here, so an abort ends it wherever it is.
  const step = <T>(work: Promise<T>): Promise<T> => untilAborted(work, signal);
  const act = async (text: string): Promise<void> => {
    signal?.throwIfAborted();
    // The timer's own AbortError becomes the signal's reason, like every other wait here.
    if (options.paceMs) await sleep(options.paceMs, undefined, { signal }).catch(() => signal?.throwIfAborted());
    await step(Promise.resolve(options.narrate?.(text)));
  };

  if (through < 3) {
    await act('a client opens a TCP connection, then closes it');
    await bareConnection(host, port, timeoutMs, signal);
    return result;
  }

  const clients: ChatClient[] = [];
  const connect = async (user: DemoUser): Promise<ChatClient> => {
    await act(`${user} connects and waits for hello`);
    const target = options.targets?.[user] ?? { host, port };
    const connecting = ChatClient.connect({ host: target.host, port: target.port, connectTimeoutMs: timeoutMs, requestTimeoutMs: timeoutMs });
    // A connect the abort overtook still yields a client: close it when it comes.
    connecting.then(
      (late) => signal?.aborted && late.destroy(),
      () => undefined,
    );
    const client = await step(connecting);
    clients.push(client);
    result.received[user] = [];
    result.presence[user] = [];
    client.on('message', (m) => result.received[user]?.push(m));
    client.on('presence', (p) => result.presence[user]?.push(p));
    client.on('error', () => undefined); // unsolicited errors are visible in the diagram already
    return client;
  };

  try {
    const [aliceAccount, bobAccount, carolAccount] = DEMO_ACCOUNTS;
    const alice = await connect('alice');
    if (through < 4) {
      await act('alice hangs up');
      alice.destroy();
      return result;
    }
    await act('alice logs in with a wrong password');
    try {
      await step(alice.login(aliceAccount.user, 'not-the-password'));
      throw new Error('the server accepted a wrong password for alice');
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error as Error;
      result.authError = error;
    }
    await act('alice logs in again, with the right password');
    await step(alice.login(aliceAccount.user, aliceAccount.password));

    const bob = await connect('bob');
    await act('bob logs in: alice sees him come online');
    const bobOnline = waitForPresence(alice, (p) => p.user === 'bob' && p.status === 'online', wait, 'alice to see bob online');
    await step(bob.login(bobAccount.user, bobAccount.password));
    await step(bobOnline);

    const carol = await connect('carol');
    await act('carol logs in');
    const carolOnline = allOf([alice, bob].map((c) => waitForPresence(c, (p) => p.user === 'carol' && p.status === 'online', wait, 'carol online')));
    await step(carol.login(carolAccount.user, carolAccount.password));
    await step(carolOnline);
    if (through < 6) {
      await act('everyone hangs up');
      for (const c of clients) c.destroy();
      return result;
    }

    const say = async (from: ChatClient, name: keyof typeof DEMO_MESSAGES, others: ChatClient[]): Promise<void> => {
      await act(`${name} says ${JSON.stringify(DEMO_MESSAGES[name])}`);
      const delivered = allOf(others.map((o) => waitForMessage(o, name, wait)));
      await step(from.say(DEMO_MESSAGES[name]));
      await step(delivered);
    };
    await say(alice, 'alice', [bob, carol]);
    await say(bob, 'bob', [alice, carol]);
    await say(carol, 'carol', [alice, bob]);
    if (through < 8) {
      await act('everyone hangs up');
      for (const c of clients) c.destroy();
      return result;
    }

    await act('carol drops without quit (her socket is destroyed): the others see her go offline');
    const carolGone = allOf([alice, bob].map((c) => waitForPresence(c, (p) => p.user === 'carol' && p.status === 'offline', wait, 'carol offline')));
    carol.destroy();
    await step(carolGone);

    await act('bob quits: bye to him, offline to alice, then he closes');
    const bobGone = waitForPresence(alice, (p) => p.user === 'bob' && p.status === 'offline', wait, 'alice to see bob offline');
    await step(bob.quit());
    await step(bobGone);

    await act('alice quits and closes');
    await step(alice.quit());
    return result;
  } finally {
    for (const c of clients) if (c.state !== 'closed') c.destroy();
  }
}
