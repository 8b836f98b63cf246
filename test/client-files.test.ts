/**
 * File transfer end to end: the client library's FileTransfers on both sides of the real
 * reference server, over real sockets, plus raw senders that misbehave on purpose (a lying
 * checksum, a path-traversal name, too much data).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChatClient } from '../src/client/index.ts';
import { attachFileTransfers, type FileTransfers, type TransferEvent } from '../src/client/files/index.ts';
import { FILE_WINDOW_CHUNKS, MAX_FILE_CHUNK_BYTES } from '../src/protocol/index.ts';
import { TEST_USERS, startTestServer, type TestServer } from '../test-support/chat-server.ts';
import { collect, nextEvent } from '../test-support/client-events.ts';
import type { FrameSocket } from '../test-support/frame-socket.ts';

let chat: TestServer;
let dir: string;
const clients: ChatClient[] = [];
const sockets: FrameSocket[] = [];

beforeEach(async () => {
  chat = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'chatlab-files-'));
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  for (const socket of sockets.splice(0)) socket.destroy();
  await chat.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Party {
  client: ChatClient;
  files: FileTransfers;
  events: TransferEvent[];
  downloads: string;
}

async function party(user: string, server: TestServer = chat): Promise<Party> {
  const client = await ChatClient.connect({ port: server.port });
  clients.push(client);
  await client.login(user, TEST_USERS[user] as string);
  const downloads = join(dir, `${user}-downloads`);
  const files = attachFileTransfers(client, { downloads, roomStartDelayMs: 5_000 });
  return { client, files, events: collect<TransferEvent>(files, 'transfer'), downloads };
}

/** Writes `bytes` to a fresh source folder and returns the path. */
function source(name: string, bytes: Buffer): string {
  const folder = mkdtempSync(join(dir, 'src-'));
  const path = join(folder, name);
  writeFileSync(path, bytes);
  return path;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const kind =
  <K extends TransferEvent['kind']>(k: K) =>
  (event: TransferEvent) =>
    event.kind === k;
/** Files in a download folder, temporary ones included (a failed transfer must leave none). */
const listing = (folder: string) => (existsSync(folder) ? readdirSync(folder).sort() : []);

/** Whatever the incoming offer, accept it (or decline it) as soon as it shows. */
function answerOffers(receiver: Party, answer: 'accept' | 'decline'): void {
  receiver.files.on('transfer', (event) => {
    if (event.kind !== 'incoming') return;
    if (answer === 'accept') void receiver.files.accept(event.transfer);
    else receiver.files.decline(event.transfer);
  });
}

describe('file transfer', () => {
  it('to a user: byte-exact file in the download folder, progress on both sides, window respected, name clash → " (1)"', async () => {
    const alice = await party('alice');
    const bob = await party('bob');
    answerOffers(bob, 'accept');
    // 10.5 chunks: more than one window, and a short last chunk.
    const bytes = randomBytes(MAX_FILE_CHUNK_BYTES * 10 + MAX_FILE_CHUNK_BYTES / 2);
    const path = source('cat.png', bytes);

    // Watch the wire on bob's side: never more than a window of chunks beyond his acks.
    let chunksSeen = 0;
    let maxChunkData = 0;
    bob.client.on('file', (frame) => {
      if (frame.type !== 'file_chunk') return;
      chunksSeen++;
      maxChunkData = Math.max(maxChunkData, frame.data.length);
    });

    const delivered = nextEvent<[TransferEvent]>(alice.files, 'transfer', kind('delivered'));
    const received = nextEvent<[TransferEvent]>(bob.files, 'transfer', kind('received'));
    const id = await alice.files.send({ to: 'bob' }, path);
    const [event] = await received;
    await delivered;
    expect(event).toMatchObject({ kind: 'received', transfer: id, name: 'cat.png', from: 'alice', size: bytes.length });
    const saved = (event as { path: string }).path;
    expect(saved).toBe(join(bob.downloads, 'cat.png'));
    expect(readFileSync(saved).equals(bytes)).toBe(true);
    expect(listing(bob.downloads)).toEqual(['cat.png']);
    expect(chunksSeen).toBe(11);
    expect(maxChunkData).toBeLessThanOrEqual(4 * Math.ceil(MAX_FILE_CHUNK_BYTES / 3));

    for (const side of [alice, bob]) {
      const progress = side.events.filter(kind('progress')).map((e) => (e as { percent: number }).percent);
      expect(progress.length).toBeGreaterThan(2);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));
      expect(progress.at(-1)).toBe(100);
    }
    expect(alice.events.map((e) => e.kind).filter((k) => k !== 'progress')).toEqual(['offered', 'accepted', 'delivered', 'complete']);
    expect(bob.events.map((e) => e.kind).filter((k) => k !== 'progress')).toEqual(['incoming', 'receiving', 'received']);

    // The same name again: a new file beside it, never replacing it.
    const again = nextEvent<[TransferEvent]>(bob.files, 'transfer', kind('received'));
    await alice.files.send({ to: 'bob' }, source('cat.png', Buffer.from('another cat')));
    expect((await again)[0]).toMatchObject({ path: join(bob.downloads, 'cat (1).png') });
    expect(readFileSync(join(bob.downloads, 'cat.png')).equals(bytes)).toBe(true);
    expect(listing(bob.downloads)).toEqual(['cat (1).png', 'cat.png']);
    expect(FILE_WINDOW_CHUNKS).toBe(8);
  });

  it('an empty file arrives too', async () => {
    const alice = await party('alice');
    const bob = await party('bob');
    answerOffers(bob, 'accept');
    const received = nextEvent<[TransferEvent]>(bob.files, 'transfer', kind('received'));
    await alice.files.send({ to: 'bob' }, source('empty.txt', Buffer.alloc(0)));
    expect((await received)[0]).toMatchObject({ size: 0, path: join(bob.downloads, 'empty.txt') });
    expect(readFileSync(join(bob.downloads, 'empty.txt')).length).toBe(0);
  });

  it('declined: the sender hears it, nothing is written', async () => {
    const alice = await party('alice');
    const bob = await party('bob');
    answerOffers(bob, 'decline');
    const complete = nextEvent<[TransferEvent]>(alice.files, 'transfer', kind('complete'));
    await alice.files.send({ to: 'bob' }, source('secret.txt', Buffer.from('no thanks')));
    expect((await complete)[0]).toMatchObject({ accepted: 0, delivered: 0 });
    expect(alice.events.map((e) => e.kind)).toEqual(['offered', 'declined', 'complete']);
    expect(listing(bob.downloads)).toEqual([]);
  });

  it('to a room: every member answers; who accepted gets the file, who declined does not', async () => {
    const alice = await party('alice');
    const bob = await party('bob');
    const carol = await party('carol');
    for (const p of [alice, bob, carol]) await p.client.join('pics');
    answerOffers(bob, 'accept');
    answerOffers(carol, 'decline');
    const bytes = randomBytes(70_000);
    const complete = nextEvent<[TransferEvent]>(alice.files, 'transfer', kind('complete'));
    const received = nextEvent<[TransferEvent]>(bob.files, 'transfer', kind('received'));
    await alice.files.send({ room: 'pics' }, source('group.jpg', bytes));
    expect((await complete)[0]).toMatchObject({ accepted: 1, delivered: 1 });
    expect((await received)[0]).toMatchObject({ path: join(bob.downloads, 'group.jpg') });
    expect(readFileSync(join(bob.downloads, 'group.jpg')).equals(bytes)).toBe(true);
    expect(bob.events.find(kind('incoming'))).toMatchObject({ room: 'pics', from: 'alice' });
    expect(listing(carol.downloads)).toEqual([]);
  });

  it('interrupted (the sender drops mid-way): reported on both sides, no partial file left', async () => {
    const alice = await party('alice');
    const bob = await party('bob');
    answerOffers(bob, 'accept');
    const bytes = randomBytes(MAX_FILE_CHUNK_BYTES * 60);
    const failed = nextEvent<[TransferEvent]>(bob.files, 'transfer', kind('failed'));
    const senderFailed = nextEvent<[TransferEvent]>(alice.files, 'transfer', kind('failed'));
    // Drop the sender's connection as soon as the first chunks are acknowledged.
    alice.files.on('transfer', (event) => {
      if (event.kind === 'progress' && event.percent > 0) alice.client.destroy();
    });
    await alice.files.send({ to: 'bob' }, source('big.bin', bytes));
    const [event] = await failed;
    expect(event).toMatchObject({ kind: 'failed', direction: 'receive', interrupted: true, reason: 'connection_lost' });
    expect((await senderFailed)[0]).toMatchObject({ direction: 'send', interrupted: true });
    // The temporary file is gone too: nothing at all in the download folder.
    expect(listing(bob.downloads)).toEqual([]);
    expect(bob.events.some(kind('received'))).toBe(false);
  });

  it('interrupted (the receiver drops): the sender is told, and stops', async () => {
    const alice = await party('alice');
    const bob = await party('bob');
    answerOffers(bob, 'accept');
    bob.files.on('transfer', (event) => {
      if (event.kind === 'progress' && event.percent > 0) bob.client.destroy();
    });
    const failed = nextEvent<[TransferEvent]>(alice.files, 'transfer', kind('failed'));
    await alice.files.send({ to: 'bob' }, source('big.bin', randomBytes(MAX_FILE_CHUNK_BYTES * 60)));
    expect((await failed)[0]).toMatchObject({ direction: 'send', interrupted: true, reason: 'connection_lost' });
    expect(alice.files.active).toEqual([]);
  });

  /** A raw sender (no client library) that offers `name` with `claimed` as its SHA-256, then sends `bytes`. */
  async function rawSend(options: { name: string; bytes: Buffer; claimedSha256?: string; claimedSize?: number }): Promise<{ sender: FrameSocket; transfer: string }> {
    const sender = await chat.login('alice');
    sockets.push(sender);
    sender.send({ type: 'file_offer', to: 'bob', name: options.name, size: options.claimedSize ?? options.bytes.length, sha256: options.claimedSha256 ?? sha256(options.bytes), id: 1 });
    const ok = await sender.next('ok');
    const transfer = ok.transfer as string;
    await sender.next((f) => f.type === 'file_accept' && f.transfer === transfer, 5_000);
    for (let seq = 0; seq * MAX_FILE_CHUNK_BYTES < options.bytes.length; seq++) {
      const data = options.bytes.subarray(seq * MAX_FILE_CHUNK_BYTES, (seq + 1) * MAX_FILE_CHUNK_BYTES).toString('base64');
      sender.send({ type: 'file_chunk', transfer, seq, data });
    }
    sender.send({ type: 'file_end', transfer });
    return { sender, transfer };
  }

  it('bad checksum (a lying sender): rejected, the file deleted, the sender told why', async () => {
    const bob = await party('bob');
    answerOffers(bob, 'accept');
    const failed = nextEvent<[TransferEvent]>(bob.files, 'transfer', kind('failed'));
    const bytes = randomBytes(50_000);
    const { sender, transfer } = await rawSend({ name: 'report.pdf', bytes, claimedSha256: sha256(Buffer.from('something else')) });
    expect((await failed)[0]).toMatchObject({ direction: 'receive', reason: 'checksum mismatch', interrupted: false });
    const verdict = await sender.next((f) => f.type === 'file_result' && f.transfer === transfer, 5_000);
    expect(verdict).toMatchObject({ ok: false, reason: 'checksum mismatch', user: 'bob' });
    expect(listing(bob.downloads)).toEqual([]);
  });

  it('more data than offered: stopped (by the server, or else the receiver), nothing kept', async () => {
    const bob = await party('bob');
    answerOffers(bob, 'accept');
    const failed = nextEvent<[TransferEvent]>(bob.files, 'transfer', kind('failed'));
    const bytes = randomBytes(40_000);
    const { sender, transfer } = await rawSend({ name: 'grow.bin', bytes, claimedSize: 1_000 });
    expect((await failed)[0]).toMatchObject({ direction: 'receive', reason: expect.stringMatching(/^(protocol_error|more data than the 1000 bytes offered)$/) });
    expect(await sender.next((f) => f.type === 'file_cancel' && f.transfer === transfer, 5_000)).toMatchObject({ type: 'file_cancel' });
    expect(listing(bob.downloads)).toEqual([]);
  });

  it('a path-traversal name lands as a sanitized name inside the download folder', async () => {
    const bob = await party('bob');
    answerOffers(bob, 'accept');
    const received = nextEvent<[TransferEvent]>(bob.files, 'transfer', kind('received'));
    const bytes = Buffer.from('root:x:0:0:not really\n');
    await rawSend({ name: '../../etc/passwd', bytes });
    const [event] = await received;
    expect((event as { path: string }).path).toBe(join(bob.downloads, 'passwd'));
    expect(readFileSync(join(bob.downloads, 'passwd')).equals(bytes)).toBe(true);
    expect(listing(bob.downloads)).toEqual(['passwd']);
    // Nothing escaped upwards: the test folder holds only what the test itself made.
    expect(readdirSync(dir).filter((name) => !name.startsWith('src-') && !name.endsWith('-downloads'))).toEqual([]);
  });

  it('over the size limit: the server refuses the offer with file_too_large', async () => {
    const small = await startTestServer({ limits: { maxFileBytes: 1_000 } });
    try {
      const alice = await party('alice', small);
      await party('bob', small);
      const error = await alice.files.send({ to: 'bob' }, source('huge.iso', randomBytes(2_000))).catch((e: Error) => e);
      expect(error).toMatchObject({ code: 'file_too_large' });
      // A missing file is refused before anything is sent.
      expect(await alice.files.send({ to: 'bob' }, join(dir, 'nope.txt')).catch((e: Error) => e)).toMatchObject({ code: 'not_found' });
    } finally {
      for (const client of clients.splice(0)) client.destroy();
      await small.stop();
    }
  });
});
