/**
 * The TUI (`chatlab client` in a terminal) driven under a pseudo-terminal: node-pty runs the real
 * CLI, @xterm/headless plays the terminal, and the test types keys and reads the screen, polling
 * the screen buffer until the expected text shows (bounded), never sleeping.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type xterm from '@xterm/headless';
import stringWidth from 'string-width';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChatClient } from '../src/client/index.ts';
import { attachFileTransfers, type TransferEvent } from '../src/client/files/index.ts';
import type { MessageFrame } from '../src/protocol/index.ts';
import { startTestServer, type TestServer } from '../test-support/chat-server.ts';
import { startCliTerminal, type CliTerminal } from '../test-support/cli-terminal.ts';
import { nextEvent } from '../test-support/client-events.ts';

const WAIT_MS = 15_000;
const COLS = 100;
const ROWS = 30;
/** The message pane's right border: the sidebar is 24 columns wide. */
const BORDER_COLUMN = COLS - 24 - 1;

let chat: TestServer;
let dir: string;
const clients: ChatClient[] = [];
const cleanups: (() => void)[] = [];

beforeEach(async () => {
  chat = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'chatlab-tui-'));
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  for (const client of clients.splice(0)) client.destroy();
  await chat.stop();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Makes the emulator measure characters as current terminals do (Unicode 9+ widths: an emoji
 * takes two columns). @xterm/headless alone uses Unicode 6 widths, where 😄 takes one.
 */
function useModernWidths(term: xterm.Terminal): void {
  const width = (codepoint: number) => stringWidth(String.fromCodePoint(codepoint)) as 0 | 1 | 2;
  term.unicode.register({
    version: 'modern',
    wcwidth: width,
    // Same rules as xterm's own providers: a zero-width character joins the one before it.
    charProperties(codepoint: number, preceding: number): number {
      let columns: number = width(codepoint);
      let join = columns === 0 && preceding !== 0;
      if (join) {
        const before = (preceding >> 1) & 3;
        if (before === 0) join = false;
        else columns = Math.max(columns, before);
      }
      return (columns << 1) | (join ? 1 : 0);
    },
  });
  term.unicode.activeVersion = 'modern';
}

/** The TUI in a pseudo-terminal, with a headless terminal emulator reading its output. */
function startTui(args: string[]): CliTerminal {
  const tui = startCliTerminal(['client', ...args], { cols: COLS, rows: ROWS, name: 'xterm-256color', waitMs: WAIT_MS });
  useModernWidths(tui.term);
  cleanups.push(() => tui.close());
  return tui;
}

async function loggedIn(user: string, password: string): Promise<ChatClient> {
  const client = await ChatClient.connect({ port: chat.port });
  clients.push(client);
  await client.login(user, password);
  return client;
}

const isText = (text: string) => (m: MessageFrame) => m.text === text;

describe('chatlab client in a terminal (TUI)', () => {
  it('users, rooms, status; type and receive; own messages; /join; emoji shortcodes and wide characters laid out; /quit', async () => {
    const alice = await loggedIn('alice', 'wonderland');
    await alice.say('earlier, before bob came');
    const tui = startTui(['--user', 'bob', '--password', 'builder', '--port', String(chat.port), '--downloads', join(dir, 'downloads')]);

    // The layout: online users (with presence), rooms, status line, history replayed.
    await tui.shows(/online \(2\)/);
    await tui.shows(/│ alice/);
    await tui.shows(/bob \(you\)/);
    await tui.shows(/▸ #lobby/);
    await tui.shows(new RegExp(`bob @ 127\\.0\\.0\\.1:${chat.port} │ #lobby │ ping \\d`));
    await tui.shows(/\d\d:\d\d:\d\d alice: earlier, before bob came/);

    // Type a message: alice receives it; bob's own copy shows in the pane.
    const fromBob = nextEvent<[MessageFrame]>(alice, 'message', isText('hello from the TUI'));
    tui.type('hello from the TUI\r');
    expect((await fromBob)[0]).toMatchObject({ from: 'bob', room: 'lobby' });
    await tui.shows(/\d\d:\d\d:\d\d bob: hello from the TUI/);

    // Receive one.
    await alice.say('hi bob, 世界 👋');
    await tui.shows(/\d\d:\d\d:\d\d alice: hi bob, 世界 👋/);

    // Presence changes the user list.
    const carol = await loggedIn('carol', 'caroline');
    await tui.shows(/online \(3\)/);
    await tui.shows(/│ carol/);
    carol.destroy();
    await tui.shows(/online \(2\)/);

    // Emoji shortcodes become emoji as typed, and go out as emoji.
    const emoji = nextEvent<[MessageFrame]>(alice, 'message', isText('😄 works 🎉'));
    tui.type(':smile: works :tada:\r');
    await emoji;
    await tui.shows(/bob: 😄 works 🎉/);
    // Wide characters take two columns: the pane's right border stays in its column on their rows.
    for (const text of ['bob: 😄 works 🎉', 'alice: hi bob, 世界 👋']) {
      const row = tui.screen().findIndex((line) => line.includes(text));
      expect(tui.cellAt(row, BORDER_COLUMN), `border on the row of "${text}":\n${tui.screen().join('\n')}`).toBe('│');
      expect(tui.cellAt(row, BORDER_COLUMN + 1)).toBe('│');
    }

    // A private message, shown as such.
    await alice.privateSay('bob', 'just for you');
    await tui.shows(/alice → you: just for you/);

    // /join: the rooms list and the status line change; plain lines then go to the room.
    await alice.join('rust');
    tui.type('/join rust\r');
    await tui.shows(/▸ #rust 2/);
    await tui.shows(/● #lobby/);
    await tui.shows(/│ #rust │ ping/);
    const inRoom = nextEvent<[MessageFrame]>(alice, 'message', isText('in the room now'));
    tui.type('in the room now\r');
    expect((await inRoom)[0]).toMatchObject({ room: 'rust' });
    await tui.shows(/#rust bob: in the room now/);

    // ↑ brings the last line back.
    tui.type('\u001b[A');
    await tui.shows(/^> in the room now/);
    tui.type('\u0015'); // Ctrl-U clears it

    // A bad command says so plainly.
    tui.type('/join\r');
    await tui.shows(/! bad_command: \/join needs a room; usage: \/join ROOM/);

    tui.type('/quit\r');
    expect(await tui.exited).toBe(0);
  });

  it('file offer: shown with the way to answer (status line too); /accept; the saved file', async () => {
    const alice = await loggedIn('alice', 'wonderland');
    const files = attachFileTransfers(alice, { downloads: join(dir, 'alice-downloads') });
    const downloads = join(dir, 'downloads');
    const tui = startTui(['--user', 'bob', '--password', 'builder', '--port', String(chat.port), '--downloads', downloads]);
    await tui.shows(/bob \(you\)/);
    const bytes = randomBytes(100_000);
    writeFileSync(join(dir, 'photo.jpg'), bytes);
    const delivered = nextEvent<[TransferEvent]>(files, 'transfer', (e: TransferEvent) => e.kind === 'delivered');
    const transfer = await files.send({ to: 'bob' }, join(dir, 'photo.jpg'));
    await tui.shows(new RegExp(`~ photo\\.jpg \\(97\\.7 KiB\\) offered by alice \\[${transfer}\\]: /accept ${transfer} or`));
    await tui.shows(/1 file offer: \/accept or \/decline/);
    tui.type('/accept\r');
    await tui.shows(/~ photo\.jpg received from alice: saved as/);
    await delivered;
    expect(readFileSync(join(downloads, 'photo.jpg')).equals(bytes)).toBe(true);
    tui.type('\u0004'); // Ctrl-D on an empty line leaves
    expect(await tui.exited).toBe(0);
  });

  it('shows the disconnection plainly, with the reconnect countdown; Ctrl-C leaves', async () => {
    const tui = startTui(['--user', 'bob', '--password', 'builder', '--port', String(chat.port)]);
    await tui.shows(/bob \(you\)/);
    await chat.stop();
    await tui.shows(/disconnected — reconnecting in \d+ s… \(attempt 1\)/);
    tui.type('\u0003');
    expect(await tui.exited).toBe(0);
  });

  it('--register creates the account from the client', async () => {
    const tui = startTui(['--user', 'erin', '--password', 'secret-erin', '--register', '--port', String(chat.port)]);
    await tui.shows(/erin \(you\)/);
    expect(chat.server.accounts.list()).toContain('erin');
    tui.type('\u0003');
    expect(await tui.exited).toBe(0);
  });
});
