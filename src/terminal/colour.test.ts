import { describe, expect, it } from 'vitest';
import { canRunFullScreen, colorEnabled, paint, painter } from './colour.ts';

const tty = { isTTY: true };
const pipe = { isTTY: false };

describe('the colour decision', () => {
  it('follows the terminal when no variable says otherwise', () => {
    expect(colorEnabled(tty, {})).toBe(true);
    expect(colorEnabled(pipe, {})).toBe(false);
  });

  it('NO_COLOR (set, not empty) turns it off', () => {
    expect(colorEnabled(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: '' })).toBe(true);
  });

  it('FORCE_COLOR wins over both: on into a pipe, off with 0 or false', () => {
    expect(colorEnabled(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorEnabled(pipe, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(true);
    expect(colorEnabled(tty, { FORCE_COLOR: '0' })).toBe(false);
    expect(colorEnabled(tty, { FORCE_COLOR: 'false' })).toBe(false);
  });

  it('paints only when told to, whatever process.stdout is', () => {
    expect(paint('red', 'x', true)).toBe('\u001b[31mx\u001b[39m');
    expect(paint('red', 'x', false)).toBe('x');
    expect(painter(true)(['bold', 'green'], 'ok')).toBe('\u001b[1m\u001b[32mok\u001b[39m\u001b[22m');
    expect(painter(false)('red', 'x')).toBe('x');
  });

  it('a full screen needs a terminal at both ends, and no --plain', () => {
    expect(canRunFullScreen(tty, tty)).toBe(true);
    expect(canRunFullScreen(tty, tty, true)).toBe(false);
    expect(canRunFullScreen(pipe, tty)).toBe(false);
    expect(canRunFullScreen(tty, pipe)).toBe(false);
  });
});
