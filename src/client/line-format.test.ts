import { describe, expect, it } from 'vitest';
import { clock, formatError, formatInfo, formatMessage, formatPresence, sanitize } from './line-format.ts';

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
    { name: 'private message', frame: { type: 'message' as const, from: 'alice', text: 'psst', ts, to: 'bob' }, line: '[03:04:05] (private to bob) alice: psst' },
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
    { name: 'error', line: formatError({ code: 'rate_limited', message: 'slow down' }, plain), expected: '! rate_limited: slow down' },
    { name: 'info', line: formatInfo('online: alice, bob', plain), expected: '* online: alice, bob' },
  ];
  it.each(others)('$name line', ({ line, expected }) => expect(line).toBe(expected));

  it('sanitize keeps newlines, tabs and Unicode, escapes C0, DEL and C1 controls', () => {
    expect(sanitize('a\tb\nc é 👋')).toBe('a\tb\nc é 👋');
    expect(sanitize('\u0000\u001b\u007f\u009b')).toBe('\\x00\\x1b\\x7f\\x9b');
  });
});
