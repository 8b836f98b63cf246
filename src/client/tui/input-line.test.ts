import { describe, expect, it } from 'vitest';
import { cellWidth } from '../../terminal/index.ts';
import { InputLine } from './input-line.ts';
import { expandShortcodes } from './emoji.ts';

const typed = (...keys: string[]) => {
  const input = new InputLine();
  for (const key of keys) input.insert(key);
  return input;
};

describe('InputLine', () => {
  it('edits by whole graphemes: an emoji or an accented letter is one step', () => {
    const input = typed('a', '👍🏽', 'e\u0301', 'z');
    input.left();
    input.backspace();
    expect(input.value).toBe('a👍🏽z');
    input.left();
    input.deleteForward();
    expect(input.value).toBe('az');
    input.home();
    input.insert('>');
    expect(input.value).toBe('>az');
  });

  it('joins the two UTF-16 halves of a character typed as two keypresses', () => {
    const input = typed('\ud83d', '\ude04', '!');
    expect(input.value).toBe('😄!');
  });

  it('turns a shortcode into its emoji when its closing colon is typed; unknown codes stay', () => {
    expect(typed(...':smile:'.split('')).value).toBe('😄');
    expect(typed(...'at 12:30:45 :nope:'.split('')).value).toBe('at 12:30:45 :nope:');
    expect(expandShortcodes(':wave: :tada: :+1: :nope:')).toBe('👋 🎉 👍 :nope:');
  });

  it('browses the history with ↑/↓ and keeps the line being typed', () => {
    const input = new InputLine();
    for (const line of ['one', 'two']) {
      input.insert(line);
      expect(input.submit()).toBe(line);
    }
    input.insert('draft');
    input.previous();
    expect(input.value).toBe('two');
    input.previous();
    input.previous();
    expect(input.value).toBe('one');
    input.next();
    input.next();
    expect(input.value).toBe('draft');
  });

  it('Ctrl-U, Ctrl-K and Ctrl-W', () => {
    const input = typed('hello big world');
    input.deleteWord();
    expect(input.value).toBe('hello big ');
    input.left();
    input.left();
    input.killToEnd();
    expect(input.value).toBe('hello bi');
    input.killToStart();
    expect(input.value).toBe('');
  });

  it('shows the part around the cursor that fits, counting wide characters as two columns', () => {
    const input = typed('short');
    expect(input.view(20)).toEqual({ before: 'short', atCursor: ' ', after: '' });
    const long = typed('0123456789世界abcdef');
    const view = long.view(10);
    expect(view.atCursor).toBe(' ');
    expect(view.before).toBe('界abcdef');
    long.home();
    expect(long.view(10)).toEqual({ before: '', atCursor: '0', after: '123456789' });
  });

  it('measures what it shows as the patched blessed draws it, so the line never runs past its width', () => {
    // 👍🏽 is drawn as two cells of two columns (an emoji, then its skin tone), a ZWJ family as one of two.
    const thumbs = typed('a👍🏽👍🏽👍🏽');
    expect(thumbs.view(8)).toEqual({ before: '👍🏽', atCursor: ' ', after: '' });
    const family = typed('ab👨\u200d👩\u200d👧');
    expect(family.view(5)).toEqual({ before: 'ab👨\u200d👩\u200d👧', atCursor: ' ', after: '' });
    const drawn = (view: { before: string; atCursor: string; after: string }) => cellWidth(view.before + view.atCursor + view.after);
    expect(drawn(thumbs.view(8))).toBe(5);
    expect(drawn(family.view(5))).toBe(5);
  });
});
