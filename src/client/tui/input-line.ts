import { graphemes as eachGrapheme, graphemeWidth } from '../../terminal/index.ts';
import { trailingShortcode } from './emoji.ts';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

function graphemes(text: string): string[] {
  return Array.from(eachGrapheme(text));
}

/** What the input line shows in `width` columns: the text around the cursor. */
export interface InputView {
  before: string;
  /** The grapheme under the cursor (a space at the end of the text). */
  atCursor: string;
  after: string;
}

/**
 * The TUI's input line as a plain model (no terminal here, so it is tested directly): the text, a
 * cursor that moves by whole graphemes (an emoji or an accented letter is one step), readline-like
 * editing keys, and a history browsed with ↑/↓ that keeps the line being typed.
 */
export class InputLine {
  private text = '';
  /** UTF-16 offset, always on a grapheme boundary. */
  private cursor = 0;
  private readonly history: string[] = [];
  private historyIndex = 0;
  private draft = '';
  /** The first half of a character whose UTF-16 halves arrive as two keypresses. */
  private highSurrogate = '';

  constructor(private readonly maxHistory = 500) {}

  /** The current text. */
  get value(): string {
    return this.text;
  }

  /** The cursor's offset in {@link value}. */
  get cursorOffset(): number {
    return this.cursor;
  }

  /** Inserts typed text at the cursor; a just-completed `:shortcode:` becomes its emoji. */
  insert(typed: string): void {
    let text = typed;
    if (this.highSurrogate) {
      text = this.highSurrogate + text;
      this.highSurrogate = '';
    }
    const last = text.charCodeAt(text.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) {
      this.highSurrogate = text.slice(-1);
      text = text.slice(0, -1);
    }
    if (text === '') return;
    const before = this.text.slice(0, this.cursor) + text;
    const shortcode = text.endsWith(':') ? trailingShortcode(before) : null;
    const head = shortcode ? before.slice(0, before.length - shortcode.length) + shortcode.emoji : before;
    this.text = head + this.text.slice(this.cursor);
    this.cursor = head.length;
  }

  /** Deletes the grapheme before the cursor. */
  backspace(): void {
    const start = this.previousBoundary();
    this.text = this.text.slice(0, start) + this.text.slice(this.cursor);
    this.cursor = start;
  }

  /** Deletes the grapheme under the cursor. */
  deleteForward(): void {
    const end = this.nextBoundary();
    this.text = this.text.slice(0, this.cursor) + this.text.slice(end);
  }

  left(): void {
    this.cursor = this.previousBoundary();
  }

  right(): void {
    this.cursor = this.nextBoundary();
  }

  home(): void {
    this.cursor = 0;
  }

  end(): void {
    this.cursor = this.text.length;
  }

  /** Ctrl-U: deletes everything before the cursor. */
  killToStart(): void {
    this.text = this.text.slice(this.cursor);
    this.cursor = 0;
  }

  /** Ctrl-K: deletes everything after the cursor. */
  killToEnd(): void {
    this.text = this.text.slice(0, this.cursor);
  }

  /** Ctrl-W: deletes the word before the cursor (and the spaces after it). */
  deleteWord(): void {
    const head = this.text
      .slice(0, this.cursor)
      .replace(/\S+\s*$/u, '')
      .replace(/\s+$/u, (spaces) => (this.text.slice(0, this.cursor).trim() === '' ? '' : spaces));
    this.text = head + this.text.slice(this.cursor);
    this.cursor = head.length;
  }

  /** ↑: the previous line sent (the line being typed is kept for ↓). */
  previous(): void {
    if (this.historyIndex === 0) return;
    if (this.historyIndex === this.history.length) this.draft = this.text;
    this.historyIndex--;
    this.set(this.history[this.historyIndex] as string);
  }

  /** ↓: the next line sent, and after the last one the line that was being typed. */
  next(): void {
    if (this.historyIndex >= this.history.length) return;
    this.historyIndex++;
    this.set(this.historyIndex === this.history.length ? this.draft : (this.history[this.historyIndex] as string));
  }

  /** Enter: returns the line, remembers it in the history, and empties the input. */
  submit(): string {
    const line = this.text;
    if (line.trim() !== '' && this.history.at(-1) !== line) {
      this.history.push(line);
      if (this.history.length > this.maxHistory) this.history.shift();
    }
    this.historyIndex = this.history.length;
    this.draft = '';
    this.set('');
    return line;
  }

  /** The part of the text to show in `width` columns, keeping the cursor in view. */
  view(width: number): InputView {
    const available = Math.max(1, width);
    const all = graphemes(this.text);
    let index = 0;
    let offset = 0;
    while (offset < this.cursor && index < all.length) offset += (all[index++] as string).length;
    const cursorIndex = index;
    const atCursor = all[cursorIndex] ?? ' ';
    const room = Math.max(0, available - graphemeWidth(atCursor));
    // The text after the cursor gets at most half the room; the text before it takes the rest.
    const leftBudget = room - Math.min(widthOf(all, cursorIndex + 1, all.length), Math.floor(room / 2));
    let start = cursorIndex;
    let used = 0;
    while (start > 0 && used + graphemeWidth(all[start - 1] as string) <= leftBudget) used += graphemeWidth(all[--start] as string);
    let end = cursorIndex + 1;
    while (end < all.length && used + graphemeWidth(all[end] as string) <= room) used += graphemeWidth(all[end++] as string);
    return { before: all.slice(start, cursorIndex).join(''), atCursor, after: all.slice(cursorIndex + 1, end).join('') };
  }

  private set(text: string): void {
    this.text = text;
    this.cursor = text.length;
  }

  private previousBoundary(): number {
    let last = 0;
    for (const { index } of segmenter.segment(this.text)) {
      if (index >= this.cursor) break;
      last = index;
    }
    return last;
  }

  private nextBoundary(): number {
    for (const { index, segment } of segmenter.segment(this.text)) {
      if (index >= this.cursor) return index + segment.length;
    }
    return this.text.length;
  }
}

function widthOf(all: string[], from: number, to: number): number {
  let width = 0;
  for (let i = from; i < to; i++) width += graphemeWidth(all[i] as string);
  return width;
}
