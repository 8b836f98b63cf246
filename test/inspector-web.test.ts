/**
 * `chatlab inspect --web` end to end in Debian's Chromium (playwright-core, as test/web-chat.test.ts):
 * a scripted session through the inspector shows up in the page frame by frame with its types and
 * steps, a tab opened late gets the session so far, keep-alive is hidden until ticked (and
 * counted), pause holds the diagram, a click shows the frame's JSON, code points, hex bytes and
 * TCP reads, a connection can be hidden, the page's SVG/Mermaid/JSONL downloads are what the CLI's
 * exporters make of the same session, scrolling up stops following until "Jump to latest", a UDP
 * session shows its datagrams (lost ones too), and a request or WebSocket upgrade from another
 * origin is refused.
 * The CLI flag (no browser needed): the URL in the banner serves the page; a busy port is one line.
 *
 * Without Chromium the suite is skipped with a message, except in CI (`CI` set), where it fails.
 */
import dgram from 'node:dgram';
import { existsSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { exportMermaid, exportSvg, modelFromEvents, parseTrace, startInspector, type Inspector } from '../src/inspector/index.ts';
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
/** Where screenshots go, to look at (as test/web-chat.test.ts). */
const ARTIFACTS = join(fileURLToPath(new URL('..', import.meta.url)), 'test-artifacts');

if (!hasChromium && !inCI) {
  process.stderr.write(`inspector-web.test.ts: SKIPPED: ${CHROMIUM} not found (install it with "apt-get install chromium"; .ci/run does)\n`);
}

let browser: Browser;
let chat: TestServer;
let inspector: Inspector;
let web: InspectorWebServer;
const problems: string[] = [];

async function openInspector(name: string, url = web.url): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  page.setDefaultTimeout(SHOW_MS);
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${name}: console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${name}: page error: ${error.message}`));
  await page.goto(url);
  return page;
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

let endedPage: Page | undefined;
/** A page showing the first test's session, ended (both byes drawn); opened once for the tests that only read it. */
async function ended(): Promise<Page> {
  endedPage ??= await openInspector('ended');
  await endedPage.locator('[data-type="bye"]').nth(1).waitFor();
  return endedPage;
}

/** Clicks one of the page's export links and returns the downloaded file's name and text. */
async function download(page: Page, name: string): Promise<{ file: string; text: string }> {
  const [started] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name, exact: true }).click()]);
  const path = await started.path();
  return { file: started.suggestedFilename(), text: await readFile(path, 'utf8') };
}

/** How far `.rows` (the diagram's scroller) is scrolled: top, and the distance left to the bottom. */
function scrollState(page: Page): Promise<{ top: number; fromBottom: number }> {
  return page.locator('.rows').evaluate((el) => ({ top: el.scrollTop, fromBottom: el.scrollHeight - el.scrollTop - el.clientHeight }));
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
    alice.send({ type: 'say', text: 'hi through the web inspector 👋' });
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

    // A click on an arrow shows its frame as the terminal UI's detail pane does: the TCP read that
    // carried it, the JSON, the code points of the text and the bytes in hex.
    await early.locator('[data-type="say"]').first().click();
    const detail = early.locator('.row-detail .frame-detail');
    await detail.locator('.detail-line', { hasText: '"text": "hi through the web inspector 👋"' }).waitFor();
    await detail.locator('.detail-line', { hasText: /^arrived in one TCP read \(c2s\): #\d+ \(58 B at / }).waitFor();
    await detail.locator('.detail-line', { hasText: /^👋 +U\+1F44B {2}4 byte\(s\) F0 9F 91 8B {2}at byte 51$/ }).waitFor();
    // `{"type":"say","t` and, on the last line, the emoji's bytes, `"}` and the newline.
    await detail.locator('.detail-line', { hasText: '0000  7B 22 74 79 70 65 22 3A  22 73 61 79 22 2C 22 74' }).waitFor();
    await detail.locator('.detail-line', { hasText: /^0030 {2}6F 72 20 F0 9F 91 8B 22 {2}7D 0A/ }).waitFor();
    await screenshot(early, 'inspector-web-detail');

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
    // Step 10: the client closes after bye (not left to the server's grace period).
    alice.end();
    await alice.closed();
    bob.send({ type: 'quit' });
    await bob.next('bye');
    bob.end();
    await bob.closed();
    await inspector.waitFor((model) => model.counters.open === 0, SHOW_MS, 'both connections to close');

    expect(problems).toEqual([]);
  });

  it("hides a connection's lifeline and rows, and counts the keep-alive it hides", async () => {
    const page = await ended();
    const keepAlive = inspector.model.rows.filter((row) => row.item?.kind === 'frame' && ['ping', 'pong'].includes(row.item.frame.type)).length;
    expect(keepAlive).toBeGreaterThan(0);
    await page.locator('.keepalive-note', { hasText: `${keepAlive} keep-alive hidden` }).waitFor();

    expect(await page.locator('.lifeline-head', { hasText: 'bob' }).count()).toBe(1);
    expect(await page.locator('.arrows [data-type="login"]').count()).toBe(2);
    await page.getByRole('checkbox', { name: 'bob' }).uncheck();
    await page.locator('.lifeline-head', { hasText: 'bob' }).waitFor({ state: 'detached' });
    expect(await page.locator('.arrows [data-type="login"]').count()).toBe(1);
    expect(await page.locator('.lifeline-head', { hasText: 'alice' }).count()).toBe(1);
    await page.getByRole('checkbox', { name: 'bob' }).check();
    await page.locator('.lifeline-head', { hasText: 'bob' }).waitFor();
    expect(problems).toEqual([]);
  });

  it('downloads the session as SVG and Mermaid exactly as the CLI exports it, and as a JSONL trace that replays to the same diagram', async () => {
    const page = await ended();
    await inspector.idle();

    const svg = await download(page, 'SVG');
    expect(svg.file).toMatch(/^chatlab-session-\d{8}-\d{6}\.svg$/);
    expect(svg.text).toBe(exportSvg(inspector.model));
    expect(svg.text.match(/<g class="row"/g)).toHaveLength(inspector.model.rows.length);

    const mermaid = await download(page, 'Mermaid');
    expect(mermaid.file).toMatch(/^chatlab-session-\d{8}-\d{6}\.mmd$/);
    expect(mermaid.text).toBe(exportMermaid(inspector.model));

    const jsonl = await download(page, 'JSONL');
    expect(jsonl.file).toMatch(/^chatlab-session-\d{8}-\d{6}\.jsonl$/);
    const events = parseTrace(jsonl.text, jsonl.file);
    expect(events.filter((event) => event.kind === 'open')).toHaveLength(2);
    // What `chatlab inspect export` makes of the download is the live session's diagram.
    expect(exportMermaid(modelFromEvents(events))).toBe(mermaid.text);
    expect(problems).toEqual([]);
  });

  it("stops following when scrolled up, and jumps back to the latest rows on the button; a frame's detail is text, never HTML", async () => {
    const page = await openInspector('scroll');
    page.on('dialog', (dialog) => {
      problems.push(`scroll: a dialog opened: ${dialog.message()}`);
      void dialog.dismiss();
    });
    const carol = await FrameSocket.connect(inspector.address.port, { label: 'carol' });
    try {
      await carol.next('hello');
      carol.send({ type: 'login', user: 'carol', password: TEST_USERS.carol });
      await carol.next('welcome');
      for (let n = 1; n <= 30; n++) carol.send({ type: 'say', text: `line ${n}` });
      await carol.sync();
      // alice's say, then carol's 30: the diagram follows them to the bottom.
      await page.locator('.arrows [data-type="say"]').nth(30).waitFor();
      expect(await page.getByRole('button', { name: /Jump to latest/ }).count()).toBe(0);
      expect((await scrollState(page)).fromBottom).toBeLessThan(2);

      await page.locator('.rows').evaluate((el) => el.scrollTo({ top: 0 }));
      await page.getByRole('button', { name: /Jump to latest/ }).waitFor();
      carol.send({ type: 'say', text: '<img src=x onerror=alert(1)>' });
      await carol.sync();
      await page.locator('.arrows [data-type="say"]').nth(31).waitFor();
      expect((await scrollState(page)).top).toBe(0);

      await page.getByRole('button', { name: /Jump to latest/ }).click();
      await page.getByRole('button', { name: /Jump to latest/ }).waitFor({ state: 'detached' });
      expect((await scrollState(page)).fromBottom).toBeLessThan(2);

      await page.locator('.arrows [data-type="say"]').nth(31).click();
      await page.locator('.frame-detail .detail-line', { hasText: '"text": "<img src=x onerror=alert(1)>"' }).waitFor();
      expect(await page.locator('.inspector-page img').count()).toBe(0);
    } finally {
      carol.end();
    }
    expect(problems).toEqual([]);
  });

  it('draws a UDP session (`inspect --udp --web`): delivered datagrams as arrows, dropped ones as lost ✗ arrows', async () => {
    const server = dgram.createSocket('udp4');
    const client = dgram.createSocket('udp4');
    await Promise.all([new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve)), new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve))]);
    const received: string[] = [];
    server.on('message', (bytes) => received.push(String(bytes)));
    const feed = new InspectorFeed();
    const udpWeb = await startInspectorWebServer({ port: 0, appDir: await ensureAppBuilt(), feed });
    // Seed 3 with loss 0.5 drops the 2nd and 3rd of four datagrams (the seeded random is replayable).
    const udp = await startInspector({ target: { host: '127.0.0.1', port: server.address().port }, transport: 'udp', faults: { loss: 0.5, seed: 3 }, sinks: [feed] });
    feed.attach(udp.model);
    try {
      const page = await openInspector('udp', udpWeb.url);
      for (let n = 0; n < 4; n++) client.send(`{"type":"say","text":"n${n}"}\n`, udp.address.port, '127.0.0.1');
      await page.locator('.arrows [data-type="say"]').nth(3).waitFor();
      expect(await page.locator('.arrows .kind-frame[data-type="say"][data-step="6"]').count()).toBe(2);
      const lost = page.locator('.arrows .kind-lost[data-type="say"]');
      expect(await lost.count()).toBe(2);
      expect(await lost.first().innerText()).toContain('✗ say');
      await lost.first().click();
      await page.locator('.row-detail .detail-line', { hasText: /^one datagram \(c2s\): #2, 27 B$/ }).waitFor();
      expect(received).toEqual(['{"type":"say","text":"n0"}\n', '{"type":"say","text":"n3"}\n']);
      await screenshot(page, 'inspector-web-udp');
    } finally {
      await udp.stop();
      await udpWeb.stop();
      server.close();
      client.close();
    }
    expect(problems).toEqual([]);
  });

  it('refuses a feed upgrade, an export or a frame detail from another origin, and lets its own page through', async () => {
    expect(await upgradeStatus('http://evil.example')).toBe(403);
    expect(await upgradeStatus(`http://127.0.0.1:${web.address.port}`)).toBe(101);
    for (const path of ['export.jsonl', 'row-detail?id=1']) {
      expect((await fetch(new URL(path, web.url), { headers: { origin: 'http://evil.example' } })).status).toBe(403);
      expect((await fetch(new URL(path, web.url), { headers: { origin: `http://127.0.0.1:${web.address.port}` } })).status).toBe(200);
    }
    expect((await fetch(new URL('row-detail?id=999999', web.url))).status).toBe(404);
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
