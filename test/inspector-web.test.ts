/**
 * `chatlab inspect --web` end to end in Debian's Chromium (playwright-core, as test/web-chat.test.ts):
 * a scripted session through the inspector shows up in the page frame by frame with its types and
 * steps, a tab opened late gets the session so far, keep-alive is hidden until ticked, pause holds
 * the diagram, a click shows the frame, and a WebSocket upgrade from another origin is refused.
 * The CLI flag (no browser needed): the URL in the banner serves the page; a busy port is one line.
 *
 * Without Chromium the suite is skipped with a message, except in CI (`CI` set), where it fails.
 */
import { existsSync } from 'node:fs';
import net from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startInspector, type Inspector } from '../src/inspector/index.ts';
import { ensureAppBuilt, INSPECT_FEED_PATH, InspectorFeed, startInspectorWebServer, type InspectorWebServer } from '../src/web/index.ts';
import { startTestServer, TEST_USERS, type TestServer } from '../test-support/chat-server.ts';
import { startCliProcess } from '../test-support/cli-process.ts';
import { FrameSocket } from '../test-support/frame-socket.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];
const hasChromium = existsSync(CHROMIUM);
const inCI = Boolean(process.env.CI);
/** Bound of every wait for something to show on a page. */
const SHOW_MS = 5_000;

if (!hasChromium && !inCI) {
  process.stderr.write(`inspector-web.test.ts: SKIPPED: ${CHROMIUM} not found (install it with "apt-get install chromium"; .ci/run does)\n`);
}

let browser: Browser;
let chat: TestServer;
let inspector: Inspector;
let web: InspectorWebServer;
const problems: string[] = [];

async function openInspector(name: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  page.setDefaultTimeout(SHOW_MS);
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${name}: console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${name}: page error: ${error.message}`));
  await page.goto(web.url);
  return page;
}

/** Resolves with the HTTP status an upgrade to the feed gets when it says it comes from `origin`. */
function upgradeStatus(origin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${web.address.port}${INSPECT_FEED_PATH}`, { origin });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

describe.skipIf(!hasChromium && !inCI)('chatlab inspect --web in a browser', () => {
  beforeAll(async () => {
    let appDir: string;
    [appDir, chat, browser] = await Promise.all([ensureAppBuilt(), startTestServer(), chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })]);
    const feed = new InspectorFeed();
    web = await startInspectorWebServer({ port: 0, appDir, feed });
    inspector = await startInspector({ target: { host: '127.0.0.1', port: chat.port }, framing: 'chatlab', sinks: [feed] });
    feed.attach(inspector.model);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await inspector?.stop();
    await web?.stop();
    await chat?.stop();
  });

  it('draws each frame of a scripted session with its type and step; a late tab gets the history', async () => {
    const early = await openInspector('early');
    await early.locator('.lifeline-head').first().waitFor();

    const alice = await FrameSocket.connect(inspector.address.port, { label: 'alice' });
    await alice.next('hello');
    alice.send({ type: 'login', user: 'alice', password: TEST_USERS.alice });
    await alice.next('welcome');
    const bob = await FrameSocket.connect(inspector.address.port, { label: 'bob' });
    await bob.next('hello');
    bob.send({ type: 'login', user: 'bob', password: TEST_USERS.bob });
    await bob.next('welcome');
    alice.send({ type: 'say', text: 'hi through the web inspector' });
    await bob.next('message');
    await alice.sync();

    const expected = [
      ['connect', '2'],
      ['hello', '3'],
      ['login', '4'],
      ['welcome', '5'],
      ['say', '6'],
      ['message', '7'],
    ] as const;
    for (const [type, step] of expected) await early.locator(`[data-type="${type}"][data-step="${step}"]`).first().waitFor();
    for (const step of ['2', '3', '4', '5', '6', '7']) await early.locator(`.checklist [data-step="${step}"].seen`).waitFor();

    // Keep-alive is hidden by default, and shown when its type is ticked.
    expect(await early.locator('.arrows [data-type="ping"]').count()).toBe(0);
    await early.locator('[data-filter-type="ping"]').check();
    await early.locator('.arrows [data-type="ping"]').first().waitFor();

    // A click on an arrow shows its frame as JSON.
    await early.locator('[data-type="say"]').first().click();
    await early.locator('.row-detail pre', { hasText: '"text":"hi through the web inspector"' }).waitFor();

    const late = await openInspector('late');
    for (const [type, step] of expected) await late.locator(`[data-type="${type}"][data-step="${step}"]`).first().waitFor();

    // Pause holds the diagram: a frame sent meanwhile shows only after Resume.
    await late.getByRole('button', { name: 'Pause' }).click();
    alice.send({ type: 'quit' });
    await alice.next('bye');
    await late.locator('.paused-note', { hasText: /paused: [1-9]/ }).waitFor();
    expect(await late.locator('[data-type="bye"]').count()).toBe(0);
    await late.getByRole('button', { name: 'Resume' }).click();
    await late.locator('[data-type="bye"][data-step="9"]').first().waitFor();
    await alice.closed();
    bob.send({ type: 'quit' });
    await bob.next('bye');
    bob.end();

    expect(problems).toEqual([]);
  });

  it('refuses a feed upgrade from another origin, and lets its own page through', async () => {
    expect(await upgradeStatus('http://evil.example')).toBe(403);
    expect(await upgradeStatus(`http://127.0.0.1:${web.address.port}`)).toBe(101);
  });
});

describe('chatlab inspect --web (CLI)', () => {
  it('prints the URL of the page in its banner and serves it, also --web-only (no terminal diagram); a busy --web port is one line, exit code 1', async () => {
    const target = await startTestServer();
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const busyPort = (busy.address() as net.AddressInfo).port;
    const cli = startCliProcess(['inspect', '--plain', '--listen', '0', '--web', '0', '--target', `127.0.0.1:${target.port}`], {}, 60_000);
    const webOnly = startCliProcess(['inspect', '--web-only', '--listen', '0', '--web', '0', '--target', `127.0.0.1:${target.port}`], {}, 60_000);
    const refused = startCliProcess(['inspect', '--plain', '--listen', '0', '--web', String(busyPort), '--target', `127.0.0.1:${target.port}`], {}, 60_000);
    try {
      const banner = await cli.line(/^chatlab inspect listening on .*; web view http:\/\/127\.0\.0\.1:\d+\/; Ctrl-C to stop\)$/);
      const url = (/web view (\S+);/.exec(banner) as RegExpExecArray)[1] as string;
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>chatlab inspect</title>');
      cli.child.kill('SIGINT');
      expect(await cli.exited).toBe(0);

      // --web-only: the banner, then nothing drawn on the terminal; the page is served.
      const onlyBanner = await webOnly.line(/^chatlab inspect listening on .*; web view http:\/\/127\.0\.0\.1:\d+\/; Ctrl-C to stop\)$/);
      expect((await fetch((/web view (\S+);/.exec(onlyBanner) as RegExpExecArray)[1] as string)).status).toBe(200);
      const through = await FrameSocket.connect(Number((/listening on 127\.0\.0\.1:(\d+) /.exec(onlyBanner) as RegExpExecArray)[1]));
      await through.next('hello');
      through.end();
      webOnly.child.kill('SIGINT');
      expect(await webOnly.exited).toBe(0);
      expect(webOnly.stdout).toEqual([onlyBanner]);

      const noWeb = startCliProcess(['inspect', '--web-only', '--listen', '0']);
      expect(await noWeb.exited).toBe(1);
      expect(noWeb.stderr).toEqual(['chatlab: --web-only needs --web PORT (the page it draws in).']);

      expect(await refused.exited).toBe(1);
      expect(refused.stderr).toEqual([`chatlab: address already in use (127.0.0.1:${busyPort}): pick another --web port`]);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
      if (refused.child.exitCode === null) refused.child.kill('SIGKILL');
      if (webOnly.child.exitCode === null) webOnly.child.kill('SIGKILL');
      await new Promise<void>((resolve) => busy.close(() => resolve()));
      await target.stop();
    }
  }, 60_000);

  it('`chatlab demo --web 0` names the page in its intro, keeps it up after the demo with the whole session, and stops on Ctrl-C', async () => {
    const cli = startCliProcess(['demo', '--web', '0'], {}, 60_000);
    try {
      const intro = await cli.line(/^chatlab demo: .*; web view http:\/\/127\.0\.0\.1:\d+\/$/);
      const url = (/web view (\S+)$/.exec(intro) as RegExpExecArray)[1] as string;
      await cli.line(/^the web view stays at /);
      expect((await fetch(url)).status).toBe(200);
      const history = await new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(new URL(INSPECT_FEED_PATH, url.replace('http:', 'ws:')).href);
        ws.once('message', (data: Buffer) => {
          resolve(data.toString());
          ws.close();
        });
        ws.once('error', reject);
      });
      const types = new Set((JSON.parse(history) as { rows: { type?: string }[] }).rows.map((row) => row.type));
      for (const type of ['hello', 'login', 'welcome', 'say', 'message', 'quit', 'bye']) expect(types).toContain(type);
      cli.child.kill('SIGINT');
      expect(await cli.exited).toBe(0);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
  }, 60_000);
});
