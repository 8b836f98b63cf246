/**
 * The file-transfer rules, played against the core (see test-support/playbook.ts): who may send
 * what when, the refusals of bad offers, ids and chunks, the flow-control window and what a chunk
 * or an ack costs. A byte-exact transfer end to end, and the cancel paths (a party dropping, a
 * chunk line over the frame limit, cancels), stay in server-files.test.ts, over TCP.
 */
import { describe, expect, it } from 'vitest';
import { FILE_WINDOW_CHUNKS, type RawFrame } from '../src/protocol/index.ts';
import { errorFrame as error } from '../test-support/chat-server.ts';
import { chunksOf, pseudoRandomBytes, sha256Hex } from '../test-support/extensions.ts';
import { play, type Playbook } from '../test-support/playbook.ts';

/** alice offers `bytes` to bob as transfer `transfer` (ids count up from t1), bob accepts; both sides' frames taken. */
function offerAccepted(script: Playbook, transfer: string, bytes: Buffer, name = 'data.bin'): Playbook {
  const sha256 = sha256Hex(bytes);
  return script
    .send('alice', { type: 'file_offer', to: 'bob', name, size: bytes.length, sha256, id: 'offer' })
    .expectExact('alice', { type: 'ok', id: 'offer', transfer, users: ['bob'] })
    .expectExact('bob', { type: 'file_offer', transfer, from: 'alice', to: 'bob', name, size: bytes.length, sha256 })
    .send('bob', { type: 'file_accept', transfer })
    .expectExact('alice', { type: 'file_accept', transfer, user: 'bob' });
}

function chunk(transfer: string, seq: number, bytes: Buffer, id?: string | number): RawFrame {
  return { type: 'file_chunk', transfer, seq, data: bytes.toString('base64'), ...(id !== undefined && { id }) };
}

describe('file transfer rules', () => {
  it('an empty file: accept, end, result', async () => {
    await offerAccepted(play().login('alice').login('bob'), 't1', Buffer.alloc(0), 'empty.txt')
      .send('alice', { type: 'file_end', transfer: 't1' })
      .expectExact('bob', { type: 'file_end', transfer: 't1', from: 'alice' })
      .send('bob', { type: 'file_result', transfer: 't1', ok: false, reason: 'checksum mismatch' })
      .expectExact('alice', { type: 'file_result', transfer: 't1', ok: false, reason: 'checksum mismatch', user: 'bob' })
      .check('the transfer is over', ({ files }) => void expect(files.activeCount).toBe(0));
  });

  it('decline is reported to the sender and ends the transfer', async () => {
    const file = Buffer.from('no thanks');
    await play()
      .login('alice')
      .login('bob')
      .send('alice', { type: 'file_offer', to: 'bob', name: 'spam.exe', size: file.length, sha256: sha256Hex(file), id: 1 })
      .expect('alice', { type: 'ok', id: 1, transfer: 't1' })
      .expect('bob', { type: 'file_offer', transfer: 't1' })
      .send('bob', { type: 'file_decline', transfer: 't1', id: 'd' })
      .expectExact('bob', { type: 'ok', id: 'd' })
      .expectExact('alice', { type: 'file_decline', transfer: 't1', user: 'bob' })
      .send('alice', chunk('t1', 0, file, 'c'))
      .expectExact('alice', error('unknown_transfer', 'c'))
      .send('bob', { type: 'file_accept', transfer: 't1', id: 'late' })
      .expectExact('bob', error('unknown_transfer', 'late'));
  });

  it('only the offerer sends chunks; nothing before an accept; strangers get unknown_transfer', async () => {
    const file = Buffer.from('only mine');
    await play()
      .login('alice')
      .login('bob')
      .login('carol')
      .send('alice', { type: 'file_offer', to: 'bob', name: 'x', size: file.length, sha256: sha256Hex(file), id: 1 })
      .expect('alice', { type: 'ok', transfer: 't1' })
      .expect('bob', { type: 'file_offer' })
      .send('alice', chunk('t1', 0, file, 'early'))
      .expectExact('alice', error('bad_request', 'early'))
      .send('bob', { type: 'file_accept', transfer: 't1' })
      .expect('alice', { type: 'file_accept' })
      .send('bob', chunk('t1', 0, file, 'forged'))
      .expectExact('bob', { ...error('bad_request', 'forged'), message: expect.stringContaining('alice') })
      .send('carol', chunk('t1', 0, file, 'stranger'))
      .expectExact('carol', error('unknown_transfer', 'stranger'))
      .send('carol', { type: 'file_accept', transfer: 't1', id: 'steal' })
      .expectExact('carol', error('unknown_transfer', 'steal'))
      .send('alice', { type: 'file_accept', transfer: 't1', id: 'self' })
      .expectExact('alice', error('bad_request', 'self'))
      // The transfer itself is intact: the real chunk goes through.
      .send('alice', chunk('t1', 0, file))
      .expect('bob', { type: 'file_chunk', seq: 0, from: 'alice' })
      .expectNothing();
  });

  it('unknown_transfer for an id nobody offered', async () => {
    const script = play().login('alice');
    for (const [i, type] of ['file_accept', 'file_decline', 'file_end', 'file_cancel'].entries()) {
      script.send('alice', { type, transfer: 't999', id: i }).expectExact('alice', error('unknown_transfer', i));
    }
    await script.send('alice', { type: 'file_result', transfer: 'nope', ok: true, id: 'r' }).expectExact('alice', error('unknown_transfer', 'r'));
  });

  it('offers: file_too_large over maxFileBytes, unknown_user for offline or unknown, bad_request otherwise', async () => {
    const sha256 = sha256Hex(Buffer.alloc(0));
    const offer = (fields: Record<string, unknown>, id: number): RawFrame => ({ type: 'file_offer', name: 'f', size: 10, sha256, id, ...fields });
    await play({ limits: { maxFileBytes: 1000 } })
      .login('alice')
      .login('bob')
      .send('alice', offer({ to: 'bob', size: 1001 }, 1))
      .expectExact('alice', error('file_too_large', 1))
      .send('alice', offer({ to: 'bob', size: 1000 }, 2))
      .expect('alice', { type: 'ok', id: 2 })
      .expect('bob', { type: 'file_offer', size: 1000 })
      .send('alice', offer({ to: 'carol' }, 3)) // an account, but offline
      .expectExact('alice', error('unknown_user', 3))
      .send('alice', offer({ to: 'nobody' }, 4))
      .expectExact('alice', error('unknown_user', 4))
      .send('alice', offer({ to: 'alice' }, 5))
      .expectExact('alice', error('bad_request', 5))
      .send('alice', offer({}, 6))
      .expectExact('alice', error('bad_request', 6))
      .send('alice', offer({ to: 'bob', room: 'lobby' }, 7))
      .expectExact('alice', error('bad_request', 7))
      .send('alice', offer({ room: 'rust' }, 8))
      .expectExact('alice', error('unknown_room', 8))
      .send('alice', offer({ to: 'bob', sha256: 'not-a-digest' }, 9))
      .expectExact('alice', error('bad_request', 9));
  });

  it('maxTransfersPerUser bounds unfinished offers', async () => {
    const sha256 = sha256Hex(Buffer.alloc(0));
    const script = play({ limits: { maxTransfersPerUser: 2 } })
      .login('alice')
      .login('bob');
    for (const id of [1, 2]) {
      script.send('alice', { type: 'file_offer', to: 'bob', name: 'f', size: 0, sha256, id }).expect('alice', { type: 'ok', id }).expect('bob', { type: 'file_offer' });
    }
    await script.send('alice', { type: 'file_offer', to: 'bob', name: 'f', size: 0, sha256, id: 3 }).expectExact('alice', error('rate_limited', 3));
  });

  it(`flow control: at most ${FILE_WINDOW_CHUNKS} unacknowledged chunks; the refused one goes through after an ack`, async () => {
    const file = pseudoRandomBytes(12 * 10, 5);
    const pieces = chunksOf(file, 10);
    const script = offerAccepted(play().login('alice').login('bob'), 't1', file);
    for (let seq = 0; seq < FILE_WINDOW_CHUNKS; seq++) script.send('alice', chunk('t1', seq, pieces[seq] as Buffer));
    script.send('alice', chunk('t1', FILE_WINDOW_CHUNKS, pieces[FILE_WINDOW_CHUNKS] as Buffer, 'over')).expectExact('alice', error('rate_limited', 'over'));
    for (let seq = 0; seq < FILE_WINDOW_CHUNKS; seq++) script.expect('bob', { type: 'file_chunk', seq });
    await script
      .expectNothing('bob')
      .send('bob', { type: 'file_ack', transfer: 't1', seq: 0 })
      .expectExact('alice', { type: 'file_ack', transfer: 't1', seq: 0, user: 'bob' })
      .send('alice', chunk('t1', FILE_WINDOW_CHUNKS, pieces[FILE_WINDOW_CHUNKS] as Buffer, 'retry'))
      .expectExact('alice', { type: 'ok', id: 'retry' })
      .expect('bob', { type: 'file_chunk', seq: FILE_WINDOW_CHUNKS })
      .send('bob', { type: 'file_ack', transfer: 't1', seq: 99, id: 'future' })
      .expectExact('bob', error('bad_request', 'future'));
  });

  it('chunks are paced by the window, not the message rate limit', async () => {
    // 5 frames of burst and 1 per second, on a clock that never moves: 40 chunks and 40 acks pass all the same.
    const file = pseudoRandomBytes(40 * 100, 6);
    const script = offerAccepted(
      play({ limits: { rateLimitBurst: 5, rateLimitPerSecond: 1 } })
        .login('alice')
        .login('bob'),
      't1',
      file,
    );
    for (const [seq, piece] of chunksOf(file, 100).entries()) {
      script
        .send('alice', chunk('t1', seq, piece))
        .expectExact('bob', { type: 'file_chunk', transfer: 't1', seq, data: piece.toString('base64'), from: 'alice' })
        .send('bob', { type: 'file_ack', transfer: 't1', seq })
        .expect('alice', { type: 'file_ack', seq });
    }
    await script;
  });

  it('a repeated ack is not free: it costs a rate-limit token like any frame', async () => {
    const file = Buffer.from('ab');
    // A clock that never moves: no token comes back during the script.
    await offerAccepted(
      play({ limits: { rateLimitBurst: 4, rateLimitPerSecond: 1 } })
        .login('alice')
        .login('bob'),
      't1',
      file,
    )
      .send('alice', chunk('t1', 0, file))
      .expect('bob', { type: 'file_chunk' })
      .send('bob', { type: 'file_ack', transfer: 't1', seq: 0 })
      .expect('alice', { type: 'file_ack' })
      // bob's bucket: 4, minus the login and the accept = 2 left; the first ack was free.
      .send('bob', { type: 'file_ack', transfer: 't1', seq: 0, id: 0 }, { type: 'file_ack', transfer: 't1', seq: 0, id: 1 }, { type: 'file_ack', transfer: 't1', seq: 0, id: 2 })
      .expectExact('bob', { type: 'ok', id: 0 }, { type: 'ok', id: 1 }, error('rate_limited', 2))
      .expectNothing('alice');
  });
});
