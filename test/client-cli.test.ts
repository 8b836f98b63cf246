/**
 * `chatlab client` (line mode) end to end: the real CLI process, the reference server, and a
 * ChatClient on the other side of the chat.
 */
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChatClient, type ChatClientEvents } from '../src/client/index.ts';
import { verifyClient } from '../src/verify/index.ts';
import { startTestServer, type TestServer } from '../test-support/chat-server.ts';
import { REPO_ROOT as ROOT, startCliProcess, type CliRun } from '../test-support/cli-process.ts';
import { startCliTerminal } from '../test-support/cli-terminal.ts';
import { nextClientEvent } from '../test-support/client-events.ts';

const WAIT_MS = 10_000;
const TIME = String.raw`\[\d\d:\d\d:\d\d\]`;

const runs: CliRun[] = [];

/** Starts `chatlab client` with `args` and only the env given (no HOST/PORT/CHATLAB_* from the test's environment). */
function startCli(args: string[], env: Record<string, string> = {}): CliRun {
  const run = startCliProcess(['client', ...args], env, WAIT_MS);
  runs.push(run);
  return run;
}

/** The first `event` whose value passes `match`, or a clear failure after {@link WAIT_MS}. */
const waitFor = <K extends keyof ChatClientEvents>(client: ChatClient, event: K, match: (...args: ChatClientEvents[K]) => boolean) => nextClientEvent(client, event, match, WAIT_MS);

let chat: TestServer;
const clients: ChatClient[] = [];

async function loggedIn(user: string, password: string): Promise<ChatClient> {
  const client = await ChatClient.connect({ port: chat.port });
  clients.push(client);
  await client.login(user, password);
  return client;
}

beforeEach(async () => {
  chat = await startTestServer();
});

afterEach(async () => {
  for (const run of runs.splice(0)) if (run.child.exitCode === null) run.child.kill();
  for (const client of clients.splice(0)) client.destroy();
  await chat.stop();
});

describe('chatlab client (line mode)', () => {
  it('chats with another client: messages, presence, /who, /help, and stdin EOF quits with exit 0', async () => {
    const alice = await loggedIn('alice', 'wonderland');
    const bobOnline = waitFor(alice, 'presence', (p) => p.user === 'bob' && p.status === 'online');
    const cli = startCli(['--user', 'bob', '--password', 'builder', '--port', String(chat.port)]);
    await cli.line(new RegExp(`^\\* connected to 127\\.0\\.0\\.1:${chat.port} as bob; online: alice, bob$`));
    await bobOnline;

    await alice.say('hello bob 👋');
    await cli.line(new RegExp(`^${TIME} alice: hello bob 👋$`));

    const fromBob = waitFor(alice, 'message', (m) => m.from === 'bob');
    cli.child.stdin.write('hi alice, café ☕\n');
    expect(await fromBob).toMatchObject({ from: 'bob', text: 'hi alice, café ☕' });

    cli.child.stdin.write('/who\n');
    await cli.line(/^\* online: alice, bob$/);

    const carol = await loggedIn('carol', 'caroline');
    await cli.line(/^\* carol is online$/);
    carol.destroy();
    await cli.line(/^\* carol is offline$/);

    cli.child.stdin.write('/help\n/nope\n//slash\n');
    await cli.line(/^\* \/who \[ROOM\] +who is online \(or in ROOM\)$/);
    await cli.line(/^! unknown_command: \/nope is not a command; \/help lists them$/);
    expect(await waitFor(alice, 'message', (m) => m.from === 'bob')).toMatchObject({ text: '/slash' });

    const bobOffline = waitFor(alice, 'presence', (p) => p.user === 'bob' && p.status === 'offline');
    cli.child.stdin.end();
    expect(await cli.exited).toBe(0);
    await bobOffline;
    expect(cli.stderr.filter((l) => l !== '')).toEqual([]);
    // stdout is a pipe here: no colours.
    expect(cli.stdout.join('\n')).not.toContain('\u001b[');
  });

  it('honours HOST, PORT, CHATLAB_USER and CHATLAB_PASSWORD (the verifier client contract); /quit exits 0', async () => {
    const alice = await loggedIn('alice', 'wonderland');
    const bobOnline = waitFor(alice, 'presence', (p) => p.user === 'bob' && p.status === 'online');
    const cli = startCli([], { HOST: '127.0.0.1', PORT: String(chat.port), CHATLAB_USER: 'bob', CHATLAB_PASSWORD: 'builder' });
    await bobOnline;
    await alice.say('text');
    expect(await cli.line(/alice: text$/)).toContain('alice: text');
    const fromBob = waitFor(alice, 'message', (m) => m.from === 'bob');
    cli.child.stdin.write('line from stdin\n/quit\n');
    expect(await fromBob).toMatchObject({ text: 'line from stdin' });
    expect(await cli.exited).toBe(0);
  });

  it('--register creates the account, then logs in', async () => {
    const cli = startCli(['--user', 'erin', '--password', 'secret-erin', '--register', '--port', String(chat.port)]);
    await cli.line(/^\* connected to .* as erin; online: erin$/);
    cli.child.stdin.end();
    expect(await cli.exited).toBe(0);
    expect(chat.server.accounts.list()).toContain('erin');
  });

  it('exits 0 after the server says bye (shutdown), even with stdin still open', async () => {
    const cli = startCli(['--user', 'bob', '--password', 'builder', '--port', String(chat.port)]);
    await cli.line(/^\* connected to /);
    await chat.stop();
    expect(await cli.exited).toBe(0);
    expect(cli.stdout).toContain('* the server said bye (server_shutdown)');
  });

  it('a wrong password: one clear line on stderr, exit 1', async () => {
    const cli = startCli(['--user', 'bob', '--password', 'wrong', '--port', String(chat.port)]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr.filter((l) => l !== '')).toEqual([
      'chatlab: login as bob failed (auth_failed): wrong user name or password. Check --user and --password (or CHATLAB_USER and CHATLAB_PASSWORD); to create the account, add --register',
    ]);
    expect(cli.stdout.filter((l) => l !== '')).toEqual([]);
  });

  it('connection refused: one clear line on stderr, exit 1', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const cli = startCli(['--user', 'bob', '--password', 'builder', '--port', String(port)]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr.filter((l) => l !== '')).toEqual([`chatlab: connection refused by 127.0.0.1:${port}: is a chatlab server running there?`]);
  });

  it('a server that accepts and never says hello: one clear line after 5 s, exit 1', async () => {
    const silent = createServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const cli = startCli(['--user', 'bob', '--password', 'builder', '--port', String(port)]);
      expect(await cli.exited).toBe(1);
      expect(cli.stderr.filter((l) => l !== '')).toEqual([`chatlab: connected to 127.0.0.1:${port} but no hello within 5 s — is it a chatlab/1 server? is it overloaded? does it speak TLS?`]);
    } finally {
      silent.close();
    }
  });

  it('no user name or a bad PORT: one clear line, exit 1', async () => {
    const noUser = startCli(['--password', 'x']);
    const badPort = startCli([], { PORT: 'seventy', CHATLAB_USER: 'bob', CHATLAB_PASSWORD: 'builder' });
    expect(await noUser.exited).toBe(1);
    expect(noUser.stderr.filter((l) => l !== '')).toEqual(['chatlab: no user name: pass --user NAME (or set CHATLAB_USER)']);
    expect(await badPort.exited).toBe(1);
    expect(badPort.stderr.filter((l) => l !== '')).toEqual([expect.stringMatching(/^chatlab: PORT=seventy is not a TCP port/)]);
  });

  it('--plain in a terminal: colours, a prompt kept below incoming lines, Ctrl-D leaves', async () => {
    const alice = await loggedIn('alice', 'wonderland');
    const bobOnline = waitFor(alice, 'presence', (p) => p.user === 'bob' && p.status === 'online');
    const tty = startCliTerminal(['client', '--plain', '--user', 'bob', '--password', 'builder', '--port', String(chat.port)], { cols: 100, rows: 12, waitMs: WAIT_MS });
    const shows = (pattern: RegExp) => tty.shows(pattern, String(pattern), tty.allRows);
    try {
      await shows(/^> $/);
      await bobOnline;
      tty.type('half-typed');
      await shows(/^> half-typed$/);
      await alice.say('hi bob');
      await shows(new RegExp(`^${TIME} alice: hi bob$`));
      // The incoming line went above; what bob was typing is still on the prompt line.
      await shows(/^> half-typed$/);
      const fromBob = waitFor(alice, 'message', (m) => m.from === 'bob');
      tty.type(' and done\r');
      expect(await fromBob).toMatchObject({ text: 'half-typed and done' });
      tty.type('/who\r');
      await shows(/^\* online: alice, bob$/);
      expect(tty.output()).toContain('\u001b[36m'); // the sender's name in colour
      tty.type('\u0004'); // Ctrl-D
      expect(await tty.exited).toBe(0);
    } finally {
      tty.close();
    }
  });

  it('passes the verifier in client mode (steps 1–10)', async () => {
    const report = await verifyClient({ command: [process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'client'], cwd: ROOT });
    const failed = report.checks.filter((check) => check.status !== 'passed');
    expect(failed, JSON.stringify(failed, null, 2)).toEqual([]);
    expect(report.passed).toBe(true);
  });
});
