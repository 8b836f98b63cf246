/**
 * The client against a core-only server (lesson 10's, whose hello has no `features`): it still
 * chats in lobby, and every extension says locally "this server does not support …" instead of
 * sending a frame the server cannot handle (a private `say` must never reach a server that would
 * relay it to everyone).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChatClient, ClientError } from '../src/client/index.ts';
import { startCliProcess, type CliRun } from '../test-support/cli-process.ts';
import { nextClientEvent } from '../test-support/client-events.ts';
import { within } from '../test-support/promises.ts';

const LESSON_10 = fileURLToPath(new URL('../lessons/10-disconnect/server.mjs', import.meta.url));

let server: ChildProcessWithoutNullStreams;
let port: number;
const clients: ChatClient[] = [];
const runs: CliRun[] = [];

/** Starts lesson 10's server on a free port and waits for its "listening on" line. */
beforeEach(async () => {
  server = spawn(process.execPath, [LESSON_10], { env: { ...process.env, PORT: '0' } });
  port = await within(
    new Promise<number>((resolve) => {
      let out = '';
      server.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const match = /listening on [\d.]+:(\d+)/.exec(out);
        if (match) resolve(Number(match[1]));
      });
    }),
    10_000,
    () => 'lesson 10 server did not say where it listens',
  );
});

afterEach(() => {
  for (const run of runs.splice(0)) if (run.child.exitCode === null) run.child.kill();
  for (const client of clients.splice(0)) client.destroy();
  server.kill();
});

async function loggedIn(user: string, password: string): Promise<ChatClient> {
  const client = await ChatClient.connect({ port });
  clients.push(client);
  await client.login(user, password);
  return client;
}

describe('the client on a core-only server', () => {
  it('reads hello.features: none, so every extension is refused locally and lobby still works', async () => {
    const alice = await loggedIn('alice', 'wonderland');
    const bob = await loggedIn('bob', 'builder');
    expect(alice.hello.features).toBeUndefined();
    for (const feature of ['register', 'who', 'ping', 'private', 'rooms', 'history', 'files'] as const) expect(alice.supports(feature)).toBe(false);
    const refusals: [Promise<unknown>, string][] = [
      [alice.privateSay('bob', 'psst'), 'this server does not support private messages'],
      [alice.say('to a room', { room: 'rust' }), 'this server does not support rooms'],
      [alice.join('rust'), 'this server does not support rooms'],
      [alice.who(), 'this server does not support listing who is online (who)'],
      [alice.ping(), 'this server does not support ping'],
      [alice.history(), 'this server does not support history'],
      [alice.offerFile({ to: 'bob', name: 'a.txt', size: 1, sha256: '0'.repeat(64) }), 'this server does not support file transfer'],
    ];
    for (const [refused, message] of refusals) {
      const error = await refused.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ClientError);
      expect(error).toMatchObject({ code: 'unsupported', message });
    }
    // Nothing of that was sent: bob's first message is the plain say, and alice got no error.
    const errors: unknown[] = [];
    alice.on('error', (e) => errors.push(e));
    const heard = nextClientEvent(bob, 'message');
    await alice.say('hello lobby');
    expect((await heard).text).toBe('hello lobby');
    expect(errors).toEqual([]);
  });

  it('chatlab client --plain: /msg, /join, /who, /history, /send say so in one line; a plain line is chatted', async () => {
    const bob = await loggedIn('bob', 'builder');
    const run = startCliProcess(['client', '--plain', '--user', 'alice', '--password', 'wonderland', '--port', String(port)]);
    runs.push(run);
    await run.line(/^\* connected to .* as alice/);
    for (const [command, words] of [
      ['/msg bob psst', 'private messages'],
      ['/join rust', 'rooms'],
      ['/who', 'listing who is online'],
      ['/history', 'history'],
      ['/send bob package.json', 'file transfer'],
    ] as const) {
      const from = run.stdout.length;
      run.type(`${command}\n`);
      await run.line(new RegExp(`^! unsupported: this server does not support ${words}`), from);
    }
    const heard = nextClientEvent(bob, 'message');
    run.type('hi all\n');
    expect((await heard).text).toBe('hi all');
  });

  it('chatlab client --register: one clear line, exit non-zero', async () => {
    const run = startCliProcess(['client', '--plain', '--register', '--user', 'erin', '--password', 'erinpass', '--port', String(port)]);
    runs.push(run);
    expect(await run.exited).not.toBe(0);
    expect(run.stderr.join('\n')).toContain('this server does not support creating accounts (register)');
  });
});
