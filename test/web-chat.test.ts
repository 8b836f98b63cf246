/**
 * `chatlab web` end to end in Debian's Chromium (playwright-core, as test/docs-site.test.ts):
 * two pages (alice, bob) and a plain-mode terminal client (carol) on one reference server chat
 * both ways with emoji and CJK; a private message and a room with its history; a file from a
 * page to the terminal client and back with matching SHA-256; the XSS message renders as text;
 * keyboard-only use; each page's wire panel draws its frames with their steps; and the web chat
 * on a core-only server (lesson 10's). Screenshots go to test-artifacts/.
 *
 * Without Chromium the suite is skipped with a message, except in CI (`CI` set), where it fails.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAppBuilt, startWebServer, type WebServer } from '../src/web/index.ts';
import { startTestServer, type TestServer } from '../test-support/chat-server.ts';
import { REPO_ROOT, startCliProcess, type CliRun } from '../test-support/cli-process.ts';
import { FrameSocket } from '../test-support/frame-socket.ts';
import { within } from '../test-support/promises.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];
const hasChromium = existsSync(CHROMIUM);
const inCI = Boolean(process.env.CI);
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
const LESSON_10 = fileURLToPath(new URL('../lessons/10-disconnect/server.mjs', import.meta.url));
/** Bound of every wait for something to show on a page. */
const SHOW_MS = 5_000;

if (!hasChromium && !inCI) {
  process.stderr.write(`web-chat.test.ts: SKIPPED: ${CHROMIUM} not found (install it with "apt-get install chromium"; .ci/run does)\n`);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

let browser: Browser;
let appDir: string;
let chat: TestServer;
let web: WebServer;
let carol: CliRun;
let dir: string;
const pages = new Map<string, Page>();
const problems: string[] = [];

/** Opens the web chat in a new page and records console errors, page errors and dialogs (an alert would be XSS). */
async function openChat(name: string, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 }, acceptDownloads: true });
  page.setDefaultTimeout(SHOW_MS);
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${name}: console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${name}: page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    problems.push(`${name}: a dialog opened: ${dialog.message()}`);
    void dialog.dismiss();
  });
  await page.goto(url);
  pages.set(name, page);
  return page;
}

/** Logs in with the mouse and the form fields found by their labels. */
async function logIn(page: Page, user: string, password: string): Promise<void> {
  await page.getByLabel('User').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByText(`logged in as ${user}`).waitFor({ timeout: SHOW_MS });
}

/** Presses Tab until the focused element has the accessible label `label` (keyboard only). */
async function tabTo(page: Page, label: string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const focused = await page.evaluate(() => {
      const el = document.activeElement;
      return el?.getAttribute('aria-label') ?? el?.closest('label')?.textContent?.trim() ?? el?.textContent?.trim() ?? '';
    });
    if (focused === label) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached "${label}"`);
}

/** The chat log of a page (role="log"). */
const log = (page: Page) => page.getByRole('log');

/** Waits until the page's log shows `text` (as text). */
async function shows(page: Page, text: string): Promise<void> {
  await log(page).getByText(text, { exact: false }).last().waitFor({ timeout: SHOW_MS });
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

describe.skipIf(!hasChromium && !inCI)('chatlab web in a browser', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chatlab-web-'));
    [appDir, chat, browser] = await Promise.all([ensureAppBuilt(), startTestServer(), chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })]);
    web = await startWebServer({ port: 0, target: { host: '127.0.0.1', port: chat.port }, appDir });
    carol = startCliProcess(['client', '--plain', '--user', 'carol', '--password', 'caroline', '--port', String(chat.port), '--downloads', join(dir, 'carol-downloads')]);
    await carol.line(/^\* connected to /);
  }, 60_000);

  afterAll(async () => {
    if (carol?.child.exitCode === null) carol.child.kill();
    await browser?.close();
    await web?.stop();
    await chat?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('alice (keyboard only), bob and a terminal client chat both ways with emoji and CJK; the wire panel draws each frame with its step', async () => {
    const alice = await openChat('alice', web.url);
    // Keyboard only: the User field has the focus; Tab to Password; Enter logs in.
    await alice.getByLabel('User').waitFor({ timeout: SHOW_MS });
    await alice.keyboard.type('alice');
    await alice.keyboard.press('Tab');
    await alice.keyboard.type('wonderland');
    await alice.keyboard.press('Enter');
    await alice.getByText('logged in as alice').waitFor({ timeout: SHOW_MS });
    const bob = await openChat('bob', web.url);
    await logIn(bob, 'bob', 'builder');
    await shows(alice, 'bob is online');

    await tabTo(alice, 'Message');
    await alice.keyboard.type('hello 👋 你好');
    await alice.keyboard.press('Enter');
    await shows(bob, 'hello 👋 你好');
    await carol.line(/ alice: hello 👋 你好$/);

    carol.type('こんにちは 🎉\n');
    await shows(alice, 'こんにちは 🎉');
    await shows(bob, 'こんにちは 🎉');

    // bob picks an emoji and clicks Send.
    await bob.getByRole('button', { name: 'Emoji' }).click();
    await bob.getByRole('button', { name: 'rocket' }).click();
    await bob.getByLabel('Message').pressSequentially(' 日本語');
    await bob.getByRole('button', { name: 'Send', exact: true }).click();
    await shows(alice, '🚀 日本語');
    await carol.line(/ bob: 🚀 日本語$/);

    // alice's wire: hello (3), login (4), welcome (5), say (6) drawn as arrows with their steps.
    const wire = alice.getByRole('complementary', { name: 'Wire' });
    for (const [type, step] of [
      ['hello', '3'],
      ['login', '4'],
      ['welcome', '5'],
      ['say', '6'],
      ['message', '7'],
      ['presence', '5'],
    ] as const) {
      await wire.locator(`[data-type="${type}"][data-step="${step}"]`).first().waitFor({ timeout: SHOW_MS });
    }
    await wire.locator('[data-type="connect"][data-step="2"]').first().waitFor({ timeout: SHOW_MS });
    await screenshot(alice, 'web-chat-alice');
  });

  it('shows a message that looks like HTML as text, never as HTML', async () => {
    const alice = page('alice');
    const bob = page('bob');
    const xss = '<img src=x onerror=alert(1)>';
    await bob.getByLabel('Message').fill(xss);
    await bob.getByLabel('Message').press('Enter');
    await shows(alice, xss);
    expect(await log(alice).locator('img').count()).toBe(0);
    expect(await log(bob).locator('img').count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('a private message with an unread count, and a room whose history a late joiner gets', async () => {
    const alice = page('alice');
    const bob = page('bob');
    await alice.getByRole('navigation').getByRole('button', { name: 'bob', exact: true }).click();
    await alice.getByLabel('Message').fill('psst, only you 🤫');
    await alice.getByLabel('Message').press('Enter');
    const unread = bob.locator('[data-conversation="user:alice"] .unread');
    await unread.waitFor({ timeout: SHOW_MS });
    expect(await unread.textContent()).toBe('1');
    await bob.locator('[data-conversation="user:alice"]').click();
    await shows(bob, 'psst, only you 🤫');
    await unread.waitFor({ state: 'detached', timeout: SHOW_MS });

    // alice joins #rust with the keyboard and says something; bob joins later and gets it as history.
    await tabTo(alice, 'Room name');
    await alice.keyboard.type('rust');
    await alice.keyboard.press('Enter');
    await alice.getByRole('heading', { name: '#rust' }).waitFor({ timeout: SHOW_MS });
    await tabTo(alice, 'Message');
    await alice.keyboard.type('cargo new 🦀');
    await alice.keyboard.press('Enter');
    await bob.getByLabel('Room name').fill('rust');
    await bob.getByRole('button', { name: 'Join room' }).click();
    await shows(bob, 'cargo new 🦀');
    carol.type('/join rust\n');
    await carol.line(/rust/);
    await shows(alice, 'carol joined #rust');
    await alice.getByLabel('Message').fill('welcome carol');
    await alice.getByLabel('Message').press('Enter');
    await carol.line(/#rust alice: welcome carol$/);
    await shows(bob, 'welcome carol');
    expect(carol.stdout.join('\n')).not.toContain('psst');
    await screenshot(bob, 'web-chat-bob-room');
    // bob leaves: the room goes from his list, and alice sees him leave.
    await bob.getByRole('button', { name: 'Leave room' }).click();
    await bob.locator('[data-conversation="room:rust"]').waitFor({ state: 'detached' });
    await shows(alice, 'bob left #rust');
  });

  it('sends a file from a page to the terminal client and back, SHA-256 checked on both ends', async () => {
    const alice = page('alice');
    const bytes = randomBytes(100_000); // four chunks
    await alice.getByRole('navigation').getByRole('button', { name: 'carol', exact: true }).click();
    await alice.getByLabel('Send file').setInputFiles({ name: 'notes-你好.bin', mimeType: 'application/octet-stream', buffer: bytes });
    const offered = await carol.line(/^~ notes-你好\.bin .* offered by alice \[(t\d+)\]/);
    const transfer = /\[(t\d+)\]/.exec(offered)?.[1] as string;
    carol.type(`/accept ${transfer}\n`);
    const received = await carol.line(/^~ notes-你好\.bin received from alice: saved as (.+) \(/);
    const saved = /saved as (.+) \(/.exec(received)?.[1] as string;
    expect(sha256(readFileSync(saved))).toBe(sha256(bytes));
    await alice.locator(`[data-transfer="${transfer}"][data-status="done"]`).waitFor({ timeout: SHOW_MS });

    const back = randomBytes(70_000);
    const path = join(dir, 'reply-🎉.bin');
    writeFileSync(path, back);
    carol.type(`/send alice ${path}\n`);
    const card = alice.locator('.file-card[data-status="incoming"]');
    await card.waitFor({ timeout: SHOW_MS });
    await card.getByRole('button', { name: 'Accept' }).click();
    const link = alice.getByRole('link', { name: 'Download reply-🎉.bin' });
    await link.waitFor({ timeout: SHOW_MS });
    const [download] = await Promise.all([alice.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toBe('reply-🎉.bin');
    expect(sha256(readFileSync(await download.path()))).toBe(sha256(back));
    await carol.line(/^~ reply-🎉\.bin delivered to alice \(sha256 ok\)$/);
    await screenshot(alice, 'web-chat-files');
  });

  it('drops a file on a conversation; a declined offer is said so on both sides', async () => {
    const alice = page('alice');
    const bob = page('bob');
    await alice.locator('[data-conversation="user:bob"]').click();
    const dropped = await alice.evaluateHandle(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['dropped bytes'], 'dropped.txt', { type: 'text/plain' }));
      return transfer;
    });
    await alice.getByRole('region', { name: 'Chat' }).dispatchEvent('drop', { dataTransfer: dropped });
    await bob.locator('[data-conversation="user:alice"]').click();
    const offer = bob.locator('.file-card[data-status="incoming"]');
    await offer.waitFor();
    expect(await offer.locator('.file-name').textContent()).toBe('dropped.txt');
    await offer.getByRole('button', { name: 'Decline' }).click();
    await bob.locator('.file-card[data-status="declined"]').waitFor();
    await alice.locator('.file-card[data-status="declined"]').waitFor();
  });

  it('says why a login failed, and registers a new account from the login form', async () => {
    const erin = await openChat('erin', web.url);
    await erin.getByLabel('User').fill('erin');
    await erin.getByLabel('Password').fill('not-an-account');
    await erin.getByRole('button', { name: 'Log in' }).click();
    expect(await erin.getByRole('alert').textContent()).toMatch(/^auth_failed: /);
    await erin.getByLabel('User').fill('erin');
    await erin.getByLabel('Password').fill('erin-secret');
    await erin.getByRole('button', { name: 'Register' }).click();
    await erin.getByText('logged in as erin').waitFor();
    // alice sees erin come online, and may start a private chat with her.
    await page('alice').getByRole('navigation').getByTitle('private chat with erin').waitFor();
  });

  it('chats in lobby on a core-only server (lesson 10), offering nothing the server lacks', async () => {
    const server: ChildProcessWithoutNullStreams = spawn(process.execPath, [LESSON_10], { env: { ...process.env, PORT: '0' } });
    let coreWeb: WebServer | undefined;
    let bob: FrameSocket | undefined;
    try {
      const port = await within(
        new Promise<number>((resolve) => {
          let out = '';
          server.stdout.on('data', (chunk: Buffer) => {
            out += chunk.toString('utf8');
            const match = /listening on [\d.]+:(\d+)/.exec(out);
            if (match) resolve(Number(match[1]));
          });
        }),
        10_000,
        () => 'lesson 10 server did not say where it listens',
      );
      coreWeb = await startWebServer({ port: 0, target: { host: '127.0.0.1', port }, appDir });
      bob = await FrameSocket.connect(port);
      await bob.next('hello');
      bob.send({ type: 'login', user: 'bob', password: 'builder' });
      await bob.next('welcome');
      const alice = await openChat('alice-core', coreWeb.url);
      await alice.getByText('core only').first().waitFor({ timeout: SHOW_MS });
      await expect(alice.getByRole('button', { name: 'Register' }).count()).resolves.toBe(0);
      await logIn(alice, 'alice', 'wonderland');
      expect(await alice.getByRole('button', { name: 'Join room' }).count()).toBe(0);
      expect(await alice.getByLabel('Send file').count()).toBe(0);
      await alice.getByLabel('Message').fill('hi core 👋');
      await alice.getByLabel('Message').press('Enter');
      expect(await bob.next('message')).toMatchObject({ from: 'alice', text: 'hi core 👋' });
      bob.send({ type: 'say', text: 'hi from a core client 你好' });
      await shows(alice, 'hi from a core client 你好');
      // Bob leaves: alice sees him go, and her wire shows his presence offline as step 9.
      bob.send({ type: 'quit' });
      await shows(alice, 'bob is offline');
      const wire = alice.getByRole('complementary', { name: 'Wire' });
      await wire.locator('[data-type="presence"][data-step="9"]').waitFor({ timeout: SHOW_MS });
      // alice quits: quit (8), bye (9), and the server closing its side (10) are drawn; the page says so.
      await alice.getByRole('button', { name: 'Quit' }).click();
      for (const [type, step] of [
        ['quit', '8'],
        ['bye', '9'],
      ] as const)
        await wire.locator(`[data-type="${type}"][data-step="${step}"]`).first().waitFor();
      // Both sides' FIN (the server's, then the bridge's for the tab) as step 10.
      for (const dir of ['s2c', 'c2s']) await wire.locator(`[data-type="fin"][data-step="10"][data-dir="${dir}"]`).waitFor();
      await alice.getByRole('status').getByText('you left the chat (bye)').waitFor();
      await screenshot(alice, 'web-chat-core');
      expect(problems).toEqual([]);
    } finally {
      bob?.destroy();
      await coreWeb?.stop();
      server.kill();
    }
  });
});

function page(name: string): Page {
  const found = pages.get(name);
  if (!found) throw new Error(`no page ${name}`);
  return found;
}
