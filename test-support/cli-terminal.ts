/**
 * Runs the real `chatlab` CLI in a pseudo-terminal (node-pty) with a headless terminal emulator
 * (@xterm/headless) playing the terminal, so a test can type keys and wait, bounded, until the
 * screen shows what it expects. Never sleeps: every write the emulator finishes re-checks the waits.
 *
 * ```ts
 * const tty = startCliTerminal(['client', '--user', 'bob', '--password', 'builder', '--port', String(port)], { cols: 100, rows: 30 });
 * await tty.shows(/bob \(you\)/);
 * tty.type('/quit\r');
 * expect(await tty.exited).toBe(0);
 * tty.close();
 * ```
 */
import xterm from '@xterm/headless';
import pty from 'node-pty';
import { CLI_WAIT_MS, REPO_ROOT, cliCommand, testEnv } from './cli-process.ts';

/** The size of the terminal, and what it calls itself. */
export interface CliTerminalOptions {
  cols: number;
  rows: number;
  /** The terminal type, given to node-pty and as env TERM. Default: node-pty's own (TERM inherited). */
  name?: string;
  /** Bound of a wait, in ms. */
  waitMs?: number;
}

/** A `chatlab` process in a pseudo-terminal, with the emulated screen. */
export interface CliTerminal {
  child: pty.IPty;
  term: xterm.Terminal;
  /** Everything the process wrote, escape sequences included. */
  output(): string;
  /** The visible rows, one string each. */
  screen(): string[];
  /** Every row, the scrollback included. */
  allRows(): string[];
  /** The character drawn at a visible row and column (a wide character covers two columns). */
  cellAt(row: number, column: number): string;
  /**
   * Resolves once some visible row matches `pattern` (or `pattern` passes on the rows given by
   * `rows`, default the visible ones); fails after the wait bound with the screen.
   */
  shows(pattern: RegExp | ((rows: string[]) => boolean), what?: string, rows?: () => string[]): Promise<void>;
  /** Writes keys to the terminal as they are (`\r` is Enter). */
  type(keys: string): void;
  /** Resolves with the exit code. */
  exited: Promise<number>;
  /** Kills the process (if still running) and disposes of the emulator. */
  close(): void;
}

/**
 * Starts `chatlab <args>` (this run's build of the source, see test-build.ts) in a pseudo-terminal
 * from the repo root, with the test's environment
 * minus what the client reads (HOST, PORT, CHATLAB_*) and the colour switches (NO_COLOR, FORCE_COLOR).
 */
export function startCliTerminal(args: string[], options: CliTerminalOptions): CliTerminal {
  const { cols, rows, name, waitMs = CLI_WAIT_MS } = options;
  const env = testEnv(['NO_COLOR']);
  if (name !== undefined) env.TERM = name;
  const term = new xterm.Terminal({ cols, rows, allowProposedApi: true });
  const [program, ...entry] = cliCommand() as [string, ...string[]];
  const child = pty.spawn(program, [...entry, ...args], { ...(name !== undefined && { name }), cwd: REPO_ROOT, cols, rows, env });
  let raw = '';
  const wakers = new Set<() => void>();
  child.onData((data) => {
    raw += data;
    term.write(data, () => wakers.forEach((wake) => wake()));
  });
  // Resolves once the screen copy has drawn everything the child wrote: node-pty may report the
  // exit before its last data event, and xterm draws writes asynchronously, in order.
  const exited = new Promise<number>((resolve) => child.onExit(({ exitCode }) => setImmediate(() => term.write('', () => resolve(exitCode)))));
  const buffer = () => term.buffer.active;
  const screen = () =>
    Array.from(
      { length: rows },
      (_, row) =>
        buffer()
          .getLine(buffer().viewportY + row)
          ?.translateToString(true) ?? '',
    );
  const allRows = () => Array.from({ length: buffer().length }, (_, row) => buffer().getLine(row)?.translateToString(true) ?? '');
  const shows = (pattern: RegExp | ((rows: string[]) => boolean), what = String(pattern), rowsOf = screen) =>
    new Promise<void>((resolve, reject) => {
      const test = typeof pattern === 'function' ? pattern : (lines: string[]) => lines.some((line) => pattern.test(line));
      const check = () => {
        if (!test(rowsOf())) return;
        clearTimeout(timer);
        wakers.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        wakers.delete(check);
        reject(new Error(`the terminal never showed ${what} within ${waitMs} ms; screen:\n${rowsOf().join('\n')}`));
      }, waitMs);
      wakers.add(check);
      check();
    });
  return {
    child,
    term,
    output: () => raw,
    screen,
    allRows,
    cellAt: (row, column) =>
      buffer()
        .getLine(buffer().viewportY + row)
        ?.getCell(column)
        ?.getChars() ?? '',
    shows,
    type: (keys) => child.write(keys),
    exited,
    close: () => {
      child.kill();
      term.dispose();
    },
  };
}
