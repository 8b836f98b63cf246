import { styleText } from 'node:util';

/** A style `node:util` styleText understands: one, or several combined (`['bold', 'red']`). */
export type Style = Parameters<typeof styleText>[0];

/** Something that may be a terminal: `process.stdout`, `process.stdin`, a socket, a test stream. */
export interface MaybeTerminal {
  isTTY?: boolean;
}

/**
 * The one decision whether chatlab's output is coloured. `FORCE_COLOR` wins (as in Node and
 * most tools): set to anything but `0`/`false` it turns colour on even into a pipe, and `0`/`false`
 * turns it off. Otherwise `NO_COLOR` (https://no-color.org: set and not empty) turns it off, and
 * else colour follows whether `stream` is a terminal.
 */
export function colorEnabled(stream: MaybeTerminal, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}

/**
 * Whether a full-screen UI can run: both ends are a terminal (keys come in raw, the screen can
 * be redrawn) and the user did not ask for plain output.
 */
export function canRunFullScreen(input: MaybeTerminal, output: MaybeTerminal, plain = false): boolean {
  return !plain && input.isTTY === true && output.isTTY === true;
}

/**
 * Styles text when `color` is on, else returns it unchanged. The caller has decided (see
 * {@link colorEnabled}): styleText is told not to second-guess it from process.stdout.
 */
export function paint(style: Style, text: string, color = true): string {
  return color ? styleText(style, text, { validateStream: false }) : text;
}

/** A styler bound to one colour decision: `painter(color)('red', '✗')`. */
export type Painter = (style: Style, text: string) => string;

/** A {@link Painter} that colours only when `color` is true. */
export function painter(color: boolean): Painter {
  return color ? paintAlways : leavePlain;
}

function paintAlways(style: Style, text: string): string {
  return styleText(style, text, { validateStream: false });
}

function leavePlain(_style: Style, text: string): string {
  return text;
}
