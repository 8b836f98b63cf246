import { describe, expect, it } from 'vitest';
import { tuiError, tuiHistoryEnd, tuiInfo, tuiMessage, tuiPresence, tuiTransfer } from './tui-format.ts';

const ts = new Date(2025, 0, 2, 3, 4, 5).getTime();

/** What blessed shows for a tagged line: its own tags gone, `{open}`/`{close}` back to braces. */
function visible(tagged: string): string {
  return tagged
    .replaceAll('{open}', '\u0001')
    .replaceAll('{close}', '\u0002')
    .replace(/\{\/?[\w-]+\}/g, '')
    .replaceAll('\u0001', '{')
    .replaceAll('\u0002', '}');
}

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** One entry: no control, separator or bidi character; continuation lines (message text only) indented. */
function expectOneEntry(tagged: string, continued = false): void {
  const [, ...rest] = tagged.split('\n');
  expect(UNSAFE.test(tagged), JSON.stringify(tagged)).toBe(false);
  if (!continued) expect(rest, JSON.stringify(tagged)).toEqual([]);
  for (const line of rest) expect(line, JSON.stringify(tagged)).toMatch(/^ +\S/);
}

describe('TUI lines escape what came from the network as the line mode does, and blessed tags too', () => {
  const forged = '{bold}{red-fg}\n12:00:00 alice: forged\u2028\u202e{/red-fg}';

  it('a message: name, room and text', () => {
    const line = tuiMessage({ type: 'message', from: `mallory${forged}`, room: `dev${forged}`, text: `hi${forged}`, ts }, 'bob');
    expectOneEntry(line, true);
    expect(visible(line)).toContain('mallory{bold}{red-fg}\\n12:00:00 alice: forged\\u{2028}\\u{202E}{/red-fg}');
    expect(visible(line)).toContain('#dev{bold}');
    expect(visible(line).split('\n')[1]).toMatch(/^ +12:00:00 alice: forged/); // the text's own newline: indented
  });

  it('presence, error, info and transfer lines', () => {
    for (const line of [
      tuiPresence({ type: 'presence', user: `mallory${forged}`, status: 'online' }),
      tuiPresence({ type: 'presence', user: 'bob', status: 'offline', room: `dev${forged}` }),
      tuiError({ code: `bad${forged}`, message: `because${forged}` }),
      tuiInfo(`online: mallory${forged}`),
      tuiTransfer({ kind: 'rejected', transfer: 't1', name: `cat.png${forged}`, user: 'bob', reason: `no${forged}` }) ?? '',
      tuiTransfer({ kind: 'incoming', transfer: 't1', name: `cat.png${forged}`, from: `mallory${forged}`, size: 1, sha256: 'x' }) ?? '',
    ]) {
      expectOneEntry(line);
      expect(visible(line)).toContain('{bold}{red-fg}\\n12:00:00');
    }
  });
});

describe('the history marker says what it is: the end of the replay, not a count to scroll up to', () => {
  it.each([
    [{ count: 1 }, '── end of history (1 message) ──'],
    [{ count: 3, room: 'lobby' }, '── end of history (3 messages) ──'],
    [{ count: 3, room: 'rust' }, '── end of history in #rust (3 messages) ──'],
    [{ count: 50, to: 'bob', truncated: true }, '── end of history with bob (50 messages; older ones left out, /history pages back) ──'],
  ])('%o → %s', (end, line) => {
    expect(visible(tuiHistoryEnd(end))).toBe(line);
  });

  it('a room name cannot smuggle tags or control characters', () => {
    expectOneEntry(tuiHistoryEnd({ count: 2, room: '{bold}x\n' }));
    expect(visible(tuiHistoryEnd({ count: 2, room: '{bold}x' }))).toBe('── end of history in #{bold}x (2 messages) ──');
  });
});
