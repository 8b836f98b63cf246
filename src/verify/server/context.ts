import { validateServerFrame, type Feature, type RawFrame, type StepNumber } from '../../protocol/index.ts';
import { showBytes } from '../bytes.ts';
import { HINTS, fail, seconds, type FailureReport } from '../failure.ts';
import { nonce } from '../nonce.ts';
import { Probe, type Received, type Wait } from '../probe.ts';
import { describeExit, waitForPort, type PortWait, type Supervisor } from '../supervisor.ts';
import type { Transcript } from '../transcript.ts';
import type { Account, Timeouts } from '../types.ts';
import type { VerifyStep } from '../steps.ts';

/** What to say when a wait does not end with the frame wanted. */
export interface WaitHints {
  /** Hint when nothing arrives in time. */
  timeout: string;
  /** Hint when the server closes the connection instead. */
  close?: string;
}

/** A wait for an answer, and how long it lasted. */
export interface TimedWait {
  wait: Wait;
  waitedMs: number;
}

/** The texts of the `say` frames the checks send, each with a nonce to find it again. */
export interface SentTexts {
  plain: string;
  unicode: string;
  beforeLogin: string;
  withId: string;
  forged: string;
  /** Step 7: the two says of one line cut by a lone \r (neither may be relayed), and the say sent after it. */
  beforeCr: string;
  afterCr: string;
  nextToCr: string;
  /** Step 10: what a pair says while another client sends garbage and drops. */
  pairAsk: string;
  pairReply: string;
}

/**
 * The relay check's text: each part breaks a common wrong decoding. Ł ō ŏ Ő ŝ hold the bytes 0x81
 * 0x8D 0x8F 0x90 0x9D, which Windows-1252 cannot map; a ZWJ family, a flag and combining marks are
 * several code points per visible character; 𠀋 is 4 bytes outside the BMP; U+2028 is a line end
 * to str.splitlines(); the quote, backslash, newline and tab travel as JSON escapes.
 */
export const FIDELITY_TEXT = 'héllo 👋 wörld — 世界 ✓ Łódź ōŏŐŝ 👨\u200d👩\u200d👧\u200d👦 🇯🇵 e\u0301 n\u0303 𠀋 \u2028 "quoted" back\\slash line\nbreak tab\tend';

/**
 * The state shared by the server checks of one run: the address, the timeouts, the probe
 * connections and the accounts they log in with. Checks of later steps read what the checks of
 * earlier steps set up (the runner guarantees the order and stops at the first failure).
 */
export class ServerContext {
  readonly probes: Probe[] = [];
  /** The accounts the checks log in with: [alice, bob, carol?] roles. */
  accounts: Account[] = [];
  accountSource: 'register' | 'given' | 'none' = 'none';
  /** Every account a check created with `register` (the report lists them: they cannot be removed). */
  readonly registered: string[] = [];
  /** Connection opened at step 2 that never logs in: it must never receive messages. */
  idle?: Probe;
  /** Logged-in connections by role. */
  alice?: Probe;
  bob?: Probe;
  carol?: Probe;
  /** Connection that only fails to log in (steps 4–5), then tries to talk before login (step 6). */
  guest?: Probe;
  /** Bob's second session (step 9), dropped abruptly at step 10. */
  bobAgain?: Probe;
  /** Connection that never logs in and sends the bad frames of steps 4–5. */
  rude?: Probe;
  readonly texts: SentTexts;
  /** The extensions the server's `hello` advertised in `features` (empty: core only). Set at step 3. */
  features: ReadonlySet<string> = new Set();
  /** Id of the `say` that must be answered `ok`. */
  readonly sayId: string;
  private connections = 0;

  constructor(
    readonly host: string,
    readonly port: number,
    readonly through: VerifyStep,
    readonly timeouts: Timeouts,
    readonly transcript: Transcript,
    /** The server process the verifier started (undefined with --target); replaced by {@link restartServer}. */
    public supervisor: Supervisor | undefined,
    /** Accounts given with --user / --accounts. */
    readonly givenAccounts: Account[],
  ) {
    this.texts = {
      plain: `hello from the verifier ${nonce()}`,
      unicode: `${FIDELITY_TEXT} ${nonce()}`,
      beforeLogin: `nobody may read this ${nonce()}`,
      withId: `this one has an id ${nonce()}`,
      forged: `who am I really? ${nonce()}`,
      beforeCr: `the part before a lone CR ${nonce()}`,
      afterCr: `smuggled after a lone CR ${nonce()}`,
      nextToCr: `the say after the bad line ${nonce()}`,
      pairAsk: `are you still there? ${nonce()}`,
      pairReply: `still here ${nonce()}`,
    };
    this.sayId = `verify-${Math.random().toString(36).slice(2, 7)}`;
  }

  /**
   * Stops the server the verifier started and starts the same command again on the same port
   * (set by verifyServer; undefined with --target, where the server is someone else's).
   */
  restarter?: () => Promise<Supervisor>;

  /** How the server's start went, when the verifier already waited for it (it picked the port). */
  startWait?: PortWait;

  /** Whether {@link restartServer} can restart the server (the verifier started it). */
  get canRestart(): boolean {
    return this.restarter !== undefined;
  }

  /**
   * Restarts the server (see {@link restarter}): every open connection ends with the old process;
   * fails the check clearly unless the new one accepts connections on the same port again.
   */
  async restartServer(): Promise<void> {
    if (!this.restarter) throw new Error('restartServer: the verifier did not start this server');
    this.transcript.add({ conn: 'server', kind: 'note', text: 'the verifier stops the server (SIGTERM) and starts the same command again on the same port' });
    this.closeAll();
    this.alice = this.bob = this.carol = this.guest = this.bobAgain = this.rude = this.idle = undefined;
    this.supervisor = await this.restarter();
    const wait = await waitForPort(this.host, this.port, this.timeouts.startMs, this.supervisor);
    if (wait.kind === 'ready') return;
    const why =
      wait.kind === 'exited'
        ? `the new process ${describeExit(wait.exit)}`
        : wait.kind === 'wrong-port'
          ? `it says it listens on port ${wait.printedPort}`
          : `nothing accepted connections within ${seconds(this.timeouts.startMs)}`;
    fail({
      summary: `after the verifier stopped your server and started it again, it did not listen on ${this.host}:${this.port}: ${why}`,
      hint: 'a server must start again on the same port after it stopped: set SO_REUSEADDR on the listening socket, and read its stderr below.',
    });
  }

  /** The names of the role accounts: alice, bob and (when there are three) carol. */
  get a(): Account {
    return this.accounts[0] as Account;
  }
  get b(): Account {
    return this.accounts[1] as Account;
  }
  get c(): Account | undefined {
    return this.accounts[2];
  }

  /** Whether the server's `hello` advertised this extension in `features`. */
  advertises(feature: Feature): boolean {
    return this.features.has(feature);
  }

  /** Logged-in probes other than `except`. */
  others(except: Probe): Probe[] {
    return [this.alice, this.bob, this.carol].filter((p): p is Probe => p !== undefined && p !== except && !p.finished);
  }

  /** The users who stay logged in to the end (alice, and carol when there are three accounts). */
  stayers(): Probe[] {
    return [this.alice, this.carol].filter((p): p is Probe => p !== undefined);
  }

  /** Opens a new connection, failing the check with a clear message if it cannot. */
  async open(name: string): Promise<Probe> {
    this.connections++;
    try {
      const probe = await Probe.connect({ host: this.host, port: this.port, name, transcript: this.transcript, timeoutMs: this.timeouts.answerMs });
      this.probes.push(probe);
      return probe;
    } catch (error) {
      const exit = await this.serverExit();
      if (exit) fail({ summary: `the server process ${exit} before connection #${this.connections} could be opened`, hint: HINTS.serverExited });
      const code = (error as NodeJS.ErrnoException).code;
      fail({
        summary:
          code === 'ETIMEDOUT'
            ? `no answer within ${seconds(this.timeouts.answerMs)}: connection #${this.connections} was not accepted`
            : `connection #${this.connections} to ${this.host}:${this.port} failed: ${code === 'ECONNREFUSED' ? 'connection refused' : (error as Error).message}`,
        hint: 'keep listening for new connections for as long as the server runs (accept in a loop).',
        ...(code === 'ETIMEDOUT' ? { timeoutSeconds: this.timeouts.answerMs / 1000 } : {}),
      });
    }
  }

  /** Opens a connection and waits for its `hello` (already checked in detail at step 3). */
  async openWithHello(name: string): Promise<Probe> {
    const probe = await this.open(name);
    await this.expect(probe, (r) => r.frame?.type === 'hello', `a hello on ${name}'s connection`, this.timeouts.answerMs, {
      timeout: 'send {"type":"hello","protocol":"chatlab/1"} first on every connection.',
    });
    return probe;
  }

  /** "exited with code 1" when the server process has exited (waiting a moment for the news), else null. */
  async serverExit(): Promise<string | null> {
    return this.supervisor ? this.supervisor.exitDescription(250) : null;
  }

  /**
   * Waits for the first unconsumed frame that `match` accepts (bad lines always match, so a
   * broken frame is reported where it happens) and fails the check with a precise diagnosis if
   * the wait ends otherwise.
   */
  async expect(probe: Probe, match: (received: Received) => boolean, what: string, timeoutMs: number, hints: WaitHints): Promise<Received> {
    const wait = await probe.next((r) => r.frame === undefined || match(r), timeoutMs, { what });
    if (wait.kind === 'frame' && wait.received.frame) return wait.received;
    fail(await this.explainWait(probe, wait, what, timeoutMs, hints));
  }

  /** Turns a wait that did not bring the frame wanted into a failure report. */
  async explainWait(probe: Probe, wait: Wait, what: string, timeoutMs: number, hints: WaitHints): Promise<FailureReport> {
    if (wait.kind === 'frame') {
      const { received } = wait;
      return {
        summary: `${probe.name} received a line that is not a chatlab/1 frame (${received.problem?.message ?? 'unreadable'})`,
        expected: `${what}: one JSON object with a "type", then \\n`,
        received: showBytes(received.raw),
        hint: received.problem?.code === 'frame_too_large' ? 'a frame is at most 65,536 bytes, newline included.' : HINTS.jsonLine,
        culprit: received.seq,
      };
    }
    if (wait.kind === 'closed') {
      const exit = await this.serverExit();
      if (exit) return { summary: `the server process ${exit} before ${what}`, hint: HINTS.serverExited };
      return {
        summary: `the server closed ${probe.name}'s connection before ${what}${probe.error ? ` (${probe.error})` : ''}`,
        hint: hints.close ?? hints.timeout,
        culprit: this.transcript.events.find((e) => e.conn === probe.name && e.kind === 'close' && e.by === 'peer')?.seq,
      };
    }
    const pending = probe.pendingBytes;
    if (pending.length > 0) {
      return {
        summary: `no complete frame within ${seconds(timeoutMs)}: ${probe.name} received ${pending.length} bytes without the final \\n`,
        expected: 'a frame ending with <LF>',
        received: `${showBytes(pending)}   (no <LF> yet)`,
        hint: HINTS.newline,
        timeoutSeconds: timeoutMs / 1000,
      };
    }
    const exit = await this.serverExit();
    if (exit) return { summary: `the server process ${exit} before ${what}`, hint: HINTS.serverExited };
    return { summary: `no answer within ${seconds(timeoutMs)}: waited for ${what}`, hint: hints.timeout, timeoutSeconds: timeoutMs / 1000 };
  }

  /**
   * How long to wait for the effect of a client's move at `step` (login, say, quit): a run that
   * stops at that step only needs the move read, not answered, so it waits briefly.
   */
  moveWaitMs(step: StepNumber): number {
    return this.through > step ? this.timeouts.answerMs : this.timeouts.quietMs;
  }

  /** Waits {@link moveWaitMs} for the answer to a move at `step`; {@link finishWait} lets the next step wait for the rest. */
  async beginWait(probe: Probe, step: StepNumber, match: (received: Received) => boolean, what?: string): Promise<TimedWait> {
    const waitedMs = this.moveWaitMs(step);
    return { wait: await probe.next(match, waitedMs, what ? { what } : {}), waitedMs };
  }

  /** Finishes a {@link beginWait} (none yet counts as nothing seen): if it ran out early, waits for the rest of `answerMs`. */
  async finishWait(probe: Probe, begun: TimedWait | undefined, match: (received: Received) => boolean, what?: string): Promise<TimedWait> {
    const { wait, waitedMs } = begun ?? { wait: { kind: 'timeout' }, waitedMs: 0 };
    if (wait.kind !== 'timeout' || waitedMs >= this.timeouts.answerMs) return { wait, waitedMs };
    return { wait: await probe.next(match, this.timeouts.answerMs - waitedMs, what ? { what } : {}), waitedMs: this.timeouts.answerMs };
  }

  /** Fails unless the frame passes the chatlab/1 field checks for its type. */
  requireValid(probe: Probe, received: Received, hint: string): RawFrame {
    const frame = received.frame as RawFrame;
    const validation = validateServerFrame(frame);
    if (!validation.ok) {
      fail({
        summary: `${probe.name} received a "${frame.type}" frame that breaks chatlab/1: ${validation.message}`,
        received: showBytes(received.raw),
        hint,
        culprit: received.seq,
      });
    }
    return frame;
  }

  /** Closes every connection still open (end of run). */
  closeAll(): void {
    for (const probe of this.probes) probe.dispose();
  }
}

/** Matches a frame of one of the given types, or an `error` (which is always an answer). */
export function answerOf(...types: string[]): (received: Received) => boolean {
  return (received) => received.frame !== undefined && (types.includes(received.frame.type) || received.frame.type === 'error');
}

/** The `code` of an error frame, or null for any other frame. */
export function errorCode(received: Received): string | null {
  return received.frame?.type === 'error' ? String(received.frame.code) : null;
}

/** A frame as compact JSON (for "expected" lines). */
export function json(frame: RawFrame): string {
  return JSON.stringify(frame);
}
