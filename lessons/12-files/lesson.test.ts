// Lesson 12's test: its code passes the verifier through step 10 and its private, rooms and files
// groups (step 17: offer, accept, chunks, acks, checksum, result, cancel), its README matches the
// code and a real run (test-support/lesson-suite.ts), and file transfer works as EXTENSIONS.md
// says: the relay and its rules, byte-exact files checked by SHA-256, flow control, safe names.
// The feature tests run for both tracks: server.mjs/client.mjs and server.py/client.py (whose
// verifier checks and README sections are in lessons/python-track.test.ts).
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import { findLesson, inTrack, type Lesson } from '../../src/lessons/runtime/index.ts';
import type { FrameSocket } from '../../test-support/frame-socket.ts';
import { expectFrame } from '../../test-support/expect-frame.ts';
import { featureHarness } from '../../test-support/lesson-harness.ts';
import { describeLesson } from '../../test-support/lesson-suite.ts';

describeLesson(12);

const lesson = findLesson(12) as Lesson;
const CHUNK = 32 * 1024;

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** What one test starts (a server, raw connections, clients, a temp folder), undone when it ends. */
function harness(lesson: Lesson, context: TestContext) {
  const folder = mkdtempSync(join(tmpdir(), 'chatlab-lesson12-'));
  // Registered first, so it runs last (onTestFinished runs in reverse): after every client stopped.
  context.onTestFinished(() => rmSync(folder, { recursive: true, force: true }));
  const base = featureHarness(lesson, context);
  return {
    ...base,
    folder,
    /** The lesson's client as `user`, saving files in `downloads`. */
    client(user: string, port: number, downloads = join(folder, 'downloads', user)) {
      return { ...base.client(user, port, { CHATLAB_DOWNLOADS: downloads }), downloads };
    },
  };
}

/** Plays a well-behaved sender: chunks of 32 KiB, at most 8 unacknowledged, then file_end. */
async function sendChunks(sender: FrameSocket, transfer: string, bytes: Buffer): Promise<void> {
  const count = Math.ceil(bytes.length / CHUNK);
  let acked = -1;
  for (let seq = 0; seq < count; seq++) {
    while (seq - acked > 8) acked = (await expectFrame(sender, { type: 'file_ack', transfer })).seq as number;
    sender.send({ type: 'file_chunk', transfer, seq, data: bytes.subarray(seq * CHUNK, (seq + 1) * CHUNK).toString('base64') });
  }
  while (acked < count - 1) acked = (await expectFrame(sender, { type: 'file_ack', transfer })).seq as number;
  sender.send({ type: 'file_end', transfer });
}

// The feature tests add what the verifier does not play: the lesson's client, flow control over
// many chunks, safe file names. Each track's programs, side by side.
for (const view of [lesson, inTrack(lesson, 'python') as Lesson]) {
  describe.concurrent(`lesson 12-files: file transfer (${view.server}, ${view.client})`, () => {
    it('relays offer, accept, chunks, acks, end and result between sender and receiver, byte for byte', async (context) => {
      const { server, login } = harness(view, context);
      const { port } = await server();
      const [alice, bob] = await login(port, 'alice', 'bob');
      const file = randomBytes(100 * 1024);
      alice.send({ type: 'file_offer', to: 'bob', name: 'noise.bin', size: file.length, sha256: sha256(file), id: 'o1' });
      const { transfer } = await expectFrame(alice, { type: 'ok', id: 'o1' });
      expect(transfer).toMatch(/^t\d+$/);
      await expectFrame(bob, { type: 'file_offer', transfer, from: 'alice', to: 'bob', name: 'noise.bin', size: file.length, sha256: sha256(file) });
      bob.send({ type: 'file_accept', transfer });
      await expectFrame(alice, { type: 'file_accept', transfer, user: 'bob' });
      const sending = sendChunks(alice, transfer as string, file);
      const received: Buffer[] = [];
      for (let seq = 0; seq < 4; seq++) {
        const chunk = await expectFrame(bob, { type: 'file_chunk', transfer, seq, from: 'alice' });
        received.push(Buffer.from(chunk.data as string, 'base64'));
        bob.send({ type: 'file_ack', transfer, seq });
      }
      await sending;
      await expectFrame(bob, { type: 'file_end', transfer, from: 'alice' });
      expect(sha256(Buffer.concat(received))).toBe(sha256(file));
      bob.send({ type: 'file_result', transfer, ok: true });
      await expectFrame(alice, { type: 'file_result', transfer, ok: true, user: 'bob' });
    });

    it('enforces the rules: offers, unknown transfers, order, the 8-chunk window, and a dropped receiver', async (context) => {
      const { server, login } = harness(view, context);
      const { port } = await server();
      const [alice, bob] = await login(port, 'alice', 'bob');
      const offer = { type: 'file_offer', name: 'x.txt', size: 20, sha256: 'a'.repeat(64) };
      alice.send({ ...offer, to: 'dave', id: 1 }); // dave is offline
      await expectFrame(alice, { type: 'error', code: 'unknown_user', id: 1 });
      alice.send({ ...offer, to: 'alice', id: 2 });
      await expectFrame(alice, { type: 'error', code: 'bad_request', id: 2 });
      alice.send({ ...offer, to: 'bob', size: 200 * 1024 * 1024, id: 3 });
      await expectFrame(alice, { type: 'error', code: 'file_too_large', id: 3 });
      bob.send({ type: 'file_accept', transfer: 't99', id: 4 });
      await expectFrame(bob, { type: 'error', code: 'unknown_transfer', id: 4 });

      alice.send({ ...offer, to: 'bob', id: 5 });
      const { transfer } = await expectFrame(alice, { type: 'ok', id: 5 });
      await expectFrame(bob, { type: 'file_offer', transfer });
      alice.send({ type: 'file_chunk', transfer, seq: 0, data: 'YQ==', id: 6 });
      await expectFrame(alice, { type: 'error', code: 'bad_request', id: 6 }); // nobody accepted yet
      bob.send({ type: 'file_chunk', transfer, seq: 0, data: 'YQ==', id: 7 });
      await expectFrame(bob, { type: 'error', code: 'bad_request', id: 7 }); // only the sender sends chunks
      bob.send({ type: 'file_accept', transfer });
      await expectFrame(alice, { type: 'file_accept', transfer, user: 'bob' });
      alice.send({ type: 'file_chunk', transfer, seq: 1, data: 'YQ==', id: 8 });
      await expectFrame(alice, { type: 'error', code: 'bad_request', id: 8 }); // chunk 0 is due
      for (let seq = 0; seq < 8; seq++) alice.send({ type: 'file_chunk', transfer, seq, data: 'YQ==' });
      for (let seq = 0; seq < 8; seq++) await expectFrame(bob, { type: 'file_chunk', transfer, seq });
      alice.send({ type: 'file_chunk', transfer, seq: 8, data: 'YQ==', id: 9 });
      await expectFrame(alice, { type: 'error', code: 'rate_limited', id: 9 }); // 8 chunks wait for their ack
      bob.send({ type: 'file_ack', transfer, seq: 0 });
      await expectFrame(alice, { type: 'file_ack', transfer, seq: 0, user: 'bob' });
      alice.send({ type: 'file_chunk', transfer, seq: 8, data: 'YQ==' });
      await expectFrame(bob, { type: 'file_chunk', transfer, seq: 8 });
      bob.destroy();
      await expectFrame(alice, { type: 'file_cancel', transfer, reason: 'connection_lost', user: 'bob' });
      await expectFrame(alice, { type: 'presence', user: 'bob', status: 'offline' });
    });

    it('the client sends a file byte for byte, within the window, and hears the verdict', async (context) => {
      const { server, login, client, folder } = harness(view, context);
      const { port } = await server();
      const [bob] = await login(port, 'bob');
      const alice = client('alice', port);
      await alice.terminal.expect('logged in as alice; online: alice, bob', 5_000);
      await expectFrame(bob, { type: 'presence', user: 'alice' });
      const file = randomBytes(11 * CHUNK + 123); // 12 chunks: more than one window
      const path = join(folder, 'big file.bin');
      writeFileSync(path, file);
      alice.type(`/send bob ${path}`);
      const offer = await expectFrame(bob, { type: 'file_offer', from: 'alice', to: 'bob', name: 'big file.bin', size: file.length, sha256: sha256(file) });
      const transfer = offer.transfer as string;
      await alice.terminal.expect(`offered big file.bin (${file.length} bytes) to bob: transfer ${transfer}`, 5_000);
      bob.send({ type: 'file_accept', transfer });
      // No ack until a whole window has arrived: a sender that ignored the window would send a 9th
      // chunk, which the server refuses (rate_limited), and the file would come out short.
      const received: Buffer[] = [];
      for (let seq = 0; seq < 8; seq++) received.push(Buffer.from((await expectFrame(bob, { type: 'file_chunk', transfer, seq })).data as string, 'base64'));
      for (let seq = 0; seq < 8; seq++) bob.send({ type: 'file_ack', transfer, seq });
      for (let seq = 8; seq < 12; seq++) {
        received.push(Buffer.from((await expectFrame(bob, { type: 'file_chunk', transfer, seq })).data as string, 'base64'));
        bob.send({ type: 'file_ack', transfer, seq });
      }
      await expectFrame(bob, { type: 'file_end', transfer, from: 'alice' });
      expect(Buffer.concat(received).equals(file)).toBe(true);
      bob.send({ type: 'file_result', transfer, ok: true });
      await alice.terminal.expect('bob saved big file.bin: SHA-256 verified', 5_000);
      expect(alice.terminal.printed.filter((line) => line.startsWith('!'))).toEqual([]);
    });

    it('the client receives into its download folder only: a traversal name is cut to its base, a bad checksum deletes the file', async (context) => {
      const { server, login, client, folder } = harness(view, context);
      const { port } = await server();
      const [alice] = await login(port, 'alice');
      const bob = client('bob', port);
      await bob.terminal.expect('logged in as bob; online: alice, bob', 5_000);
      await expectFrame(alice, { type: 'presence', user: 'bob' });

      const offerAndSend = async (name: string, bytes: Buffer, claimed: string): Promise<Record<string, unknown>> => {
        alice.send({ type: 'file_offer', to: 'bob', name, size: bytes.length, sha256: claimed, id: name });
        const { transfer } = await expectFrame(alice, { type: 'ok', id: name });
        await bob.terminal.expect(`alice offers ${JSON.stringify(name)} (${bytes.length} bytes, transfer ${transfer}): /accept or /decline`, 5_000);
        bob.type('/accept');
        await expectFrame(alice, { type: 'file_accept', transfer, user: 'bob' });
        await sendChunks(alice, transfer as string, bytes);
        return expectFrame(alice, { type: 'file_result', transfer, user: 'bob' });
      };

      const evil = randomBytes(2 * CHUNK + 7);
      expect(await offerAndSend('../../evil.txt', evil, sha256(evil))).toMatchObject({ ok: true });
      await bob.terminal.expect(`saved evil.txt (${evil.length} bytes, SHA-256 verified)`, 5_000);
      expect(readFileSync(join(bob.downloads, 'evil.txt')).equals(evil)).toBe(true);
      expect(existsSync(join(folder, 'evil.txt'))).toBe(false);
      expect(existsSync(join(bob.downloads, '..', '..', 'evil.txt'))).toBe(false);

      const liar = randomBytes(1000);
      expect(await offerAndSend('notes.txt', liar, sha256(Buffer.from('something else')))).toMatchObject({ ok: false, reason: 'checksum mismatch' });
      await bob.terminal.expect('! notes.txt from alice failed its check (checksum mismatch): deleted', 5_000);

      const again = randomBytes(10);
      expect(await offerAndSend('.hidden\\..\\evil.txt', again, sha256(again))).toMatchObject({ ok: true });
      await bob.terminal.expect('saved evil (1).txt (10 bytes, SHA-256 verified)', 5_000);
      // Only the two good files: no half-written temporary, nothing of the bad one.
      expect(readdirSync(bob.downloads).sort()).toEqual(['evil (1).txt', 'evil.txt']);
      expect(readFileSync(join(bob.downloads, 'evil (1).txt')).equals(again)).toBe(true);
    });
  });
}
