import { describe, expect, it } from 'vitest';
import { Terminal } from './terminal.ts';

describe('Terminal', () => {
  it('records complete lines, keeps a partial one until its newline, and marks typed lines', () => {
    const terminal = new Terminal('alice', 'node client.mjs');
    terminal.write('connected\nlogged ');
    terminal.typed('hello');
    terminal.write('in\r\n');
    expect(terminal.lines).toEqual([
      { kind: 'out', text: 'connected' },
      { kind: 'in', text: 'hello' },
      { kind: 'out', text: 'logged in' },
    ]);
    expect(terminal.printed).toEqual(['connected', 'logged in']);
  });

  it('keeps an unterminated last line when the program ends', () => {
    const terminal = new Terminal('server', 'node server.mjs');
    terminal.write('bye');
    terminal.end();
    expect(terminal.printed).toEqual(['bye']);
  });

  it('expect() waits for a line printed later, and consumes lines in order', async () => {
    const terminal = new Terminal('bob', 'node client.mjs');
    terminal.write('a\n');
    const waiting = terminal.expect('b', 1_000);
    setTimeout(() => terminal.write('b\n'), 10);
    await waiting;
    // 'a' came before the consumed 'b': it can no longer satisfy an expectation.
    await expect(terminal.expect('a', 50)).rejects.toThrow(/bob did not print, within 50 ms, "a"/);
  });

  it('expect() fails at once, with what was shown, when the program ended without the line', async () => {
    const terminal = new Terminal('carol', 'node client.mjs');
    terminal.write('! auth_failed: wrong user name or password\n');
    const waiting = terminal.expect('logged in as carol', 5_000);
    terminal.end();
    await expect(waiting).rejects.toThrow(/carol ended without printing "logged in as carol"\. It showed:\n {4}! auth_failed/);
  });
});
