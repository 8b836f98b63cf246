/**
 * Dead links must fail the docs build. This builds a one-page fixture site whose config is the
 * real docs/.vitepress/config.ts (re-exported), with a link to a page that does not exist and one
 * to a page that does, and expects VitePress to refuse exactly the bad one. That the real site
 * builds with no dead link is test/docs-site.test.ts's first check.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../docs/.vitepress/lessons.ts';
import config from '../docs/.vitepress/config.ts';

const VITEPRESS = join(REPO_ROOT, 'node_modules', 'vitepress', 'bin', 'vitepress.js');

/** Runs `vitepress build` on a folder; resolves with its exit code and output. */
function build(root: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VITEPRESS, 'build', root], { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`vitepress build ${root} did not finish within 120 s:\n${output}`));
    }, 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('docs build and dead links', () => {
  let fixture = '';

  beforeAll(() => {
    // Inside the repository (.tmp/ is git-ignored) so the fixture resolves vitepress like docs/ does.
    mkdirSync(join(REPO_ROOT, '.tmp'), { recursive: true });
    fixture = mkdtempSync(join(REPO_ROOT, '.tmp', 'docs-dead-links-'));
    mkdirSync(join(fixture, '.vitepress'));
    writeFileSync(join(fixture, '.vitepress', 'config.ts'), `export { default } from ${JSON.stringify(join(REPO_ROOT, 'docs', '.vitepress', 'config.ts'))};\n`);
    writeFileSync(join(fixture, 'other.md'), '# Other\n');
  });

  afterAll(() => {
    if (fixture) rmSync(fixture, { recursive: true, force: true });
  });

  it('the site config never ignores dead links', () => {
    expect(config.ignoreDeadLinks).toBe(false);
  });

  it('fails the build on a link to a missing page, and only on that link', { timeout: 240_000 }, async () => {
    writeFileSync(join(fixture, 'index.md'), '# Fixture\n\nSee [a page that does not exist](/no-such-page) and [another](./other).\n');
    const broken = await build(fixture);
    expect(broken.code, broken.output).not.toBe(0);
    expect(broken.output).toMatch(/Found dead link \/no-such-page/);
    expect(broken.output).toMatch(/1 dead link\(s\) found/);
  });
});
