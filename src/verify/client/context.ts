import net from 'node:net';
import { showBytes } from '../bytes.ts';
import { HINTS, fail, seconds, type FailureReport } from '../failure.ts';
import { Probe, type Received } from '../probe.ts';
import type { OutputLine, Supervisor } from '../supervisor.ts';
import type { Transcript } from '../transcript.ts';
import type { Account, Timeouts } from '../types.ts';
import type { StepNumber } from '../../protocol/index.ts';

/** The client closed its connection while a check waited for a stdout line. */
const CLOSED = Symbol('closed');
/** After a close, how long a line printed just before it may take to reach the verifier through the pipe. */
const CLOSE_GRACE_MS = 250;

/**
 * The state of one --client run: the verifier listens and plays the server; the client under
 * test is a supervised process that connects to it, reads stdin and prints to stdout.
 */
export class ClientContext {
  /** The client's connection, once it connected. */
  client?: Probe;
  /** Connections beyond the first (a client should open one). */
  extraConnections = 0;
  private readonly accepted: Promise<Probe>;

  constructor(
    readonly host: string,
    readonly port: number,
    readonly through: StepNumber,
    readonly timeouts: Timeouts,
    readonly transcript: Transcript,
    readonly listener: net.Server,
    readonly account: Account,
    readonly texts: {
      /** Typed on stdin, to come back as a say. */
      stdin: string;
      /** Typed on stdin after an empty line. */
      afterEmpty: string;
      /** Sent as a message, in three pieces. */
      incoming: string;
      /** Sent as a message whose text holds a newline. */
      multiline: string;
    },
    /** The client under test. */
    readonly process: Supervisor,
  ) {
    this.accepted = new Promise((resolve) => {
      listener.on('connection', (socket) => {
        if (this.client) {
          this.extraConnections++;
          this.transcript.add({ conn: 'client', kind: 'note', text: `the client opened another connection (#${this.extraConnections + 1}); the verifier closed it` });
          socket.destroy();
          return;
        }
        this.client = Probe.wrap(socket, 'client', transcript);
        resolve(this.client);
      });
    });
  }

  /** Resolves with the client's connection, or `null` if it does not come within `timeoutMs` or the client exits. */
  async waitForConnection(timeoutMs: number): Promise<Probe | null> {
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([this.accepted, this.process.exited.then(() => null), new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)))]);
    clearTimeout(timer);
    return result ?? this.client ?? null;
  }

  /** Types a line on the client's stdin. */
  type(line: string): void {
    this.transcript.add({ conn: 'client', kind: 'stdin', text: line });
    this.process.writeLine(line);
  }

  /** Ends the client's stdin (what Ctrl-D, or the end of a piped file, does). */
  endInput(): void {
    this.transcript.add({ conn: 'client', kind: 'stdin', text: '<end of input>' });
    this.process.closeStdin();
  }

  /** "exited with code 1" once the client has exited, else null. */
  clientExit(waitMs = 250): Promise<string | null> {
    return this.process.exitDescription(waitMs);
  }

  /** Waits for the next frame from the client, failing precisely (bad line, close, exit, timeout). */
  async expectFrame(what: string, hint: string): Promise<Received> {
    const client = this.client!;
    const { answerMs } = this.timeouts;
    const wait = await client.next(() => true, answerMs, { what });
    if (wait.kind === 'frame' && wait.received.frame) return wait.received;
    if (wait.kind === 'frame') {
      fail({
        summary: `the client sent a line that is not a chatlab/1 frame (${wait.received.problem?.message ?? 'unreadable'})`,
        expected: what,
        received: showBytes(wait.received.raw),
        hint: HINTS.jsonLine,
        culprit: wait.received.seq,
      });
    }
    fail(await this.explainSilence(what, hint, wait.kind === 'closed'));
  }

  /**
   * Waits for a stdout line that `match` accepts, printed after output line number `from`.
   * Resolves `null` as soon as the client has clearly answered wrong rather than at the timeout:
   * it printed a line that `near` accepts (its attempt at the line, which differs), it exited, or
   * it closed the connection (after a short grace for a line printed just before the close).
   */
  async expectLine(match: (line: OutputLine) => boolean, from: number, near: (line: OutputLine) => boolean = () => false): Promise<OutputLine | null> {
    const stop = new AbortController();
    const onStdout = (line: OutputLine): boolean => line.stream === 'stdout' && (match(line) || near(line));
    const printed = this.process.waitForLine(onStdout, this.timeouts.answerMs, from, stop.signal);
    const closed = this.client ? this.client.waitForClose(this.timeouts.answerMs, stop.signal).then((yes) => (yes ? CLOSED : null)) : null;
    let line = await (closed ? Promise.race([printed, closed]) : printed);
    stop.abort();
    if (line === CLOSED) line = await this.process.waitForLine(onStdout, CLOSE_GRACE_MS, from);
    return line && match(line) ? line : null;
  }

  /** The failure for "the client did not do X": it exited, closed, or stayed silent. */
  async explainSilence(what: string, hint: string, closed = this.client?.finished ?? false): Promise<FailureReport> {
    const exit = await this.clientExit();
    if (exit) return { summary: `the client ${exit} before ${what}`, hint: `${hint} The client's stderr is below.` };
    if (closed) return { summary: `the client closed the connection before ${what}`, hint };
    const pending = this.client?.pendingBytes ?? Buffer.alloc(0);
    if (pending.length) {
      return {
        summary: `no complete frame within ${seconds(this.timeouts.answerMs)}: the client sent ${pending.length} bytes without the final \\n`,
        received: `${showBytes(pending)}   (no <LF> yet)`,
        hint: HINTS.newline,
        timeoutSeconds: this.timeouts.answerMs / 1000,
      };
    }
    return { summary: `no answer within ${seconds(this.timeouts.answerMs)}: waited for ${what}`, hint, timeoutSeconds: this.timeouts.answerMs / 1000 };
  }

  /** Index of the next stdout line to be printed (to look only at what comes after an action). */
  get outputMark(): number {
    return this.process.lineCount;
  }
}
