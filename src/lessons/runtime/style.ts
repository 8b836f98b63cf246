import { styleText } from 'node:util';

/** A style `node:util` styleText understands: one, or several combined. */
export type Style = Parameters<typeof styleText>[0];

/**
 * Styles text when `color` is on, else returns it unchanged. The caller decides (a TTY, no
 * NO_COLOR, or an explicit flag): styleText is told not to second-guess it from process.stdout.
 */
export function paint(style: Style, text: string, color = true): string {
  return color ? styleText(style, text, { validateStream: false }) : text;
}
