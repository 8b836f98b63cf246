import { describe, expect, test } from 'vitest';
import { lastRaisedException } from './raised-exception.ts';
import type { OutputLine } from './supervisor.ts';

const stderr = (...texts: string[]): OutputLine[] => texts.map((text, atMs) => ({ stream: 'stderr', text, atMs }));

describe('lastRaisedException', () => {
  test("takes a Python traceback's last line, not its frames nor the thread line", () => {
    const lines = stderr(
      'Exception in thread Thread-15 (handle):',
      'Traceback (most recent call last):',
      '  File "server.py", line 11, in on_leave',
      '    members = self.rooms[room]',
      '              ~~~~~~~~~~^^^^^^',
      "KeyError: 'nosuch'",
    );
    expect(lastRaisedException(lines)).toBe("KeyError: 'nosuch'");
  });

  test('takes the last of several, with a dotted name and no message', () => {
    const lines = stderr(
      'ValueError: first',
      'Traceback (most recent call last):',
      '  File "x.py", line 1, in f',
      'json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)',
      'Traceback (most recent call last):',
      'RecursionError',
    );
    expect(lastRaisedException(lines)).toBe('RecursionError');
  });

  test("names a Java thread's exception, and a logged JavaScript error", () => {
    expect(lastRaisedException(stderr('Exception in thread "Thread-3" java.lang.NullPointerException: Cannot invoke "String.length()"', '\tat Server.handle(Server.java:42)'))).toBe(
      'java.lang.NullPointerException: Cannot invoke "String.length()"',
    );
    expect(lastRaisedException(stderr("TypeError: Cannot read properties of undefined (reading 'type')", '    at handle (server.js:10:5)'))).toBe(
      "TypeError: Cannot read properties of undefined (reading 'type')",
    );
  });

  test('ignores stdout, ordinary log lines and indented lines, and shortens a long message', () => {
    expect(lastRaisedException([{ stream: 'stdout', text: 'KeyError: not on stderr', atMs: 0 }, ...stderr('listening on 127.0.0.1:7070', '    KeyError: indented', 'an Error happened')])).toBeNull();
    const long = lastRaisedException(stderr(`KeyError: '${'x'.repeat(400)}'`));
    expect(long).toHaveLength(160);
    expect(long?.endsWith('…')).toBe(true);
  });
});
