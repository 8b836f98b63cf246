/**
 * Starts a real {@link ChatServer} for a test: on 127.0.0.1, a free port, an in-memory database,
 * seeded accounts, and a cheap scrypt cost so logins take milliseconds.
 *
 * ```ts
 * const chat = await startTestServer({ users: { alice: 'wonderland', bob: 'builder' } });
 * const alice = await chat.login('alice', 'wonderland'); // connected, hello + welcome taken
 * …
 * await chat.stop();
 * ```
 */
import { expect } from 'vitest';
import { ChatServer, type ChatServerOptions, type ScryptParams } from '../src/server/index.ts';
import { FrameSocket } from './frame-socket.ts';
import type { RawFrame } from '../src/protocol/index.ts';

/** scrypt cost for tests: same code path, ~1/16 of the default cost. */
export const TEST_SCRYPT: ScryptParams = { N: 1024, r: 8, p: 1 };

/** The accounts most tests use (the same as lessons/accounts.json). */
export const TEST_USERS: Readonly<Record<string, string>> = {
  alice: 'wonderland',
  bob: 'builder',
  carol: 'caroline',
  dave: 'davesecret',
};

/** A running test server and shortcuts to talk to it. */
export interface TestServer {
  server: ChatServer;
  port: number;
  /** Opens a raw connection (hello not consumed). */
  connect(label?: string): Promise<FrameSocket>;
  /**
   * Connects, takes `hello`, logs in (with the `extra` fields of `login`, e.g. `since`) and takes
   * `welcome`; rejects if the login fails. The password defaults to the one the server was seeded with.
   */
  login(user: string, password?: string, extra?: Record<string, unknown>): Promise<FrameSocket & { welcome: RawFrame }>;
  /** Stops the server (every test must call it, e.g. in afterEach). */
  stop(): Promise<void>;
}

/** Starts a server with `users` (name → password; default {@link TEST_USERS}). */
export async function startTestServer(options: Omit<ChatServerOptions, 'port'> & { users?: Readonly<Record<string, string>> } = {}): Promise<TestServer> {
  const { users = TEST_USERS, ...serverOptions } = options;
  const server = new ChatServer({ scrypt: TEST_SCRYPT, ...serverOptions, port: 0 });
  await Promise.all(Object.entries(users).map(([user, password]) => server.accounts.add(user, password)));
  const { port } = await server.start();
  const testServer: TestServer = {
    server,
    port,
    connect: (label) => FrameSocket.connect(port, { label }),
    async login(user, password = users[user], extra = {}) {
      const socket = await anonymous(testServer, user);
      socket.send({ type: 'login', user, password, ...extra });
      const answer = await socket.next(['welcome', 'error']);
      if (answer.type !== 'welcome') throw new Error(`login of ${user} failed: ${JSON.stringify(answer)}`);
      return Object.assign(socket, { welcome: answer });
    },
    stop: () => server.stop(),
  };
  return testServer;
}

/** Connects and takes `hello`: a client that has not logged in. */
export async function anonymous(chat: TestServer, label = 'anon'): Promise<FrameSocket> {
  const socket = await chat.connect(label);
  await socket.next('hello');
  return socket;
}

/** The `error` frame the server answers with `code` (and the request's `id`), whatever its message: for `toEqual`. */
export function errorFrame(code: string, id?: string | number): Record<string, unknown> {
  return { type: 'error', code, message: expect.any(String), ...(id !== undefined && { id }) };
}

/**
 * Logs in alice, bob and carol (in that order) and takes the presences their logins caused
 * (alice sees bob and carol come online, bob sees carol), so each socket starts with nothing new.
 */
export async function threeUsers(chat: TestServer): Promise<[FrameSocket, FrameSocket, FrameSocket]> {
  const alice = await chat.login('alice');
  const bob = await chat.login('bob');
  const carol = await chat.login('carol');
  await alice.next('presence');
  await alice.next('presence');
  await bob.next('presence');
  return [alice, bob, carol];
}
