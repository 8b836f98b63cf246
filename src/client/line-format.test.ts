import { describe, expect, it } from 'vitest';
import { clock, formatError, formatInfo, formatMessage, formatPresence, formatTransfer, sanitize } from './line-format.ts';

const plain = { color: false };
const colour = { color: true };
// 2025-01-02 03:04:05 local time.
const ts = new Date(2025, 0, 2, 3, 4, 5).getTime();

describe('line format', () => {
  it('clock pads to hh:mm:ss in local time', () => {
    expect(clock(ts)).toBe('03:04:05');
    expect(clock(new Date(2025, 0, 2, 23, 59, 9).getTime())).toBe('23:59:09');
  });

  const messages = [
    { name: 'plain message', frame: { type: 'message' as const, from: 'alice', text: 'hello 👋', ts }, line: '[03:04:05] alice: hello 👋' },
    { name: 'room message', frame: { type: 'message' as const, from: 'alice', text: 'hi', ts, room: 'dev' }, line: '[03:04:05] #dev alice: hi' },
    { name: 'lobby message (room: lobby) has no tag', frame: { type: 'message' as const, from: 'alice', text: 'hi', ts, room: 'lobby', msgid: 3 }, line: '[03:04:05] alice: hi' },
    {
      name: 'multi-line text continues indented under the text',
      frame: { type: 'message' as const, from: 'bob', text: 'one\ntwo', ts },
      line: '[03:04:05] bob: one\n                two',
    },
    { name: 'control characters are shown, not obeyed', frame: { type: 'message' as const, from: 'eve', text: 'x\u001b[2Jy\u0007', ts }, line: '[03:04:05] eve: x\\x1b[2Jy\\x07' },
  ];
  it.each(messages)('$name', ({ frame, line }) => {
    expect(formatMessage(frame, plain)).toBe(line);
    // The verifier's client contract: an output line holds `<from>: <text>`.
    expect(formatMessage(frame, plain)).toContain(`${frame.from}: `);
  });

  it('private messages show sender → recipient, "you" for the reader', () => {
    const frame = { type: 'message' as const, from: 'alice', text: 'psst', ts, to: 'bob' };
    expect(formatMessage(frame, plain, { me: 'bob' })).toBe('[03:04:05] alice → you: psst');
    expect(formatMessage(frame, plain, { me: 'alice' })).toBe('[03:04:05] alice → bob: psst');
    expect(formatMessage(frame, plain)).toBe('[03:04:05] alice → bob: psst');
  });

  it('colours only when asked', () => {
    const frame = { type: 'message' as const, from: 'alice', text: 'hi', ts };
    expect(formatMessage(frame, plain)).not.toContain('\u001b[');
    const coloured = formatMessage(frame, colour);
    expect(coloured).toContain('\u001b[');
    expect(coloured.replace(/\u001b\[\d+m/g, '')).toBe('[03:04:05] alice: hi');
  });

  const others = [
    { name: 'online', line: formatPresence({ type: 'presence', user: 'bob', status: 'online' }, plain), expected: '* bob is online' },
    { name: 'offline', line: formatPresence({ type: 'presence', user: 'bob', status: 'offline', reason: 'connection_lost' }, plain), expected: '* bob is offline' },
    { name: 'room join', line: formatPresence({ type: 'presence', user: 'alice', status: 'online', room: 'rust' }, plain), expected: '* alice joined #rust' },
    { name: 'room leave', line: formatPresence({ type: 'presence', user: 'alice', status: 'offline', room: 'rust' }, plain), expected: '* alice left #rust' },
    { name: 'error', line: formatError({ code: 'rate_limited', message: 'slow down' }, plain), expected: '! rate_limited: slow down' },
    { name: 'info', line: formatInfo('online: alice, bob', plain), expected: '* online: alice, bob' },
  ];
  it.each(others)('$name line', ({ line, expected }) => expect(line).toBe(expected));

  it('sanitize keeps newlines, tabs and Unicode, escapes C0, DEL and C1 controls', () => {
    expect(sanitize('a\tb\nc é 👋')).toBe('a\tb\nc é 👋');
    expect(sanitize('\u0000\u001b\u007f\u009b')).toBe('\\x00\\x1b\\x7f\\x9b');
  });

  const transfers = [
    { event: { kind: 'incoming' as const, transfer: 't7', from: 'alice', name: 'cat.png', size: 12_390, sha256: 'x' }, line: '~ cat.png (12.1 KiB) offered by alice [t7]: /accept t7 or /decline t7' },
    { event: { kind: 'offered' as const, transfer: 't7', name: 'cat.png', size: 500, target: { room: 'rust' } }, line: '~ cat.png (500 B) offered to #rust [t7]' },
    { event: { kind: 'progress' as const, transfer: 't7', name: 'cat.png', direction: 'send' as const, bytes: 5_530, size: 12_390, percent: 44 }, line: '~ cat.png 44% (5.4 KiB of 12.1 KiB)' },
    { event: { kind: 'received' as const, transfer: 't7', name: 'cat.png', from: 'alice', path: 'downloads/cat.png', size: 12_390 }, line: '~ cat.png received from alice: saved as downloads/cat.png (12.1 KiB, sha256 ok)' },
    { event: { kind: 'delivered' as const, transfer: 't7', name: 'cat.png', user: 'bob' }, line: '~ cat.png delivered to bob (sha256 ok)' },
    { event: { kind: 'rejected' as const, transfer: 't7', name: 'cat.png', user: 'bob', reason: 'checksum mismatch' }, line: '~ cat.png rejected by bob: checksum mismatch' },
    {
      event: { kind: 'failed' as const, transfer: 't7', name: 'cat.png', direction: 'receive' as const, reason: 'connection_lost', interrupted: true },
      line: '~ cat.png interrupted: connection_lost (nothing kept)',
    },
    { event: { kind: 'complete' as const, transfer: 't7', name: 'cat.png', accepted: 0, delivered: 0 }, line: '~ cat.png not sent: nobody accepted' },
    { event: { kind: 'complete' as const, transfer: 't7', name: 'cat.png', accepted: 3, delivered: 2 }, line: '~ cat.png done: delivered to 2 of 3' },
  ];
  it.each(transfers)('transfer line: $line', ({ event, line }) => expect(formatTransfer(event, plain)).toBe(line));

  it('a one-recipient transfer needs no "done" line: delivered said it', () => {
    expect(formatTransfer({ kind: 'complete', transfer: 't1', name: 'a', accepted: 1, delivered: 1 }, plain)).toBeNull();
  });

  it('a file name cannot smuggle control characters into the terminal', () => {
    expect(formatTransfer({ kind: 'accepted', transfer: 't1', name: 'a\u001b[2Jb', user: 'bob' }, plain)).toBe('~ a\\x1b[2Jb accepted by bob');
  });
});
