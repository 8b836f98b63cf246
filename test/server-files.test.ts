/**
 * End to end: the file-transfer relay. Offer → accept → chunks (acknowledged) → end → result,
 * byte-exact; only recipients who accepted get chunks; a dropped party cancels the other side
 * (connection_lost); a chunk line over the frame limit closes only its sender. The refusals, the
 * window and what chunks cost are rules of the core, played without sockets in core-files.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FILE_WINDOW_CHUNKS, MAX_FILE_CHUNK_BYTES, MAX_FRAME_BYTES } from '../src/protocol/index.ts';
import type { TransferEvent } from '../src/server/index.ts';
import { errorFrame as error, startTestServer, type TestServer } from '../test-support/chat-server.ts';
import type { FrameSocket } from '../test-support/frame-socket.ts';
import { chunksOf, pseudoRandomBytes, sha256Hex, takeHistory } from '../test-support/extensions.ts';

let chat: TestServer | undefined;
afterEach(async () => {
  await chat?.stop();
  chat = undefined;
});

async function twoUsers(server: TestServer): Promise<[FrameSocket, FrameSocket]> {
  const alice = await server.login('alice');
  const bob = await server.login('bob');
  await alice.next('presence');
  return [alice, bob];
}

/** alice offers `bytes` to bob, bob accepts; returns the transfer id (both sides' frames taken). */
async function offerAccepted(alice: FrameSocket, bob: FrameSocket, bytes: Buffer, name = 'data.bin'): Promise<string> {
  alice.send({ type: 'file_offer', to: 'bob', name, size: bytes.length, sha256: sha256Hex(bytes), id: 'offer' });
  const ok = await alice.nextFrame();
  expect(ok).toEqual({ type: 'ok', id: 'offer', transfer: expect.stringMatching(/^t\d+$/), users: ['bob'] });
  const transfer = ok.transfer as string;
  expect(await bob.nextFrame()).toEqual({ type: 'file_offer', transfer, from: 'alice', to: 'bob', name, size: bytes.length, sha256: sha256Hex(bytes) });
  bob.send({ type: 'file_accept', transfer });
  expect(await alice.nextFrame()).toEqual({ type: 'file_accept', transfer, user: 'bob' });
  return transfer;
}

/** Waits until each socket has nothing pending from the server, and drops what was pending. */
async function settle(...sockets: FrameSocket[]): Promise<void> {
  for (const socket of sockets) {
    await socket.sync();
    while (socket.pending().length > 0) await socket.nextFrame();
  }
}

function chunk(transfer: string, seq: number, bytes: Buffer, id?: string | number): Record<string, unknown> {
  return { type: 'file_chunk', transfer, seq, data: bytes.toString('base64'), ...(id !== undefined && { id }) };
}

describe('file transfer', () => {
  it('offer, accept, chunks with acks, end, result: relayed byte-exact', async () => {
    chat = await startTestServer();
    const events: TransferEvent[] = [];
    chat.server.events.on('transfer', (e) => events.push(e));
    const [alice, bob] = await twoUsers(chat);
    const carol = await chat.login('carol');
    await alice.next('presence');
    await bob.next('presence');
    const file = pseudoRandomBytes(3 * MAX_FILE_CHUNK_BYTES + 1234, 7);
    const transfer = await offerAccepted(alice, bob, file, 'cat 🐱.png');

    const pieces = chunksOf(file, MAX_FILE_CHUNK_BYTES);
    const received: Buffer[] = [];
    for (const [seq, piece] of pieces.entries()) {
      alice.send(chunk(transfer, seq, piece));
      const relayed = await bob.nextFrame();
      expect(relayed).toEqual({ type: 'file_chunk', transfer, seq, data: piece.toString('base64'), from: 'alice' });
      received.push(Buffer.from(relayed.data as string, 'base64'));
      bob.send({ type: 'file_ack', transfer, seq });
      expect(await alice.nextFrame()).toEqual({ type: 'file_ack', transfer, seq, user: 'bob' });
    }
    alice.send({ type: 'file_end', transfer, id: 'end' });
    expect(await bob.nextFrame()).toEqual({ type: 'file_end', transfer, from: 'alice' });
    expect(await alice.nextFrame()).toEqual({ type: 'ok', id: 'end' });
    const whole = Buffer.concat(received);
    expect(whole.equals(file)).toBe(true);
    expect(sha256Hex(whole)).toBe(sha256Hex(file));

    bob.send({ type: 'file_result', transfer, ok: true });
    expect(await alice.nextFrame()).toEqual({ type: 'file_result', transfer, ok: true, user: 'bob' });
    expect(await carol.sync()).toEqual([]); // a bystander sees nothing of it
    // Finished: the transfer id is gone.
    alice.send({ type: 'file_end', transfer, id: 'again' });
    expect(await alice.nextFrame()).toEqual(error('unknown_transfer', 'again'));
    expect(chat.server.files.activeCount).toBe(0);
    expect(events.map((e) => e.action)).toEqual(['offer', 'accept', 'end', 'result']);
  });

  it('the sender dropping mid-transfer cancels it for the receiver (connection_lost)', async () => {
    chat = await startTestServer();
    const [alice, bob] = await twoUsers(chat);
    const file = pseudoRandomBytes(2 * MAX_FILE_CHUNK_BYTES, 3);
    const transfer = await offerAccepted(alice, bob, file);
    alice.send(chunk(transfer, 0, file.subarray(0, MAX_FILE_CHUNK_BYTES)));
    await bob.next('file_chunk');
    alice.destroy();
    expect(await bob.nextFrame()).toEqual({ type: 'file_cancel', transfer, reason: 'connection_lost', user: 'alice' });
    expect(await bob.nextFrame()).toEqual({ type: 'presence', user: 'alice', status: 'offline', reason: 'connection_lost' });
    bob.send({ type: 'file_ack', transfer, seq: 0, id: 'a' });
    expect(await bob.nextFrame()).toEqual(error('unknown_transfer', 'a'));
  });

  it('the receiver dropping cancels it for the sender, who is told who was lost', async () => {
    chat = await startTestServer();
    const [alice, bob] = await twoUsers(chat);
    const file = pseudoRandomBytes(100, 4);
    const transfer = await offerAccepted(alice, bob, file);
    bob.destroy();
    expect(await alice.nextFrame()).toEqual({ type: 'file_cancel', transfer, reason: 'connection_lost', user: 'bob' });
    expect(await alice.nextFrame()).toMatchObject({ type: 'presence', user: 'bob', status: 'offline' });
    alice.send(chunk(transfer, 0, file, 'c'));
    expect(await alice.nextFrame()).toEqual(error('unknown_transfer', 'c'));
    expect(chat.server.files.activeCount).toBe(0);
  });

  it('either side may cancel; the other side is told with the reason', async () => {
    chat = await startTestServer();
    const [alice, bob] = await twoUsers(chat);
    const file = Buffer.from('hello');
    let transfer = await offerAccepted(alice, bob, file);
    bob.send({ type: 'file_cancel', transfer, reason: 'disk full' });
    expect(await alice.nextFrame()).toEqual({ type: 'file_cancel', transfer, reason: 'disk full', user: 'bob' });
    transfer = await offerAccepted(alice, bob, file);
    alice.send({ type: 'file_cancel', transfer });
    expect(await bob.nextFrame()).toEqual({ type: 'file_cancel', transfer, reason: 'cancelled', user: 'alice' });
    expect(chat.server.files.activeCount).toBe(0);
  });

  it('a transfer field of the wrong kind is a field error (bad_request naming it), never unknown_transfer, for every file frame', async () => {
    // 42 frames in a row: a larger burst than the default 40, so none meets the rate limit.
    chat = await startTestServer({ limits: { rateLimitBurst: 100 } });
    const [alice] = await twoUsers(chat);
    const types = ['file_accept', 'file_decline', 'file_chunk', 'file_ack', 'file_end', 'file_result', 'file_cancel'];
    const extras: Record<string, Record<string, unknown>> = { file_chunk: { seq: 0, data: 'aGk=' }, file_ack: { seq: 0 }, file_result: { ok: true } };
    for (const type of types) {
      for (const [i, transfer] of [7, '', 'x'.repeat(65), null, ['t1']].entries()) {
        const id = `${type}-${i}`;
        alice.send({ type, transfer, ...extras[type], id });
        const answer = await alice.nextFrame();
        expect(answer, `${type} with transfer ${JSON.stringify(transfer)}`).toEqual(error('bad_request', id));
        expect(answer.message).toContain('"transfer"');
      }
      alice.send({ type, ...extras[type], id: `${type}-missing` });
      expect(await alice.nextFrame()).toEqual(error('bad_request', `${type}-missing`));
    }
  });

  it('whole numbers written 6.0 or 0e0 are accepted (size, seq) and relayed written as whole numbers', async () => {
    chat = await startTestServer();
    const [alice, bob] = await twoUsers(chat);
    const raw: Buffer[] = [];
    alice.socket.on('data', (chunk: Buffer) => raw.push(chunk));
    bob.socket.on('data', (chunk: Buffer) => raw.push(chunk));
    const file = Buffer.from('hello!');
    await alice.sendRaw(`{"type":"file_offer","to":"bob","name":"f.txt","size":${file.length}.0,"sha256":"${sha256Hex(file)}","id":"o"}\n`);
    const { transfer } = await alice.next('ok');
    expect(await bob.next('file_offer')).toMatchObject({ transfer, size: file.length });
    bob.send({ type: 'file_accept', transfer });
    await alice.next('file_accept');
    await alice.sendRaw(`{"type":"file_chunk","transfer":"${String(transfer)}","seq":0.0,"data":"${file.toString('base64')}"}\n`);
    expect(await bob.next('file_chunk')).toMatchObject({ transfer, seq: 0 });
    await bob.sendRaw(`{"type":"file_ack","transfer":"${String(transfer)}","seq":0e0}\n`);
    expect(await alice.next('file_ack')).toMatchObject({ transfer, seq: 0, user: 'bob' });
    const text = Buffer.concat(raw).toString('utf8');
    expect(text).toContain(`"size":${file.length},`);
    expect(text).toContain('"seq":0,');
    expect(text).not.toMatch(/"(size|seq)":\d+(\.|e)/);
  });

  it('a chunk over 32 KiB is refused (connection stays); a chunk line over the frame limit closes only the sender, and the receiver is told', async () => {
    chat = await startTestServer();
    const [alice, bob] = await twoUsers(chat);
    const file = pseudoRandomBytes(MAX_FILE_CHUNK_BYTES + 1, 9);
    const transfer = await offerAccepted(alice, bob, file);
    alice.send(chunk(transfer, 0, file, 'big')); // 32 KiB + 1: a valid frame, a bad chunk
    expect(await alice.nextFrame()).toEqual(error('bad_request', 'big'));
    expect(await bob.sync()).toEqual([]);
    const huge = pseudoRandomBytes(MAX_FRAME_BYTES, 10).toString('base64');
    await alice.sendRaw(`{"type":"file_chunk","transfer":"${transfer}","seq":0,"data":"${huge}"}\n`);
    expect(await alice.nextFrame()).toEqual(error('frame_too_large'));
    await alice.closed();
    expect(await bob.nextFrame()).toEqual({ type: 'file_cancel', transfer, reason: 'frame_too_large', user: 'alice' });
    expect(await bob.nextFrame()).toMatchObject({ type: 'presence', user: 'alice', status: 'offline' });
  });

  it('a chunk out of order or past the size cancels the transfer for everyone (protocol_error)', async () => {
    chat = await startTestServer();
    const [alice, bob] = await twoUsers(chat);
    const file = Buffer.from('0123456789');
    let transfer = await offerAccepted(alice, bob, file);
    alice.send(chunk(transfer, 1, file, 'skip'));
    expect(await bob.nextFrame()).toEqual({ type: 'file_cancel', transfer, reason: 'protocol_error', user: 'alice' });
    expect(await alice.nextFrame()).toEqual({ type: 'file_cancel', transfer, reason: 'protocol_error' });
    expect(await alice.nextFrame()).toEqual(error('bad_request', 'skip'));

    transfer = await offerAccepted(alice, bob, file);
    alice.send(chunk(transfer, 0, Buffer.concat([file, Buffer.from('!')]), 'long'));
    expect(await bob.nextFrame()).toMatchObject({ type: 'file_cancel', transfer, reason: 'protocol_error' });
    await alice.next('file_cancel');
    expect(await alice.nextFrame()).toEqual(error('bad_request', 'long'));

    transfer = await offerAccepted(alice, bob, file);
    alice.send(chunk(transfer, 0, file.subarray(0, 4)));
    await bob.next('file_chunk');
    alice.send({ type: 'file_end', transfer, id: 'short' });
    expect(await bob.nextFrame()).toMatchObject({ type: 'file_cancel', transfer, reason: 'protocol_error' });
    await alice.next('file_cancel');
    expect(await alice.nextFrame()).toEqual(error('bad_request', 'short'));
  });

  it('to a room: every other member is offered it; only those who accepted get chunks; late ones are told too_late', async () => {
    chat = await startTestServer();
    const [alice, bob] = await twoUsers(chat);
    const carol = await chat.login('carol');
    const dave = await chat.login('dave');
    await settle(alice, bob, carol, dave);
    for (const socket of [alice, bob, carol]) {
      socket.send({ type: 'join', room: 'team', id: 'j' });
      await socket.next('users');
      await takeHistory(socket);
    }
    await settle(alice, bob, carol, dave);

    const file = Buffer.from('team notes');
    alice.send({ type: 'file_offer', room: 'team', name: 'notes.txt', size: file.length, sha256: sha256Hex(file), id: 'o' });
    const ok = await alice.nextFrame();
    expect(ok).toEqual({ type: 'ok', id: 'o', transfer: expect.any(String), users: ['bob', 'carol'] });
    const transfer = ok.transfer as string;
    for (const socket of [bob, carol]) {
      expect(await socket.nextFrame()).toEqual({ type: 'file_offer', transfer, from: 'alice', room: 'team', name: 'notes.txt', size: file.length, sha256: sha256Hex(file) });
    }
    bob.send({ type: 'file_accept', transfer });
    expect(await alice.nextFrame()).toEqual({ type: 'file_accept', transfer, user: 'bob' });
    alice.send(chunk(transfer, 0, file));
    expect(await bob.nextFrame()).toMatchObject({ type: 'file_chunk', transfer, seq: 0 });
    expect(await carol.nextFrame()).toEqual({ type: 'file_cancel', transfer, reason: 'too_late', user: 'alice' });
    expect(await alice.nextFrame()).toEqual({ type: 'file_cancel', transfer, reason: 'too_late', user: 'carol' });
    alice.send({ type: 'file_end', transfer });
    expect(await bob.nextFrame()).toEqual({ type: 'file_end', transfer, from: 'alice' });
    expect(await carol.sync()).toEqual([]);
    expect(await dave.sync()).toEqual([]);

    dave.send({ type: 'file_offer', room: 'team', name: 'x', size: 1, sha256: sha256Hex(file), id: 'd' });
    expect(await dave.nextFrame()).toEqual(error('not_in_room', 'd'));

    // Leaving the room takes nobody out of the transfer: bob still reports to alice.
    for (const socket of [alice, bob]) {
      socket.send({ type: 'leave', room: 'team', id: 'l' });
      await socket.next((f) => f.id === 'l' && f.type === 'ok');
    }
    await settle(alice, bob, carol);
    bob.send({ type: 'file_result', transfer, ok: true });
    expect(await alice.nextFrame()).toEqual({ type: 'file_result', transfer, ok: true, user: 'bob' });
  });
  it('an offer to lobby goes to everyone else online; a recipient that declined is out, the others carry on', async () => {
    chat = await startTestServer();
    const [alice, bob] = await twoUsers(chat);
    const carol = await chat.login('carol');
    await settle(alice, bob, carol);
    const file = Buffer.from('for all');
    alice.send({ type: 'file_offer', room: 'lobby', name: 'all.txt', size: file.length, sha256: sha256Hex(file) });
    const ok = await alice.nextFrame();
    expect(ok).toEqual({ type: 'ok', transfer: expect.any(String), users: ['bob', 'carol'] });
    const transfer = ok.transfer as string;
    for (const socket of [bob, carol]) expect(await socket.nextFrame()).toMatchObject({ type: 'file_offer', transfer, room: 'lobby' });
    alice.send({ type: 'file_end', transfer, id: 'end-early' });
    expect(await alice.nextFrame()).toEqual(error('bad_request', 'end-early'));
    carol.send({ type: 'file_decline', transfer });
    expect(await alice.nextFrame()).toEqual({ type: 'file_decline', transfer, user: 'carol' });
    carol.send({ type: 'file_accept', transfer, id: 'changed-mind' });
    expect(await carol.nextFrame()).toEqual(error('unknown_transfer', 'changed-mind'));
    bob.send({ type: 'file_accept', transfer });
    expect(await alice.nextFrame()).toEqual({ type: 'file_accept', transfer, user: 'bob' });
    alice.send(chunk(transfer, 0, file));
    expect(await bob.nextFrame()).toMatchObject({ type: 'file_chunk', transfer, seq: 0 });
    carol.send({ type: 'file_ack', transfer, seq: 0, id: 'ack' });
    expect(await carol.nextFrame()).toEqual(error('unknown_transfer', 'ack'));
    expect(await alice.sync()).toEqual([]);
  });

  it('several receivers: the slowest paces the window; repeated or backward acks are ignored', async () => {
    chat = await startTestServer();
    const [alice, bob] = await twoUsers(chat);
    const carol = await chat.login('carol');
    await settle(alice, bob, carol);
    for (const socket of [alice, bob, carol]) {
      socket.send({ type: 'join', room: 'team', id: 'j' });
      await socket.next('users');
      await takeHistory(socket);
    }
    await settle(alice, bob, carol);
    const file = pseudoRandomBytes(FILE_WINDOW_CHUNKS + 1, 3);
    alice.send({ type: 'file_offer', room: 'team', name: 'f', size: file.length, sha256: sha256Hex(file), id: 'o' });
    const { transfer } = await alice.next('ok');
    for (const socket of [bob, carol]) {
      await socket.next('file_offer');
      socket.send({ type: 'file_accept', transfer });
      await alice.next('file_accept');
    }
    const pieces = chunksOf(file, 1);
    for (let seq = 0; seq < FILE_WINDOW_CHUNKS; seq++) {
      alice.send(chunk(transfer as string, seq, pieces[seq] as Buffer));
      await bob.next('file_chunk');
      await carol.next('file_chunk');
    }
    bob.send({ type: 'file_ack', transfer, seq: FILE_WINDOW_CHUNKS - 1 });
    expect(await alice.nextFrame()).toEqual({ type: 'file_ack', transfer, seq: FILE_WINDOW_CHUNKS - 1, user: 'bob' });
    bob.send({ type: 'file_ack', transfer, seq: FILE_WINDOW_CHUNKS - 1, id: 'again' });
    expect(await bob.nextFrame()).toEqual({ type: 'ok', id: 'again' });
    bob.send({ type: 'file_ack', transfer, seq: 0, id: 'back' });
    expect(await bob.nextFrame()).toEqual({ type: 'ok', id: 'back' });
    // bob is up to date, carol has acknowledged nothing: chunk 8 waits for carol.
    alice.send(chunk(transfer as string, FILE_WINDOW_CHUNKS, pieces[FILE_WINDOW_CHUNKS] as Buffer, 'next'));
    const refused = await alice.nextFrame();
    expect(refused).toEqual(error('rate_limited', 'next'));
    expect(refused.message).toContain('carol');
    carol.send({ type: 'file_ack', transfer, seq: 0 });
    expect(await alice.nextFrame()).toEqual({ type: 'file_ack', transfer, seq: 0, user: 'carol' });
    alice.send(chunk(transfer as string, FILE_WINDOW_CHUNKS, pieces[FILE_WINDOW_CHUNKS] as Buffer));
    expect(await bob.nextFrame()).toMatchObject({ type: 'file_chunk', seq: FILE_WINDOW_CHUNKS });
    expect(await carol.nextFrame()).toMatchObject({ type: 'file_chunk', seq: FILE_WINDOW_CHUNKS });
  });

  it('after the offerer’s file_cancel, every frame about the transfer gets unknown_transfer', async () => {
    chat = await startTestServer();
    const [alice, bob] = await twoUsers(chat);
    const file = Buffer.from('gone');
    const transfer = await offerAccepted(alice, bob, file);
    alice.send(chunk(transfer, 0, file));
    await bob.next('file_chunk');
    alice.send({ type: 'file_cancel', transfer, reason: 'changed my mind' });
    expect(await bob.nextFrame()).toEqual({ type: 'file_cancel', transfer, reason: 'changed my mind', user: 'alice' });
    bob.send({ type: 'file_ack', transfer, seq: 0, id: 'ack' });
    expect(await bob.nextFrame()).toEqual(error('unknown_transfer', 'ack'));
    bob.send({ type: 'file_cancel', transfer, id: 'cancel' });
    expect(await bob.nextFrame()).toEqual(error('unknown_transfer', 'cancel'));
    alice.send({ type: 'file_end', transfer, id: 'end' });
    expect(await alice.nextFrame()).toEqual(error('unknown_transfer', 'end'));
    expect(await alice.sync()).toEqual([]);
  });
});
