/**
 * The docs site, end to end: generate (scripts/docs-prepare.ts), build with VitePress into a
 * temporary folder (dead links fail the build), serve it over HTTP on a free port, and open the
 * main pages and every lesson page in headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core). Each lesson page must show its recorded diagram — the web inspector's own
 * SequenceDiagram.vue, in the server-rendered HTML — with no label smaller than 12 px as rendered
 * in a 1280-px-wide window (and in a 390-px one, where it scrolls sideways instead), its frame
 * detail on hover and focus, a zoom that widens it, and its real code; no page may log a console
 * error. Screenshots of the home page and of a diagram are kept in test-artifacts/.
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
import { lessonCodeFiles, lessonTraceStem } from '../scripts/docs-lessons.ts';
import { lessonTraces } from '../src/lessons/runtime/index.ts';

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

/** Opens a page (1280 px wide unless told) and records every console error, page error and failed request on it. */
async function open(browser: Browser, url: string, width = 1280): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
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

/** The smallest text a recorded diagram shows, in CSS pixels as rendered (issue 12: the old SVGs were ~6 px). */
const MIN_LABEL_PX = 12;

/**
 * Waits for the recorded diagram(s) matching `selector` (RecordedDiagram.vue) to be drawn and
 * hydrated; returns how many there are. Each arrow is an element with data-type and data-step.
 */
async function expectRecordedDiagrams(page: Page, selector: string): Promise<number> {
  const diagrams = page.locator(`${selector}.recorded-diagram`);
  await diagrams.first().locator('.arrow-row').first().waitFor({ state: 'visible', timeout: 15_000 });
  const count = await diagrams.count();
  for (let n = 0; n < count; n++) {
    const diagram = diagrams.nth(n);
    expect(await diagram.locator('.sequence-diagram .lifeline-head').count(), 'lifelines').toBeGreaterThan(1);
    expect(await diagram.locator('.arrow-row[data-type][data-step]').count(), 'arrows with data-type and data-step').toBeGreaterThan(0);
    expect(await diagram.locator('a.recorded-diagram-svg').getAttribute('href'), 'the SVG to download').toMatch(/\.svg$/);
  }
  return count;
}

/** The smallest font size, in CSS pixels as rendered, of any label, lifeline name or badge of the diagrams matching `selector`. */
async function smallestLabelFontPx(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    const texts = [...document.querySelectorAll<HTMLElement>(`${sel} .arrow-label, ${sel} .lifeline-head, ${sel} .step-badge`)];
    if (texts.length === 0) throw new Error(`no diagram labels in ${sel}`);
    return Math.min(...texts.map((text) => parseFloat(getComputedStyle(text).fontSize)));
  }, selector);
}

/** The rendered width of the first diagram's figure (SequenceDiagram.vue) inside `selector`. */
async function figureWidth(page: Page, selector: string): Promise<number> {
  return page
    .locator(`${selector} .sequence-diagram`)
    .first()
    .evaluate((figure) => figure.getBoundingClientRect().width);
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
    expect(await expectRecordedDiagrams(page, '.home-diagram')).toBe(1);
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
    ['TCP or UDP?', '/tcp-vs-udp', /TCP or UDP/],
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
        expect(await expectRecordedDiagrams(page, '.protocol-diagram')).toBe(1);
        expect(await smallestLabelFontPx(page, '.protocol-diagram'), 'smallest text of the diagram, rendered, in px').toBeGreaterThanOrEqual(MIN_LABEL_PX);
        await page.locator('.vp-doc h2#errors').waitFor({ state: 'visible' });
      }
      if (path === '/tcp-vs-udp') {
        // The same chat twice, side by side: each is the component, and scrolls in its own box.
        expect(await expectRecordedDiagrams(page, '.tcp-diagram')).toBe(1);
        expect(await expectRecordedDiagrams(page, '.udp-diagram')).toBe(1);
        expect(await smallestLabelFontPx(page, '.side-by-side'), 'smallest text of the pair, rendered, in px').toBeGreaterThanOrEqual(MIN_LABEL_PX);
        const [tcp, udp] = await Promise.all(['.tcp-diagram', '.udp-diagram'].map((sel) => page.locator(sel).evaluate((el) => el.getBoundingClientRect().toJSON() as DOMRect)));
        expect((tcp as DOMRect).right, 'the TCP diagram stays left of the UDP one').toBeLessThanOrEqual((udp as DOMRect).left);
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
      // One interactive diagram per recorded trace (lesson 14: one per node), in the HTML as served.
      expect(await expectRecordedDiagrams(page, '.lesson-diagram'), 'one diagram per recorded trace').toBe(lessonTraces(lesson).length);
      expect(readFileSync(join(outDir, 'lessons', `${lesson.slug}.html`), 'utf8'), 'the diagram is rendered on the server (readable without JavaScript)').toMatch(
        /class="recorded-diagram[^"]*"[\s\S]*<li [^>]*arrow-row[^>]*data-type="[a-z_]+"/,
      );
      expect(await page.locator('.lesson-diagram img, .vp-doc img[src^="/diagrams/lessons/"]').count(), 'no static SVG image left').toBe(0);
      expect(await smallestLabelFontPx(page, '.lesson-diagram'), 'smallest text of the diagram, rendered at 1280 px wide, in px').toBeGreaterThanOrEqual(MIN_LABEL_PX);
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

  it('draws the widest lesson diagram readable and interactive: breakout, hover and focus detail, zoom, 390 px', async () => {
    // The lesson whose recording has the most lifelines: the widest diagram.
    const lifelinesOf = (slug: string): number =>
      (JSON.parse(readFileSync(join(REPO_ROOT, 'docs', '.vitepress', 'diagrams', 'lessons', `${slug}.json`), 'utf8')) as { lifelines: unknown[] }).lifelines.length;
    const widest = [...lessons].sort((a, b) => lifelinesOf(lessonTraceStem(b)) - lifelinesOf(lessonTraceStem(a)))[0];
    if (!widest) throw new Error('no lessons');
    const { page, problems } = await open(browser as Browser, `${site?.base}${widest.link}`);
    await expectRecordedDiagrams(page, '.lesson-diagram');
    const diagram = page.locator('.lesson-diagram').first();
    await diagram.scrollIntoViewIfNeeded();
    // Wider than the text column where the window has room, never past the window.
    const box = await diagram.evaluate((el) => ({ width: el.getBoundingClientRect().width, right: el.getBoundingClientRect().right, column: (el.parentElement as HTMLElement).clientWidth }));
    expect(box.width, `${widest.slug}: the diagram breaks out of the text column`).toBeGreaterThan(box.column);
    expect(box.right).toBeLessThanOrEqual(1280);
    // Hovering a frame shows its detail: type, step, time and JSON.
    const detail = diagram.locator('.recorded-diagram-detail .row-detail');
    await diagram.locator('.arrow-row[data-type="login"]').first().hover();
    await detail.waitFor({ state: 'visible', timeout: 5_000 });
    expect(await detail.getAttribute('data-type')).toBe('login');
    expect(await detail.textContent()).toMatch(/login · step 4: [\s\S]*\d\d:\d\d:\d\d\.\d{3}[\s\S]*"type":"login"/);
    // The keyboard does the same: a focused frame shows its detail.
    await diagram.locator('.arrow-row[data-type="welcome"]').first().focus();
    await diagram.locator('.recorded-diagram-detail .row-detail[data-type="welcome"]').waitFor({ timeout: 5_000 });
    expect(await detail.textContent()).toContain('"type":"welcome"');
    // Zoom spreads the lifelines (+ button, then - key); the text keeps its size.
    const before = await figureWidth(page, '.lesson-diagram');
    await diagram.locator('button.zoom-in').click();
    expect(await figureWidth(page, '.lesson-diagram'), 'zoomed in').toBeGreaterThan(before * 1.2);
    expect(await smallestLabelFontPx(page, '.lesson-diagram')).toBeGreaterThanOrEqual(MIN_LABEL_PX);
    mkdirSync(ARTIFACTS, { recursive: true });
    await diagram.screenshot({ path: join(ARTIFACTS, 'docs-diagram-1280.png') });
    await diagram.locator('.recorded-diagram-scroller').focus();
    await page.keyboard.press('-');
    expect(await figureWidth(page, '.lesson-diagram'), 'zoomed back out with the - key').toBeCloseTo(before, 0);
    expect(problems).toEqual([]);
    await page.close();

    // A phone: the text stays as large, the diagram scrolls sideways, the page does not.
    const narrow = await open(browser as Browser, `${site?.base}${widest.link}`, 390);
    await expectRecordedDiagrams(narrow.page, '.lesson-diagram');
    expect(await smallestLabelFontPx(narrow.page, '.lesson-diagram'), 'smallest text at 390 px wide, in px').toBeGreaterThanOrEqual(MIN_LABEL_PX);
    const scroller = await narrow.page
      .locator('.lesson-diagram .recorded-diagram-scroller')
      .first()
      .evaluate((el) => ({ scrollWidth: el.scrollWidth, clientWidth: el.clientWidth, page: document.documentElement.scrollWidth }));
    expect(scroller.scrollWidth, 'the diagram scrolls sideways').toBeGreaterThan(scroller.clientWidth);
    expect(scroller.page, 'the page itself does not scroll sideways').toBeLessThanOrEqual(390);
    await narrow.page
      .locator('.lesson-diagram')
      .first()
      .screenshot({ path: join(ARTIFACTS, 'docs-diagram-390.png') });
    expect(narrow.problems).toEqual([]);
    await narrow.page.close();
  });

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
