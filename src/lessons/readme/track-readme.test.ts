import { describe, expect, it } from 'vitest';
import { findLesson, readmeForTrack, readReadme, readSection, trackSection } from '../runtime/index.ts';
import { withTrackFileSections } from './track-sections.ts';

const README = [
  '# Lesson',
  '',
  '<!-- diff:start -->',
  'NODE DIFF',
  '<!-- diff:end -->',
  '',
  '<details>',
  '<summary>What changed, in Python: <code>server.py</code></summary>',
  '',
  '<!-- diff-python:start -->',
  'PYTHON DIFF',
  '<!-- diff-python:end -->',
  '',
  '</details>',
  '',
  'The end.',
].join('\n');

describe('README sections per track', () => {
  it('names the Python twin of a section', () => {
    expect(trackSection('transcript', 'node')).toBe('transcript');
    expect(trackSection('transcript', 'python')).toBe('transcript-python');
  });

  it('for the Node track keeps its section in place and shows the Python one after it, unfolded', () => {
    const out = readmeForTrack(README, 'node');
    expect(readSection(out, 'diff')).toBe('NODE DIFF');
    expect(out).toContain('**What changed, in Python: `server.py`**\n\nPYTHON DIFF');
    expect(out).not.toContain('<details>');
  });

  it('for the Python track swaps them: Python in place, Node after it, renamed', () => {
    const out = readmeForTrack(README, 'python');
    expect(readSection(out, 'diff')).toBe('PYTHON DIFF');
    expect(out).toContain('**What changed, in Node.js: `server.mjs`**\n\nNODE DIFF');
    expect(out.indexOf('PYTHON DIFF')).toBeLessThan(out.indexOf('NODE DIFF'));
    expect(out).toContain('The end.');
  });

  it('regenerates the Python diff of a lesson from its files, and leaves a README without Python sections alone', () => {
    const lesson = findLesson(7)!;
    const readme = readReadme(lesson);
    const emptied = readme.replace(/(<!-- diff-python:start -->)[\s\S]*?(<!-- diff-python:end -->)/, '$1\n$2');
    const rebuilt = withTrackFileSections(emptied, lesson, 'python');
    expect(readSection(rebuilt, 'diff-python')).toContain('+++ 07-relay/server.py');
    expect(rebuilt).toBe(readme);
    expect(withTrackFileSections(README.replace(/diff-python/g, 'x'), lesson, 'python')).toBe(README.replace(/diff-python/g, 'x'));
  });
});
