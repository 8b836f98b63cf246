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

  it('sanitize keeps Unicode, escapes C0 (line breaks too), DEL, C1, line separators and bidi controls', () => {
    expect(sanitize('c é 👋 日本')).toBe('c é 👋 日本');
    expect(sanitize('\u0000\u001b\u007f\u009b')).toBe('\\x00\\x1b\\x7f\\x9b');
    expect(sanitize('a\tb\nc\rd')).toBe('a\\tb\\nc\\rd');
    expect(sanitize('\u2028\u2029\u202a\u202e\u2066\u2069')).toBe('\\u{2028}\\u{2029}\\u{202A}\\u{202E}\\u{2066}\\u{2069}');
    // A message text keeps its newlines and tabs (they are indented / harmless); nothing else.
    expect(sanitize('a\tb\nc\rd\u2028e', { multiline: true })).toBe('a\tb\nc\\rd\\u{2028}e');
  });

  describe('text from the network cannot forge a line', () => {
    const FORGERIES = [
      '\n[12:00:00] alice: forged',
      '\r[12:00:00] alice: forged',
      '\r\n[12:00:00] alice: forged',
      '\u000b[12:00:00] alice: forged',
      '\u000c[12:00:00] alice: forged',
      '\u0085[12:00:00] alice: forged',
      '\u2028[12:00:00] alice: forged',
      '\u2029[12:00:00] alice: forged',
      '\u001b[2K\u001b[1G[12:00:00] alice: forged', // erase the line, back to column 1
      '\u202e:ecilA ]00:00:21[', // right-to-left override: reads as "[12:00:00] Alice:"
      '\u2066\n[12:00:00] alice: forged\u2069',
    ];
    // Everything a terminal may take as the start of a new line, or as a reason to redraw one.
    const LINE_BREAK = /\r\n|[\n\r\u000b\u000c\u0085\u2028\u2029]/;
    // eslint-disable-next-line no-control-regex
    const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

    /** Asserts `output` is one line, or a first line plus indented continuation lines (with `continued`). */
    function expectOneEntry(printed: string, continued = false): void {
      const output = printed.replace(/\u001b\[\d+m/g, ''); // our own colours
      const [first, ...rest] = output.split(LINE_BREAK);
      expect(UNSAFE.test(output), JSON.stringify(output)).toBe(false);
      if (!continued) expect(rest, JSON.stringify(output)).toEqual([]);
      for (const line of rest) expect(line, JSON.stringify(output)).toMatch(/^ +\S/);
      expect(first).toBeDefined();
    }

    it.each(FORGERIES)('in a name, a room, a text: %j', (forged) => {
      const name = `mallory${forged}`;
      expectOneEntry(formatMessage({ type: 'message', from: name, text: 'hi', ts }, plain));
      expectOneEntry(formatMessage({ type: 'message', from: 'bob', text: 'hi', ts, room: `dev${forged}` }, plain));
      expectOneEntry(formatMessage({ type: 'message', from: 'bob', text: 'hi', ts, to: name }, plain, { me: 'bob' }));
      expectOneEntry(formatMessage({ type: 'message', from: 'bob', text: `hi${forged}`, ts }, plain), true);
      expectOneEntry(formatMessage({ type: 'message', from: 'bob', text: `hi${forged}`, ts }, colour), true);
      expectOneEntry(formatPresence({ type: 'presence', user: name, status: 'online' }, plain));
      expectOneEntry(formatPresence({ type: 'presence', user: 'bob', status: 'offline', room: `dev${forged}` }, plain));
      expectOneEntry(formatError({ code: `bad${forged}`, message: `because${forged}` }, plain));
      expectOneEntry(formatInfo(`online: ${name}, bob`, plain));
    });

    it.each(FORGERIES)('in a file name, a reason, a path: %j', (forged) => {
      const name = `cat.png${forged}`;
      const events = [
        { kind: 'incoming' as const, transfer: `t7${forged}`, from: `mallory${forged}`, name, size: 1, sha256: 'x', room: `dev${forged}` },
        { kind: 'offered' as const, transfer: 't7', name, size: 1, target: { to: `bob${forged}` } },
        { kind: 'accepted' as const, transfer: 't7', name, user: `bob${forged}` },
        { kind: 'declined' as const, transfer: 't7', name, user: `bob${forged}` },
        { kind: 'receiving' as const, transfer: 't7', name, from: `bob${forged}`, directory: `dl${forged}` },
        { kind: 'received' as const, transfer: 't7', name, from: 'alice', path: `downloads/${name}`, size: 1 },
        { kind: 'delivered' as const, transfer: 't7', name, user: 'bob' },
        { kind: 'rejected' as const, transfer: 't7', name, user: 'bob', reason: `bad${forged}` },
        { kind: 'failed' as const, transfer: 't7', name, direction: 'send' as const, user: `bob${forged}`, reason: `gone${forged}`, interrupted: false },
      ];
      for (const event of events) expectOneEntry(formatTransfer(event, plain) ?? '');
    });
  });

  const transfers = [
    { event: { kind: 'incoming' as const, transfer: 't7', from: 'alice', name: 'cat.png', size: 12_390, sha256: 'x' }, line: '~ cat.png (12.1 KiB) offered by alice [t7]: /accept t7 or /decline t7' },
    { event: { kind: 'offered' as const, transfer: 't7', name: 'cat.png', size: 500, target: { room: 'rust' } }, line: '~ cat.png (500 B) offered to #rust [t7]' },
    { event: { kind: 'progress' as const, transfer: 't7', name: 'cat.png', direction: 'send' as const, bytes: 5_530, size: 12_390, percent: 44 }, line: '~ cat.png 44% (5.4 KiB of 12.1 KiB)' },
    {
      event: { kind: 'received' as const, transfer: 't7', name: 'cat.png', from: 'alice', path: 'downloads/cat.png', size: 12_390 },
      line: '~ cat.png received from alice: saved as downloads/cat.png (12.1 KiB, sha256 ok)',
    },
    { event: { kind: 'delivered' as const, transfer: 't7', name: 'cat.png', user: 'bob' }, line: '~ cat.png delivered to bob (sha256 ok)' },
    { event: { kind: 'rejected' as const, transfer: 't7', name: 'cat.png', user: 'bob', reason: 'checksum mismatch' }, line: '~ cat.png rejected by bob: checksum mismatch' },
    {
      event: { kind: 'failed' as const, transfer: 't7', name: 'cat.png', direction: 'receive' as const, reason: 'connection_lost', interrupted: true, user: 'alice', cancelledBy: 'alice' },
      line: "~ cat.png interrupted: alice's connection was lost (nothing kept)",
    },
    {
      event: { kind: 'failed' as const, transfer: 't7', name: 'cat.png', direction: 'send' as const, reason: 'disk full', interrupted: true, user: 'bob', cancelledBy: 'bob' },
      line: '~ cat.png interrupted: bob cancelled it: disk full',
    },
    {
      event: { kind: 'failed' as const, transfer: 't7', name: 'cat.png', direction: 'send' as const, reason: 'output_overflow', interrupted: true, user: 'bob', cancelledBy: 'bob' },
      line: '~ cat.png interrupted: the server disconnected bob (output_overflow)',
    },
    {
      event: { kind: 'failed' as const, transfer: 't7', name: 'cat.png', direction: 'receive' as const, reason: 'too_late', interrupted: true, user: 'alice', cancelledBy: 'alice', withdrawn: true },
      line: '~ cat.png offer withdrawn: alice started sending before you answered',
    },
    {
      event: { kind: 'failed' as const, transfer: 't7', name: 'cat.png', direction: 'send' as const, reason: 'bob never confirmed the file', interrupted: true, user: 'bob' },
      line: '~ cat.png interrupted for bob: bob never confirmed the file',
    },
    { event: { kind: 'failed' as const, transfer: 't7', name: 'cat.png', direction: 'send' as const, reason: 'cancelled', interrupted: true }, line: '~ cat.png interrupted: you cancelled it' },
    {
      event: {
        kind: 'failed' as const,
        transfer: 't7',
        name: 'cat.png',
        direction: 'receive' as const,
        reason: 'nobody accepted the file in time',
        interrupted: true,
        user: 'alice',
        cancelledBy: 'alice',
        withdrawn: true,
      },
      line: '~ cat.png offer withdrawn: alice cancelled it: nobody accepted the file in time',
    },
    { event: { kind: 'complete' as const, transfer: 't7', name: 'cat.png', offered: 2, accepted: 0, delivered: 0 }, line: '~ cat.png not sent: nobody accepted' },
    { event: { kind: 'complete' as const, transfer: 't7', name: 'cat.png', offered: 3, accepted: 3, delivered: 2 }, line: '~ cat.png done: delivered to 2 of 3' },
  ];
  it.each(transfers)('transfer line: $line', ({ event, line }) => expect(formatTransfer(event, plain)).toBe(line));

  it('a one-recipient transfer needs no "done" line: delivered, rejected or declined said it', () => {
    expect(formatTransfer({ kind: 'complete', transfer: 't1', name: 'a', offered: 1, accepted: 1, delivered: 1 }, plain)).toBeNull();
    expect(formatTransfer({ kind: 'complete', transfer: 't1', name: 'a', offered: 1, accepted: 0, delivered: 0 }, plain)).toBeNull();
  });

  it('a file name cannot smuggle control characters into the terminal', () => {
    expect(formatTransfer({ kind: 'accepted', transfer: 't1', name: 'a\u001b[2Jb', user: 'bob' }, plain)).toBe('~ a\\x1b[2Jb accepted by bob');
  });
});
