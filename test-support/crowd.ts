/**
 * Many logged-in users for tests of long user lists: raw sockets that log in (and send whatever
 * else they are given) but never parse what they receive, so a test can put ~2,000 users online in
 * a few seconds. Accounts are made through the server's own AccountStore; pair with a cheap scrypt
 * cost ({@link CROWD_SCRYPT}).
 */
import { connect, type Socket } from 'node:net';
import type { ChatServer, ScryptParams } from '../src/server/index.ts';

/** The cheapest scrypt cost the server accepts: crowds of accounts hash and log in in microseconds. */
export const CROWD_SCRYPT: ScryptParams = { N: 2, r: 1, p: 1 };

/** The password of every crowd account. */
export const CROWD_PASSWORD = 'crowd-password';

/**
 * `count` distinct user names of `length` characters (the longest allowed by default), sorted as
 * the server sorts them: `u0000…0001`, `u0000…0002`, …
 */
export function longNames(count: number, prefix = 'u', length = 32): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(length - prefix.length, '0')}`);
}

/** A crowd of logged-in users. */
export interface Crowd {
  readonly sockets: readonly Socket[];
  /** Destroys every socket (the server then sends presence offline for each). */
  close(): void;
}

/** Creates an account for each name, all with {@link CROWD_PASSWORD}. */
export async function seedAccounts(server: ChatServer, names: readonly string[]): Promise<void> {
  await Promise.all(names.map((name) => server.accounts.add(name, CROWD_PASSWORD)));
}

/** Logins in flight at once: well under the listen backlog, so no connection waits unaccepted. */
const WAVE = 200;

/**
 * Connects one socket per name, logs each in (and, with `join`, joins that room on the same write),
 * and resolves once the server has reported every login (and join). Connections are opened in
 * waves of {@link WAVE} so none overflows the listen backlog. The sockets never read what they receive.
 */
export async function loginCrowd(server: ChatServer, port: number, names: readonly string[], options: { join?: string } = {}): Promise<Crowd> {
  const sockets: Socket[] = [];
  for (let start = 0; start < names.length; start += WAVE) {
    const wave = names.slice(start, start + WAVE);
    const done = reported(server, wave, options.join);
    for (const name of wave) sockets.push(loginSocket(port, name, options.join));
    await done;
  }
  return { sockets, close: () => sockets.forEach((socket) => socket.destroy()) };
}

function loginSocket(port: number, name: string, join: string | undefined): Socket {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', ignore);
  // Never read: what arrives stays in the kernel's buffers (~125 KB at most here), costing the test nothing.
  socket.pause();
  const joinFrame = join === undefined ? '' : `${JSON.stringify({ type: 'join', room: join })}\n`;
  socket.write(`${JSON.stringify({ type: 'login', user: name, password: CROWD_PASSWORD })}\n${joinFrame}`);
  return socket;
}

/** Resolves when the server has reported the login (and the join of `room`, if given) of every name. */
function reported(server: ChatServer, names: readonly string[], room: string | undefined): Promise<void> {
  const waiting = new Set(names);
  const joining = new Set(room === undefined ? [] : names);
  return new Promise<void>((resolve) => {
    const check = (): void => {
      if (waiting.size > 0 || joining.size > 0) return;
      server.events.off('login', onLogin);
      server.events.off('room', onRoom);
      resolve();
    };
    const onLogin = ({ user }: { user: string }): void => {
      waiting.delete(user);
      check();
    };
    const onRoom = ({ user, room: joined, action }: { user: string; room: string; action: string }): void => {
      if (joined === room && action === 'join') joining.delete(user);
      check();
    };
    server.events.on('login', onLogin);
    server.events.on('room', onRoom);
  });
}

function ignore(): void {}
