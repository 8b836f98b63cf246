import { describe, expect, it } from 'vitest';
import { hasSection, readSection, writeSection } from './sections.ts';

const readme = 'intro\n<!-- diff:start -->\nold\n<!-- diff:end -->\noutro\n';

describe('README sections', () => {
  it('reads and rewrites the text between the markers, leaving the rest alone', () => {
    expect(readSection(readme, 'diff')).toBe('old');
    const updated = writeSection(readme, 'diff', '```diff\n+new\n```');
    expect(updated).toBe('intro\n<!-- diff:start -->\n```diff\n+new\n```\n<!-- diff:end -->\noutro\n');
    expect(writeSection(updated, 'diff', '```diff\n+new\n```')).toBe(updated);
  });

  it('says when a section is missing or unterminated', () => {
    expect(hasSection(readme, 'diagram')).toBe(false);
    expect(readSection(readme, 'diagram')).toBeNull();
    expect(() => writeSection(readme, 'diagram', 'x')).toThrow('the README has no "<!-- diagram:start -->" marker');
    expect(() => readSection('<!-- fix:start -->\nno end', 'fix')).toThrow('"<!-- fix:start -->" has no matching "<!-- fix:end -->"');
  });
});
