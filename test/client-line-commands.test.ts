/**
 * `chatlab client --plain` (line mode) with the extensions: every slash command, the parseable
 * output formats, file transfer both ways, the rate limit, and reconnecting after a lost
 * connection. The real CLI process, the real server, ChatClients as the other users.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChatClient } from '../src/client/index.ts';
import { attachFileTransfers, type TransferEvent } from '../src/client/files/index.ts';
import type { MessageFrame } from '../src/protocol/index.ts';
import { TEST_USERS, startTestServer, type TestServer } from '../test-support/chat-server.ts';
import { startCliProcess, type CliRun } from '../test-support/cli-process.ts';
import { collect, nextEvent } from '../test-support/client-events.ts';

const TIME = String.raw`\[\d\d:\d\d:\d\d\]`;

const runs: CliRun[] = [];
let chat: TestServer;
let dir: string;
const clients: ChatClient[] = [];
const closers: (() => void)[] = [];

beforeEach(async () => {
  chat = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'chatlab-line-'));
});

afterEach(async () => {
  for (const run of runs.splice(0)) if (run.child.exitCode === null) run.child.kill();
  for (const client of clients.splice(0)) client.destroy();
  for (const close of closers.splice(0)) close();
  await chat.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `chatlab client --plain` with `args` (no HOST/PORT/CHATLAB_* from the test's environment). */
function startCli(args: string[]): CliRun {
  const run = startCliProcess(['client', '--plain', ...args]);
  runs.push(run);
  return run;
}

async function loggedIn(user: string, port = chat.port): Promise<ChatClient> {
  const client = await ChatClient.connect({ port });
  clients.push(client);
  await client.login(user, TEST_USERS[user] as string);
  return client;
}

const isText = (text: string) => (m: MessageFrame) => m.text === text;

describe('chatlab client --plain: a history replay cut to fit the output bound', () => {
  it('says that older messages were left out', async () => {
    const small = await startTestServer({ limits: { maxOutputBytes: 8_192 } });
    closers.push(() => void small.stop());
    const alice = await loggedIn('alice', small.port);
    for (let i = 1; i <= 4; i++) await alice.say(`${i} ${'x'.repeat(1_500)}`);
    const cli = startCli(['--user', 'bob', '--password', 'builder', '--port', String(small.port)]);
    await cli.line(/^\* end of history \(\d messages?; older ones left out, \/history pages back\)$/);
  });
});

describe('chatlab client --plain: slash commands', () => {
  it('rooms, private messages, /who, /rooms, /history, errors — one parseable line each', async () => {
    const alice = await loggedIn('alice');
    await alice.say('before bob came');
    await alice.join('rust');
    const bobOnline = nextEvent(alice, 'presence', (p: { user: string }) => p.user === 'bob');
    const cli = startCli(['--user', 'bob', '--password', 'builder', '--port', String(chat.port)]);
    await cli.line(/^\* connected to .* as bob; online: alice, bob$/);
    // The history replay: the lobby's past, then its end.
    await cli.line(new RegExp(`^${TIME} alice: before bob came$`));
    await cli.line(/^\* end of history \(1 message\)$/);
    await bobOnline;

    cli.type('/join rust\n');
    await cli.line(/^\* joined #rust: alice, bob$/);
    await alice.say('ownership!', { room: 'rust' });
    await cli.line(new RegExp(`^${TIME} #rust alice: ownership!$`));
    // After /join, plain lines go to the room.
    const inRust = nextEvent<[MessageFrame]>(alice, 'message', isText('fearless'));
    cli.type('fearless\n');
    expect((await inRust)[0]).toMatchObject({ from: 'bob', room: 'rust' });

    const privately = nextEvent<[MessageFrame]>(alice, 'message', isText('psst alice'));
    cli.type('/msg alice psst alice\n');
    expect((await privately)[0]).toMatchObject({ from: 'bob', to: 'alice' });
    await alice.privateSay('bob', 'psst bob');
    await cli.line(new RegExp(`^${TIME} alice → you: psst bob$`));

    cli.type('/who #rust\n/rooms\n/who\n');
    await cli.line(/^\* in #rust: alice, bob$/);
    await cli.line(/^\* rooms: #lobby \(2\), #rust \(2\)$/);
    await cli.line(/^\* online: alice, bob$/);
    // Joining is reported once (the answer and the session's 'joined' event are one line).
    expect(cli.stdout.filter((l) => /^\* joined #rust:/.test(l))).toHaveLength(1);

    const carol = await loggedIn('carol');
    await carol.join('rust');
    await cli.line(/^\* carol joined #rust$/);
    await carol.leave('rust');
    await cli.line(/^\* carol left #rust$/);

    cli.type('/leave\n');
    await cli.line(/^\* left #rust$/);
    const inLobby = nextEvent<[MessageFrame]>(alice, 'message', isText('back in the lobby'));
    cli.type('back in the lobby\n');
    expect((await inLobby)[0]).toMatchObject({ room: 'lobby' });

    cli.type('/history 5\n');
    await cli.line(/^\* end of history in #lobby \(\d+ messages?\)$/);

    cli.type('/join bad!room\n/msg nobody hi\n/leave lobby\n/frobnicate\n/room rust\n');
    await cli.line(/^! bad_command: "bad!room" is not a room name .*; usage: \/join ROOM$/);
    await cli.line(/^! unknown_user: /);
    await cli.line(/^! bad_request: everyone stays in lobby/);
    await cli.line(/^! unknown_command: \/frobnicate is not a command; \/help lists them$/);
    await cli.line(/^! not_in_room: you are not in #rust; \/join rust first$/);

    cli.type('/quit\n');
    expect(await cli.exited).toBe(0);
    expect(cli.stderr.filter((l) => l !== '')).toEqual([]);
  });

  it('files both ways: offer line, /accept, progress, saved; /send, delivered; /decline', async () => {
    const downloads = join(dir, 'downloads');
    const alice = await loggedIn('alice');
    const aliceFiles = attachFileTransfers(alice, { downloads: join(dir, 'alice-downloads') });
    const aliceEvents = collect<TransferEvent>(aliceFiles, 'transfer');
    const cli = startCli(['--user', 'bob', '--password', 'builder', '--port', String(chat.port), '--downloads', downloads]);
    await cli.line(/^\* connected to /);

    // alice → bob, accepted from the command line.
    const photo = randomBytes(200_000);
    writeFileSync(join(dir, 'photo.jpg'), photo);
    const transfer = await aliceFiles.send({ to: 'bob' }, join(dir, 'photo.jpg'));
    const offer = await cli.line(/^~ photo\.jpg \(195\.3 KiB\) offered by alice \[(\S+)\]: \/accept \S+ or \/decline \S+$/);
    expect(offer).toContain(`[${transfer}]`);
    const delivered = nextEvent<[TransferEvent]>(aliceFiles, 'transfer', (e: TransferEvent) => e.kind === 'delivered');
    cli.type('/accept\n');
    await cli.line(/^~ photo\.jpg receiving from alice into /);
    // 7 chunks: a line per 10 % step crossed, e.g. "~ photo.jpg 16% (32.0 KiB of 195.3 KiB)".
    await cli.line(/^~ photo\.jpg [1-9]\d% \(\d+\.\d KiB of 195\.3 KiB\)$/);
    await cli.line(/^~ photo\.jpg 100% \(195\.3 KiB of 195\.3 KiB\)$/);
    const saved = await cli.line(/^~ photo\.jpg received from alice: saved as .*photo\.jpg \(195\.3 KiB, sha256 ok\)$/);
    expect(saved).toContain(join(downloads, 'photo.jpg'));
    await delivered;
    expect(readFileSync(join(downloads, 'photo.jpg')).equals(photo)).toBe(true);

    // bob → alice with /send.
    aliceFiles.on('transfer', (event) => {
      if (event.kind === 'incoming') void aliceFiles.accept(event.transfer);
    });
    writeFileSync(join(dir, 'notes.txt'), 'meeting at 10');
    cli.type(`/send alice ${join(dir, 'notes.txt')}\n`);
    await cli.line(/^~ notes\.txt \(13 B\) offered to alice \[\S+\]$/);
    await cli.line(/^~ notes\.txt accepted by alice$/);
    await cli.line(/^~ notes\.txt delivered to alice \(sha256 ok\)$/);
    expect(readFileSync(join(dir, 'alice-downloads', 'notes.txt'), 'utf8')).toBe('meeting at 10');

    // alice → bob again, declined.
    writeFileSync(join(dir, 'spam.exe'), 'nope');
    const declined = nextEvent<[TransferEvent]>(aliceFiles, 'transfer', (e: TransferEvent) => e.kind === 'declined');
    const second = await aliceFiles.send({ to: 'bob' }, join(dir, 'spam.exe'));
    await cli.line(/^~ spam\.exe \(4 B\) offered by alice/);
    cli.type('/decline\n');
    await cli.line(new RegExp(`^\\* declined ${second}$`));
    expect((await declined)[0]).toMatchObject({ user: 'bob' });
    expect(existsSync(join(downloads, 'spam.exe'))).toBe(false);

    cli.type('/accept\n/send alice /no/such/file\n');
    await cli.line(/^! no_offer: no file offer is waiting for an answer$/);
    await cli.line(/^! not_found: no such file: \/no\/such\/file$/);
    expect(aliceEvents.some((e) => e.kind === 'failed')).toBe(false);
    cli.child.stdin.end();
    expect(await cli.exited).toBe(0);
  });

  it('shows rate_limited and carries on', async () => {
    const strict = await startTestServer({ limits: { rateLimitPerSecond: 1, rateLimitBurst: 3 } });
    closers.push(() => void strict.stop());
    const cli = startCli(['--user', 'bob', '--password', 'builder', '--port', String(strict.port)]);
    await cli.line(/^\* connected to /);
    cli.type(Array.from({ length: 8 }, (_, i) => `flood ${i}`).join('\n') + '\n');
    await cli.line(/^! rate_limited: slow down/);
    expect(cli.child.exitCode).toBeNull();
  });

  it('reconnects after a lost connection, logs in again with since, and shows only what it missed', async () => {
    // bob reaches the server through a proxy the test can cut.
    const links = new Set<Socket>();
    let proxy: Server = await listenProxy(0);
    const proxyPort = (proxy.address() as AddressInfo).port;
    async function listenProxy(port: number): Promise<Server> {
      const server = createServer((inbound) => {
        const outbound = connect(chat.port, '127.0.0.1');
        for (const socket of [inbound, outbound]) {
          links.add(socket);
          socket.on('error', () => {});
          socket.on('close', () => links.delete(socket));
        }
        inbound.pipe(outbound).pipe(inbound);
      });
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      return server;
    }
    closers.push(() => {
      proxy.close();
      for (const socket of links) socket.destroy();
    });

    const alice = await loggedIn('alice');
    const cli = startCli(['--user', 'bob', '--password', 'builder', '--port', String(proxyPort)]);
    await cli.line(/^\* connected to /);
    await alice.say('seen once');
    await cli.line(new RegExp(`^${TIME} alice: seen once$`));

    // Cut the line and keep it down while alice talks.
    const bobGone = nextEvent(alice, 'presence', (p: { user: string; status: string }) => p.user === 'bob' && p.status === 'offline');
    const closed = new Promise<void>((resolve) => proxy.close(() => resolve()));
    for (const socket of links) socket.destroy();
    await closed;
    await cli.line(/^! connection_closed: /);
    await cli.line(/^\* disconnected — reconnecting in \d+\.\d s \(attempt 1\)$/);
    await bobGone;
    await alice.say('missed while away');
    proxy = await listenProxy(proxyPort);

    const from = cli.stdout.length;
    await cli.line(/^\* reconnected to .* as bob; online: alice, bob$/, from);
    await cli.line(new RegExp(`^${TIME} alice: missed while away$`), from);
    const fromBob = nextEvent<[MessageFrame]>(alice, 'message', isText('I am back'));
    cli.type('I am back\n');
    await fromBob.catch((error: Error) => {
      throw new Error(`${error.message}\nstdout:\n${cli.stdout.join('\n')}\nstderr:\n${cli.stderr.join('\n')}`);
    });
    expect(cli.stdout.filter((l) => l.endsWith('alice: seen once'))).toHaveLength(1);
    cli.child.stdin.end();
    expect(await cli.exited).toBe(0);
  });
});
