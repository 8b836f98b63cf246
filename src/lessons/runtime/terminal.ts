import { EventEmitter } from 'node:events';

/** One line of a terminal's transcript: printed by the program, or typed by the user. */
export interface TranscriptLine {
  /** `out`: printed (stdout or stderr); `in`: typed by the user (or `^C`, `^D`). */
  kind: 'out' | 'in';
  text: string;
}

/**
 * What one terminal of a lesson run shows, line by line: the server's, a client's or a raw `nc`
 * connection's. Scenario steps wait on it ("until bob prints `alice: hi`"), and the README's
 * transcript is rendered from it.
 */
export class Terminal {
  /** Everything shown so far, in order. */
  readonly lines: TranscriptLine[] = [];
  private readonly changed = new EventEmitter();
  /** Index of the first printed line an `expect` has not yet consumed. */
  private cursor = 0;
  private partial = '';
  private ended = false;

  /**
   * @param name who this terminal belongs to (`server`, `alice`, `nc`)
   * @param command the command line a learner types to open it, shown above its transcript
   */
  constructor(
    readonly name: string,
    readonly command: string,
  ) {
    this.changed.setMaxListeners(0);
  }

  /** Feeds printed text; complete lines are recorded, the rest waits for its newline. */
  write(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const part of parts) this.record({ kind: 'out', text: part.replace(/\r$/, '') });
  }

  /** Records a line the user typed (or a key such as `^C`). */
  typed(text: string): void {
    this.record({ kind: 'in', text });
  }

  /** Marks the end of the program's output (it exited): any unterminated last line is kept. */
  end(): void {
    if (this.partial !== '') this.record({ kind: 'out', text: this.partial });
    this.partial = '';
    this.ended = true;
    this.changed.emit('change');
  }

  /** The printed lines only. */
  get printed(): string[] {
    return this.lines.filter((line) => line.kind === 'out').map((line) => line.text);
  }

  /**
   * Waits until the terminal prints exactly `text` on a line of its own, after the lines earlier
   * expectations consumed; that line is consumed in turn. Rejects with the terminal's output when
   * it does not come within `timeoutMs` (or the program ends without printing it).
   */
  expect(text: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const look = (): boolean => {
        const printed = this.lines.map((line, index) => ({ line, index })).filter(({ line }) => line.kind === 'out');
        const found = printed.find(({ line, index }) => index >= this.cursor && line.text === text);
        if (!found) return false;
        this.cursor = found.index + 1;
        return true;
      };
      if (look()) return resolve();
      const fail = (why: string): void => {
        this.changed.off('change', onChange);
        clearTimeout(timer);
        const shown = this.lines.map((line) => `    ${line.kind === 'in' ? '> ' : ''}${line.text}`).join('\n') || '    (nothing)';
        reject(new Error(`${this.name} ${why} "${text}". It showed:\n${shown}`));
      };
      const onChange = (): void => {
        if (look()) {
          this.changed.off('change', onChange);
          clearTimeout(timer);
          resolve();
        } else if (this.ended) {
          fail('ended without printing');
        }
      };
      const timer = setTimeout(() => fail(`did not print, within ${timeoutMs} ms,`), timeoutMs);
      this.changed.on('change', onChange);
    });
  }

  /** Subscribes to every new line (for live display). */
  onLine(listener: (line: TranscriptLine) => void): void {
    this.changed.on('line', listener);
  }

  private record(line: TranscriptLine): void {
    this.lines.push(line);
    this.changed.emit('line', line);
    this.changed.emit('change');
  }
}
