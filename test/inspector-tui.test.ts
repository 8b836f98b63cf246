import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import xtermHeadless from '@xterm/headless';
import pty from 'node-pty';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient } from '../src/client/index.ts';
import { codePointWidth } from '../src/terminal/index.ts';
import { startTestServer, type TestServer } from '../test-support/chat-server.ts';
import { startCliTerminal, type CliTerminal } from '../test-support/cli-terminal.ts';

const CLI = join(import.meta.dirname, '..', 'bin', 'chatlab.js');
const COLS = 140;
const ROWS = 46;

interface Cell {
  chars: string;
  width: number;
}

/**
 * A program running under a pseudo-terminal, drawn by a headless xterm. The terminal measures
 * characters like a modern one (emoji and CJK two cells wide) through the same string-width
 * based function the inspector lays out with.
 */
class Screen {
  readonly term = new xtermHeadless.Terminal({ cols: COLS, rows: ROWS, allowProposedApi: true });
  readonly process: pty.IPty;
  readonly exited: Promise<number>;

  constructor(args: string[], cwd = join(import.meta.dirname, '..')) {
    this.term.unicode.register({ version: 'string-width', wcwidth: codePointWidth, charProperties: (cp: number) => codePointWidth(cp) << 1 });
    this.term.unicode.activeVersion = 'string-width';
    this.process = pty.spawn(process.execPath, [CLI, ...args], { cols: COLS, rows: ROWS, cwd, env: { ...process.env, TERM: 'xterm-256color', NO_COLOR: '' } });
    this.process.onData((data) => this.term.write(data));
    // Resolves once the emulator has drawn everything the program wrote: node-pty may report the
    // exit before its last data event, and xterm draws writes asynchronously, in order.
    this.exited = new Promise((resolve) => this.process.onExit(({ exitCode }) => setImmediate(() => this.term.write('', () => resolve(exitCode)))));
  }

  cells(y: number): Cell[] {
    const line = this.term.buffer.active.getLine(y);
    const cells: Cell[] = [];
    for (let x = 0; x < COLS; x++) {
      const cell = line?.getCell(x);
      cells.push({ chars: cell?.getChars() ?? '', width: cell?.getWidth() ?? 1 });
    }
    return cells;
  }

  /** Line `y` as text, wide characters once (their second cell skipped). */
  line(y: number): string {
    return this.cells(y)
      .filter((c) => c.width !== 0)
      .map((c) => c.chars || ' ')
      .join('')
      .trimEnd();
  }

  text(): string {
    return Array.from({ length: ROWS }, (_, y) => this.line(y)).join('\n');
  }

  /** Polls the screen until `predicate` holds, failing with the screen shown. */
  async waitFor(predicate: (text: string) => boolean, what: string, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      // Let pending output reach the terminal model before looking.
      await new Promise<void>((resolve) => this.term.write('', resolve));
      if (predicate(this.text())) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out after ${ms} ms waiting for ${what}; screen:\n${this.text()}`);
  }

  press(keys: string): void {
    this.process.write(keys);
  }
}

let screen: Screen | undefined;
let chat: TestServer | undefined;
let dir: string | undefined;
afterEach(async () => {
  try {
    screen?.process.kill();
  } catch {
    // already gone
  }
  screen = undefined;
  await chat?.stop();
  chat = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('the live terminal UI under a pseudo-terminal', () => {
  it('runs the demo to an all-green checklist, draws emoji and CJK without breaking the layout, and answers keys', async () => {
    screen = new Screen(['demo', '--fast']);
    await screen.waitFor((t) => t.includes('Press q to quit'), 'the demo to finish');
    const text = screen.text();
    expect(text).toContain('10 steps: all green');
    for (const name of ['listen', 'connect', 'accept', 'login', 'verify + announce', 'send', 'relay', 'quit', 'remove + announce', 'disconnect']) {
      expect(text).toMatch(new RegExp(`✔ +\\d+ ${name.replace('+', '\\+')}`));
    }
    expect(text).toMatch(/server +alice +bob +carol/);
    expect(text).toContain('↑↓ select');

    // Layout: the diagram pane's right border stays in one column on every row, emoji or not.
    const top = screen.line(1);
    const borderColumn = [...top].indexOf('┐');
    expect(borderColumn).toBeGreaterThan(40);
    const bottom = Array.from({ length: ROWS }, (_, y) => y).find((y) => y > 1 && screen!.line(y).startsWith('└')) as number;
    let emojiRows = 0;
    for (let y = 2; y < bottom; y++) {
      const cells = screen.cells(y);
      expect(cells[borderColumn]?.chars, `row ${y}: ${screen.line(y)}`).toBe('│');
      if (cells.some((c) => c.chars === '👋' || c.chars === '🙂' || c.chars === '你')) {
        emojiRows++;
        expect(cells.find((c) => c.chars === '👋' || c.chars === '🙂' || c.chars === '你')?.width).toBe(2);
      }
    }
    expect(emojiRows).toBeGreaterThan(0);

    // Filter by type until only `say` rows are shown, go to the first: alice's message and its bytes.
    for (let i = 0; i < 40 && !screen.line(0).includes('only say'); i++) {
      screen.press('t');
      await screen.waitFor((t) => t.split('\n')[0] !== undefined, 'a redraw', 2_000);
      await new Promise((resolve) => setTimeout(resolve, 120));
    }
    expect(screen.line(0)).toContain('only say');
    screen.press('g');
    await screen.waitFor((t) => t.includes('U+1F44B'), "the detail pane to show alice's 👋");
    const detail = screen.text();
    expect(detail).toContain('"text": "hello everyone 👋"');
    expect(detail).toMatch(/👋 +U\+1F44B {2}4 byte\(s\) F0 9F 91 8B/);
    expect(detail).toMatch(/arrived in one TCP read \(c2s\)/);
    screen.press(']]]]');
    await screen.waitFor((t) => t.includes('0000  7B 22 74 79 70 65 22 3A'), 'the hex dump after scrolling the detail pane');

    // Help opens and closes; q quits with exit code 0 and leaves the checklist on the terminal.
    screen.press('?');
    await screen.waitFor((t) => t.includes('press ? or Esc to close'), 'the help overlay');
    screen.press('\x1b');
    await screen.waitFor((t) => !t.includes('press ? or Esc to close'), 'the help overlay to close');
    screen.press('q');
    expect(await screen.exited).toBe(0);
    await screen.waitFor((t) => t.includes('10-step checklist: 10/10 seen — all green'), 'the checklist after the UI closed', 5_000);
  });

  it('`chatlab inspect` shows where it listens, draws live traffic, pauses, exports and quits', async () => {
    chat = await startTestServer();
    dir = await mkdtemp(join(tmpdir(), 'chatlab-tui-'));
    screen = new Screen([join(import.meta.dirname, '..', 'bin', 'chatlab.js'), 'inspect', '--listen', '0', '--target', `127.0.0.1:${chat.port}`, '--export-dir', 'exports/today'].slice(1), dir);
    await screen.waitFor((t) => /listening on 127\.0\.0\.1:\d+/.test(t), 'the listening line in the title bar');
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(screen.text())?.[1]);
    expect(screen.line(0)).toContain('q to quit');
    await screen.waitFor((t) => t.includes('waiting for the first connection'), 'the empty diagram');

    const bob = await ChatClient.connect({ port });
    await bob.login('bob', 'builder');
    await screen.waitFor((t) => /\[5\] +├─+ welcome ─+▶│ +bob; online: bob/.test(t), "bob's welcome arrow");
    expect(screen.text()).toMatch(/server +bob/);

    // Keep-alive is hidden and counted; `a` draws it; `T` hides a type.
    await bob.ping();
    await bob.ping();
    await screen.waitFor((t) => t.split('\n')[0]!.includes('4 keep-alive hidden'), 'the keep-alive count in the title bar');
    expect(screen.text()).not.toMatch(/─ (ping|pong) ─/);
    expect(screen.text()).toContain('↑↓ select');
    expect(screen.text()).toContain('a keep-alive');
    screen.press('a');
    await screen.waitFor((t) => /│◀─+ ping ─+┤/.test(t) && /├─+ pong ─+▶│/.test(t), 'the ping and pong arrows after pressing a');
    screen.press('T');
    await screen.waitFor((t) => /all but \S+/.test(t.split('\n')[0]!), 'the hide-a-type flag after pressing T');
    screen.press('x');
    await screen.waitFor((t) => !/all but /.test(t.split('\n')[0]!), 'the filters cleared');

    screen.press('p');
    await screen.waitFor((t) => t.split('\n')[0]!.includes('PAUSED'), 'the paused flag');
    await bob.say('while paused');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(screen.text()).not.toContain('"while paused"');
    screen.press('p');
    await screen.waitFor((t) => t.includes('"while paused"'), 'the held rows after resuming');

    screen.press('e');
    // Into the folder asked for (created), never the current one; the title bar names it.
    const exports = join(dir, 'exports', 'today');
    await screen.waitFor((t) => t.split('\n')[0]!.includes('exported exports/today/chatlab-session-'), 'the export message with its path');
    expect(await readdir(dir)).toEqual(['exports']);
    const files = (await readdir(exports)).sort();
    expect(files.map((f) => f.replace(/\d{8}-\d{6}/, 'STAMP'))).toEqual(['chatlab-session-STAMP.mmd', 'chatlab-session-STAMP.svg', 'chatlab-session-STAMP.txt']);
    expect(await readFile(join(exports, files[0]!), 'utf8')).toContain('participant C1 as bob');

    await bob.quit();
    screen.press('q');
    expect(await screen.exited).toBe(0);
    // Printed in full once the terminal is back, where nothing cuts it.
    for (const file of files) expect(screen.text()).toContain(`exported ${join(exports, file)}`);
  });
});

describe('the live terminal UI at the default terminal size', () => {
  let tty: CliTerminal | undefined;
  afterEach(() => {
    tty?.close();
    tty = undefined;
  });

  /** The rows where a box's top border starts at column 0, with the label it carries. */
  function boxTops(rows: string[]): Array<{ row: number; text: string }> {
    return rows.flatMap((text, row) => (text.startsWith('┌') ? [{ row, text }] : []));
  }

  it('80×24: the diagram spans the width above the frame detail, no box drawn over another, labels and key bar kept; a resize brings the side panes', async () => {
    tty = startCliTerminal(['demo', '--fast'], { cols: 80, rows: 24, name: 'xterm-256color', waitMs: 20_000 });
    tty.term.unicode.register({ version: 'string-width', wcwidth: codePointWidth, charProperties: (cp: number) => codePointWidth(cp) << 1 });
    tty.term.unicode.activeVersion = 'string-width';
    await tty.shows(/Press q to quit/, 'the demo to finish');
    const rows = tty.screen();
    // Two boxes stacked: the diagram from row 1, the detail below it, each the full 80 columns.
    const tops = boxTops(rows);
    expect(tops.map((t) => t.row)).toEqual([1, expect.any(Number)]);
    expect(tops[0]!.text).toContain('sequence diagram');
    expect(tops[1]!.text).toContain('frame detail');
    for (const { row } of tops) expect(tty.cellAt(row, 79), `row ${row}`).toBe('┐');
    for (let row = 2; row < 23; row++) {
      if (tops.some((t) => t.row === row) || rows[row]!.startsWith('└')) continue;
      expect(tty.cellAt(row, 0), `left border, row ${row}: ${rows[row]}`).toBe('│');
      expect(tty.cellAt(row, 79), `right border, row ${row}: ${rows[row]}`).toBe('│');
    }
    expect(rows.join('\n')).not.toContain('throughput');
    // The summary column stays readable beside four lifelines; the steps are counted in the title bar.
    expect(rows.join('\n')).toMatch(/server +alice +bob +carol/);
    expect(rows.some((row) => /▶│ {1,2}\S.{15,}/.test(row) || /│ {1,2}\S.{15,}│$/.test(row))).toBe(true);
    expect(rows[0]).toContain('10/10 steps');
    expect(rows[23]).toMatch(/\? help +q quit/);

    tty.child.resize(120, 36);
    tty.term.resize(120, 36);
    await tty.shows(/10 steps: all green/, 'the checklist after growing the terminal');
    await tty.shows(/throughput/, 'the throughput box after growing the terminal');
    tty.type('q');
    expect(await tty.exited).toBe(0);
  });
});
