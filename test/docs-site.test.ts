/**
 * The docs site, end to end: generate (scripts/docs-prepare.ts), build with VitePress into a
 * temporary folder (dead links fail the build), serve it over HTTP on a free port, and open the
 * main pages and every lesson page in headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core). Each lesson page must show its recorded diagram, with no text smaller than
 * 11 px as rendered in a 1280-px-wide window, and its real code; no page
 * may log a console error. A screenshot of the home page is kept in test-artifacts/.
 *
 * Without Chromium the suite is skipped with a message, except in CI (`CI` set), where it fails.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, listLessons } from '../docs/.vitepress/lessons.ts';
import { lessonCodeFiles } from '../scripts/docs-lessons.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];
const hasChromium = existsSync(CHROMIUM);
const inCI = Boolean(process.env.CI);
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
const BUILD_TIMEOUT_MS = 240_000;

if (!hasChromium && !inCI) {
  process.stderr.write(`docs-site.test.ts: SKIPPED: ${CHROMIUM} not found (install it with "apt-get install chromium"; .ci/run does)\n`);
}

/** Runs a command to completion; rejects with its last output lines when it fails or hangs. */
function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not finish within ${timeoutMs / 1000} s:\n${tail(output)}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise(output);
      else reject(new Error(`${args.join(' ')} exited with ${code}:\n${tail(output)}`));
    });
  });
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.jsonl': 'application/x-ndjson',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** A static file server for the built site, the way any static host serves a VitePress build. */
function serveStatic(root: string): Promise<{ server: Server; base: string }> {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    let file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) {
      response.writeHead(403).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    else if (!existsSync(file) && existsSync(`${file}.html`)) file = `${file}.html`;
    if (!existsSync(file)) {
      response.writeHead(404, { 'content-type': 'text/html; charset=utf-8' }).end(readFileSync(join(root, '404.html')));
      return;
    }
    response.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolvePromise({ server, base: `http://127.0.0.1:${port}` });
    });
  });
}

/** Opens a page and records every console error, page error and failed request on it. */
async function open(browser: Browser, url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  const response = await page.goto(url, { waitUntil: 'load' });
  expect(response?.status(), `${url} should be served`).toBe(200);
  await page.locator('.VPContent').waitFor({ state: 'visible', timeout: 15_000 });
  return { page, problems };
}

/** Waits until every image inside `selector` has loaded and has a size. */
async function expectImagesLoaded(page: Page, selector: string): Promise<void> {
  await page.locator(`${selector} img`).first().waitFor({ state: 'visible', timeout: 15_000 });
  await page.waitForFunction(
    (sel) => {
      const images = [...document.querySelectorAll<HTMLImageElement>(`${sel} img`)];
      return images.length > 0 && images.every((img) => img.complete && img.naturalWidth > 0);
    },
    selector,
    { timeout: 15_000 },
  );
}

/**
 * The smallest font size, in CSS pixels as rendered, of the text in the first diagram image
 * inside `selector`: the SVG is laid out again in the page at the size its image is shown, and
 * each text's font size is multiplied by the scale from its drawing to the screen.
 */
async function smallestDiagramFontPx(page: Page, selector: string): Promise<number> {
  return page.evaluate(async (sel) => {
    const img = document.querySelector<HTMLImageElement>(`${sel} img`);
    if (!img) throw new Error(`no image in ${sel}`);
    const shown = img.getBoundingClientRect();
    const holder = document.createElement('div');
    holder.style.cssText = 'position:absolute;left:0;top:0;visibility:hidden';
    holder.innerHTML = await (await fetch(img.currentSrc)).text();
    const svg = holder.querySelector('svg') as SVGSVGElement;
    svg.setAttribute('width', String(shown.width));
    svg.setAttribute('height', String(shown.height));
    document.body.append(holder);
    try {
      const texts = [...svg.querySelectorAll<SVGTextElement>('text')].filter((text) => (text.textContent ?? '').trim() !== '');
      return Math.min(...texts.map((text) => parseFloat(getComputedStyle(text).fontSize) * (text.getScreenCTM()?.a ?? 0)));
    } finally {
      holder.remove();
    }
  }, selector);
}

const lessons = listLessons();

describe.runIf(hasChromium || inCI)('docs site in headless Chromium', () => {
  let outDir = '';
  let site: { server: Server; base: string } | undefined;
  let browser: Browser | undefined;
  let buildOutput = '';

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium (.ci/run: apt-get install chromium)`);
    const tsx = join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const vitepress = join(REPO_ROOT, 'node_modules', 'vitepress', 'bin', 'vitepress.js');
    await run(process.execPath, [tsx, 'scripts/docs-prepare.ts'], BUILD_TIMEOUT_MS);
    outDir = mkdtempSync(join(tmpdir(), 'chatlab-docs-'));
    buildOutput = await run(process.execPath, [vitepress, 'build', 'docs', '--outDir', outDir], BUILD_TIMEOUT_MS);
    site = await serveStatic(resolve(outDir));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }, BUILD_TIMEOUT_MS * 2);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((done) => (site ? site.server.close(() => done()) : done()));
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('builds with no dead links and no warnings', () => {
    expect(buildOutput).toContain('build complete');
    expect(buildOutput).not.toMatch(/dead link/i);
    expect(buildOutput).not.toMatch(/is not loaded, falling back/);
    expect(buildOutput).not.toMatch(/\bwarn(ing)?\b/i);
  });

  it('renders the home page with its recorded diagram, and keeps a screenshot', async () => {
    const { page, problems } = await open(browser as Browser, `${site?.base}/`);
    expect(await page.locator('.VPHero .name').textContent()).toContain('chatlab');
    await expectImagesLoaded(page, '.home-diagram');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'docs-home.png'), fullPage: true });
    expect(existsSync(join(ARTIFACTS, 'docs-home.png'))).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });

  const mainPages: [string, string, RegExp][] = [
    ['Guide', '/guide/', /Install/],
    ['Demo', '/guide/demo', /demo/i],
    ['By hand', '/guide/by-hand', /by hand/i],
    ['Inspector alongside', '/guide/inspector-alongside', /inspector/i],
    ['Protocol', '/protocol', /chatlab\/1/],
    ['Protocol extensions', '/protocol-extensions', /extensions/i],
    ['Client', '/client', /client/i],
    ['Inspector', '/inspector', /inspector/i],
    ['Verifier', '/verifier', /verifier/i],
    ['CLI', '/cli', /CLI reference/],
    ['Architecture', '/architecture', /Architecture/],
    ['Deploying', '/deploy', /Deploying chatlab/],
    ['Lessons', '/lessons/', /lessons/i],
  ];
  for (const [name, path, heading] of mainPages) {
    it(`renders the ${name} page`, async () => {
      const { page, problems } = await open(browser as Browser, `${site?.base}${path}`);
      expect(await page.locator('.vp-doc h1').first().textContent()).toMatch(heading);
      if (path === '/architecture') await expectImagesLoaded(page, '.vp-doc .diagram');
      if (path === '/protocol') {
        await expectImagesLoaded(page, '.vp-doc .diagram');
        expect(await smallestDiagramFontPx(page, '.vp-doc .diagram'), 'smallest text of the diagram, rendered, in px').toBeGreaterThanOrEqual(11);
        await page.locator('.vp-doc h2#errors').waitFor({ state: 'visible' });
      }
      expect(problems).toEqual([]);
      await page.close();
    });
  }

  it('has a page for every lesson folder', () => {
    expect(lessons.length).toBeGreaterThan(0);
    for (const lesson of lessons) expect(existsSync(join(outDir, 'lessons', `${lesson.slug}.html`)), lesson.slug).toBe(true);
  });

  for (const [i, lesson] of lessons.entries()) {
    it(`renders lesson ${lesson.slug} with its diagram, its real code and its diff`, async () => {
      expect(existsSync(join(lesson.dir, 'trace.jsonl')), `lessons/${lesson.slug}/trace.jsonl is missing: its diagram is exported from it`).toBe(true);
      const { page, problems } = await open(browser as Browser, `${site?.base}${lesson.link}`);
      expect(await page.locator('.vp-doc h1').first().textContent()).toContain(lesson.title);
      await expectImagesLoaded(page, '.lesson-diagram');
      expect(await smallestDiagramFontPx(page, '.lesson-diagram'), 'smallest text of the diagram, rendered at 1280 px wide, in px').toBeGreaterThanOrEqual(11);
      // The code tabs hold the real files: the first line of each appears in its block.
      const files = lessonCodeFiles(lesson);
      expect(files.length).toBeGreaterThan(0);
      const blocks = page.locator('.lesson-files .vp-code-group .blocks pre code');
      expect(await blocks.count(), 'one code tab per lesson file').toBe(files.length);
      for (const [n, file] of files.entries()) {
        const firstLine =
          readFileSync(join(lesson.dir, file), 'utf8')
            .split('\n')
            .find((line) => line.trim() !== '') ?? '';
        expect(await blocks.nth(n).textContent(), `${lesson.slug}/${file}`).toContain(firstLine.trim());
      }
      // A lesson with a Python track switches language by tabs: Node.js and Python.
      if (files.some((file) => file.endsWith('.py'))) {
        expect(await page.locator('.vp-code-group .tabs label', { hasText: /^Python$/ }).count(), 'a Python tab').toBeGreaterThan(0);
        expect(await page.locator('.vp-code-group .tabs label', { hasText: /^server\.py$/ }).count(), 'server.py among the code tabs').toBeGreaterThan(0);
      }
      if (i > 0) {
        const diffs = await page.locator('.vp-doc div.language-diff').count();
        const unchanged = await page.getByText(/No code changed since lesson|is new in this lesson/).count();
        expect(diffs + unchanged, 'a diff from the previous lesson (or a note that nothing changed)').toBeGreaterThan(0);
      }
      expect(problems).toEqual([]);
      await page.close();
    });
  }

  it('finds pages with the local search', async () => {
    const { page, problems } = await open(browser as Browser, `${site?.base}/`);
    await page.locator('.VPNavBarSearch button').first().click();
    // An error code only the protocol pages explain: frame_too_large, which every lesson's code
    // also sends, fills the 16 results with lesson pages (lesson 14 has two) before the protocol page.
    await page.locator('.VPLocalSearchBox input').fill('idle_timeout');
    // The results list fills in as the index answers: wait for the protocol page among them.
    const hit = page.locator('.VPLocalSearchBox .results li', { hasText: /protocol/i }).first();
    await hit.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await hit.textContent()).toMatch(/protocol/i);
    expect(problems).toEqual([]);
    await page.close();
  });
});

if (!hasChromium && !inCI) {
  describe.skip(`docs site in headless Chromium (skipped: ${CHROMIUM} not found)`, () => {
    it('install Debian chromium ("apt-get install chromium") to run it; in CI it is required', () => {});
  });
}
