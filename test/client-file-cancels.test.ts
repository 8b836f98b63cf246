/**
 * Every way a file transfer can stop short, end to end: line-mode clients (runLineMode, in this
 * process, with streams for stdin and stdout) on both sides of the real reference server over
 * TCP, or a raw socket / library client where the path needs one (a dropped connection, a lying
 * checksum). Each test asserts exactly the `~` and `!` lines each side prints: one clear line
 * for the stop, never an `unknown_transfer` error for the acks or chunks that crossed it.
 *
 * "Nothing more came" is checked without sleeping: after its stop line, a side still connected
 * sends `/ping`; the server answers frames in order, so any error about a frame sent before the
 * ping is printed before the `pong` line.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChatClient } from '../src/client/index.ts';
import { attachFileTransfers } from '../src/client/files/index.ts';
import { runLineMode } from '../src/client/line-mode.ts';
import { MAX_FILE_CHUNK_BYTES } from '../src/protocol/index.ts';
import { TEST_USERS, startTestServer, type TestServer } from '../test-support/chat-server.ts';
import { until } from '../test-support/client-events.ts';
import type { FrameSocket } from '../test-support/frame-socket.ts';

let chat: TestServer;
let dir: string;
const parties: LineParty[] = [];
const clients: ChatClient[] = [];
const sockets: FrameSocket[] = [];

beforeEach(async () => {
  chat = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'chatlab-cancels-'));
});

afterEach(async () => {
  for (const party of parties.splice(0)) party.input.end();
  for (const client of clients.splice(0)) client.destroy();
  for (const socket of sockets.splice(0)) socket.destroy();
  await chat.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** One user in line mode: what it printed, and a way to type and to wait for a line. */
interface LineParty {
  input: PassThrough;
  lines: string[];
  exit: Promise<number>;
  downloads: string;
  type(line: string): void;
  /** Resolves with the first printed line matching `pattern`. */
  line(pattern: RegExp): Promise<string>;
  /** Types `/ping` and waits for its answer: every error about an earlier frame is printed by then. */
  settle(): Promise<void>;
  /** The transfer lines (progress left out) and error lines printed so far. */
  outcome(): string[];
}

async function lineParty(user: string): Promise<LineParty> {
  const input = new PassThrough();
  const output = new PassThrough();
  const lines: string[] = [];
  let partial = '';
  output.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() as string;
    lines.push(...parts);
  });
  const downloads = join(dir, `${user}-downloads`);
  const exit = runLineMode({ host: '127.0.0.1', port: chat.port, user, password: TEST_USERS[user] as string, input, output, downloads });
  // A failed start shows in the wait for the connected line below, with what was printed.
  exit.catch(() => {});
  const line = async (pattern: RegExp) => {
    await until(() => lines.some((l) => pattern.test(l)), `${user} to print ${pattern}; printed:\n${lines.join('\n')}`);
    return lines.find((l) => pattern.test(l)) as string;
  };
  const party: LineParty = {
    input,
    lines,
    exit,
    downloads,
    type: (text) => input.write(`${text}\n`),
    line,
    async settle() {
      const before = lines.filter((l) => l.startsWith('* pong in ')).length;
      party.type('/ping');
      await until(() => lines.filter((l) => l.startsWith('* pong in ')).length > before, `${user}'s pong`);
    },
    outcome: () => lines.filter((l) => (l.startsWith('~ ') && !/^~ \S+ \d+% \(/.test(l)) || l.startsWith('! ')),
  };
  parties.push(party);
  await line(/^\* connected to /);
  return party;
}

/** A file of `chunks` full chunks: big enough that a stop lands mid-way, with acks in flight. */
function bigFile(chunks = 400): string {
  const path = join(mkdtempSync(join(dir, 'src-')), 'big.bin');
  writeFileSync(path, randomBytes(MAX_FILE_CHUNK_BYTES * chunks));
  return path;
}

const listing = (folder: string) => (existsSync(folder) ? readdirSync(folder) : []);
const OFFER_TO_BOB = /^~ big\.bin \(12\.5 MiB\) offered to bob \[t1\]$/;

/** alice (line mode) offers big.bin to bob (line mode), bob accepts, and the bytes start flowing. */
async function midway(): Promise<{ alice: LineParty; bob: LineParty }> {
  const bob = await lineParty('bob');
  const alice = await lineParty('alice');
  alice.type(`/send bob ${bigFile()}`);
  await bob.line(/^~ big\.bin \(12\.5 MiB\) offered by alice \[t1\]/);
  bob.type('/accept');
  await alice.line(/^~ big\.bin \d+% \(/);
  return { alice, bob };
}

describe('a file transfer that stops short: one clear line on each side, no error spam', () => {
  it('the sender quits mid-way', async () => {
    const { alice, bob } = await midway();
    alice.type('/quit');
    expect(await alice.exit).toBe(0);
    await bob.line(/^~ big\.bin interrupted/);
    await bob.settle();
    expect(alice.outcome()).toEqual([expect.stringMatching(OFFER_TO_BOB), '~ big.bin accepted by bob', '~ big.bin interrupted: you quit']);
    expect(bob.outcome()).toEqual([
      '~ big.bin (12.5 MiB) offered by alice [t1]: /accept t1 or /decline t1',
      `~ big.bin receiving from alice into ${bob.downloads}`,
      '~ big.bin interrupted: alice quit (nothing kept)',
    ]);
    expect(listing(bob.downloads)).toEqual([]);
  });

  it('the sender cancels', async () => {
    const { alice, bob } = await midway();
    alice.type('/cancel');
    await alice.line(/^~ big\.bin interrupted/);
    await bob.line(/^~ big\.bin interrupted/);
    await Promise.all([alice.settle(), bob.settle()]);
    expect(alice.outcome().slice(2)).toEqual(['~ big.bin interrupted: you cancelled it']);
    expect(bob.outcome().slice(2)).toEqual(['~ big.bin interrupted: alice cancelled it (nothing kept)']);
    expect(listing(bob.downloads)).toEqual([]);
  });

  it('the receiver cancels', async () => {
    const { alice, bob } = await midway();
    bob.type('/cancel');
    await alice.line(/^~ big\.bin interrupted/);
    await bob.line(/^~ big\.bin interrupted/);
    await Promise.all([alice.settle(), bob.settle()]);
    expect(alice.outcome().slice(2)).toEqual(['~ big.bin interrupted: bob cancelled it']);
    expect(bob.outcome().slice(2)).toEqual(['~ big.bin interrupted: you cancelled it (nothing kept)']);
    expect(listing(bob.downloads)).toEqual([]);
  });

  it('the receiver quits mid-way', async () => {
    const { alice, bob } = await midway();
    bob.type('/quit');
    expect(await bob.exit).toBe(0);
    await alice.line(/^~ big\.bin interrupted/);
    await alice.settle();
    expect(alice.outcome().slice(2)).toEqual(['~ big.bin interrupted: bob quit']);
    expect(bob.outcome().slice(2)).toEqual(['~ big.bin interrupted: you quit (nothing kept)']);
    expect(listing(bob.downloads)).toEqual([]);
  });

  it('the receiver declines', async () => {
    const bob = await lineParty('bob');
    const alice = await lineParty('alice');
    alice.type(`/send bob ${bigFile(1)}`);
    await bob.line(/offered by alice \[t1\]/);
    bob.type('/decline');
    await alice.line(/^~ big\.bin declined by bob$/);
    await Promise.all([alice.settle(), bob.settle()]);
    expect(alice.outcome()).toEqual(['~ big.bin (32.0 KiB) offered to bob [t1]', '~ big.bin declined by bob']);
    expect(bob.outcome()).toEqual(['~ big.bin (32.0 KiB) offered by alice [t1]: /accept t1 or /decline t1']);
    expect(bob.lines).toContain('* declined t1');
    expect(listing(bob.downloads)).toEqual([]);
  });

  it('the sender’s connection drops mid-way', async () => {
    const bob = await lineParty('bob');
    const alice = await ChatClient.connect({ port: chat.port });
    clients.push(alice);
    await alice.login('alice', TEST_USERS.alice as string);
    const files = attachFileTransfers(alice, { downloads: join(dir, 'alice-downloads') });
    files.on('transfer', (event) => {
      if (event.kind === 'progress' && event.percent > 0) alice.destroy();
    });
    await files.send({ to: 'bob' }, bigFile());
    await bob.line(/offered by alice \[t1\]/);
    bob.type('/accept');
    await bob.line(/^~ big\.bin interrupted/);
    await bob.settle();
    expect(bob.outcome().slice(2)).toEqual(["~ big.bin interrupted: alice's connection was lost (nothing kept)"]);
    expect(listing(bob.downloads)).toEqual([]);
  });

  it('the receiver’s connection drops mid-way', async () => {
    const alice = await lineParty('alice');
    const bob = await ChatClient.connect({ port: chat.port });
    clients.push(bob);
    await bob.login('bob', TEST_USERS.bob as string);
    const files = attachFileTransfers(bob, { downloads: join(dir, 'bob-downloads') });
    files.on('transfer', (event) => {
      if (event.kind === 'incoming') void files.accept(event.transfer);
      if (event.kind === 'progress' && event.percent > 0) bob.destroy();
    });
    alice.type(`/send bob ${bigFile()}`);
    await alice.line(/^~ big\.bin interrupted/);
    await alice.settle();
    expect(alice.outcome().slice(2)).toEqual(["~ big.bin interrupted: bob's connection was lost"]);
  });

  it('a checksum mismatch: the receiver says so once, the sender hears the verdict once', async () => {
    // A lying sender (raw socket) to bob in line mode.
    const bob = await lineParty('bob');
    const bytes = randomBytes(50_000);
    const liar = await chat.login('alice');
    sockets.push(liar);
    liar.send({ type: 'file_offer', to: 'bob', name: 'report.pdf', size: bytes.length, sha256: createHash('sha256').update('something else').digest('hex'), id: 1 });
    await liar.next('ok');
    await bob.line(/offered by alice \[t1\]/);
    bob.type('/accept');
    await liar.next('file_accept');
    for (let seq = 0; seq * MAX_FILE_CHUNK_BYTES < bytes.length; seq++) {
      liar.send({ type: 'file_chunk', transfer: 't1', seq, data: bytes.subarray(seq * MAX_FILE_CHUNK_BYTES, (seq + 1) * MAX_FILE_CHUNK_BYTES).toString('base64') });
    }
    liar.send({ type: 'file_end', transfer: 't1' });
    expect(await liar.next('file_result')).toMatchObject({ ok: false, reason: 'checksum mismatch', user: 'bob' });
    await bob.settle();
    expect(bob.outcome().slice(2)).toEqual(['~ report.pdf failed: checksum mismatch (nothing kept)']);
    expect(listing(bob.downloads)).toEqual([]);

    // dave in line mode to a receiver (raw socket) whose check fails.
    const dave = await lineParty('dave');
    const carol = await chat.login('carol');
    sockets.push(carol);
    dave.type(`/send carol ${bigFile(1)}`);
    const offer = await carol.next('file_offer');
    carol.send({ type: 'file_accept', transfer: offer.transfer });
    await carol.next('file_end');
    carol.send({ type: 'file_result', transfer: offer.transfer, ok: false, reason: 'checksum mismatch' });
    await dave.line(/^~ big\.bin rejected by carol/);
    await dave.settle();
    expect(dave.outcome().slice(2)).toEqual(['~ big.bin rejected by carol: checksum mismatch']);
  });

  /** alice as a library client (so that its timers can be short), logged in. */
  async function librarySender(options: Parameters<typeof attachFileTransfers>[1]) {
    const alice = await ChatClient.connect({ port: chat.port });
    clients.push(alice);
    await alice.login('alice', TEST_USERS.alice as string);
    return { alice, files: attachFileTransfers(alice, { downloads: join(dir, 'alice-downloads'), ...options }) };
  }

  it('the server takes a room member out who had not answered when the sending started (too_late)', async () => {
    const carol = await lineParty('carol');
    const bob = await ChatClient.connect({ port: chat.port });
    clients.push(bob);
    await bob.login('bob', TEST_USERS.bob as string);
    const bobFiles = attachFileTransfers(bob, { downloads: join(dir, 'bob-downloads') });
    bobFiles.on('transfer', (event) => {
      if (event.kind === 'incoming') void bobFiles.accept(event.transfer);
    });
    const { alice, files } = await librarySender({ roomStartDelayMs: 50 });
    for (const client of [alice, bob]) await client.join('team');
    carol.type('/join team');
    await carol.line(/^\* joined #team/);
    await files.send({ room: 'team' }, bigFile(2));
    await carol.line(/^~ big\.bin \(64\.0 KiB\) offered by alice in #team \[t1\]/);
    await carol.line(/^~ big\.bin offer/);
    await carol.settle();
    expect(carol.outcome().slice(1)).toEqual(['~ big.bin offer withdrawn: alice started sending before you answered']);
    expect(listing(carol.downloads)).toEqual([]);
  });

  it('the sender gives up on an offer nobody answered (its offer timeout)', async () => {
    const bob = await lineParty('bob');
    const { files } = await librarySender({ offerTimeoutMs: 200 });
    await files.send({ to: 'bob' }, bigFile(1));
    await bob.line(/^~ big\.bin offer/);
    await bob.settle();
    expect(bob.outcome().slice(1)).toEqual(['~ big.bin offer withdrawn: alice cancelled it: nobody accepted the file in time']);
  });

  it('the server shuts down mid-way', async () => {
    const { alice, bob } = await midway();
    await chat.stop();
    // The server said bye: line mode's exit code for that is 0.
    expect(await alice.exit).toBe(0);
    expect(await bob.exit).toBe(0);
    for (const party of [alice, bob]) {
      const stop = party.outcome().slice(2);
      expect(stop).toEqual([expect.stringMatching(/^~ big\.bin interrupted: the server shut down( \(nothing kept\))?$/)]);
    }
    expect(listing(bob.downloads)).toEqual([]);
  });
});
