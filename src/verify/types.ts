import type { VerifyStep } from './steps.ts';
import type { FailureReport } from './failure.ts';
import type { OutputCut, OutputLine } from './supervisor.ts';
import type { TranscriptEventJson, TranscriptOmitted } from './transcript.ts';

/** How long the verifier waits. Generous by default, short in tests. */
export interface Timeouts {
  /** For each expected answer (a frame, a close, a printed line). */
  answerMs: number;
  /** How long "nothing happens" must last to count as nothing (no echo, connection stays open…). */
  quietMs: number;
  /** For the command to start listening (server mode) or to connect (client mode). */
  startMs: number;
}

/** The defaults: 5 s per answer, 0.3 s of quiet, 10 s to start. */
export const DEFAULT_TIMEOUTS: Timeouts = { answerMs: 5_000, quietMs: 300, startMs: 10_000 };

/** A test account. */
export interface Account {
  user: string;
  password: string;
}

/** The outcome of one check. */
export interface CheckResult {
  /** Stable id, e.g. `7.no-echo`. */
  id: string;
  step: VerifyStep;
  stepName: string;
  title: string;
  /**
   * `skipped`: not run because an earlier check failed. `not_run`: an extension check the
   * server does not advertise in `hello.features` (`detail` says so); never a failure.
   */
  status: 'passed' | 'failed' | 'skipped' | 'not_run';
  durationMs: number;
  /** Extra facts on success (e.g. which accounts were used). */
  detail?: string;
  failure?: FailureReport;
}

/** The command the verifier started, and what became of it. */
export interface ProcessReport {
  command: string[];
  pid?: number;
  exitCode: number | null;
  signal: string | null;
  /** It exited by itself during the run (rather than being stopped by the verifier at the end). */
  exitedEarly: boolean;
  spawnError?: string;
  /** Its last lines of output (see OUTPUT_LIMITS). */
  output: OutputLine[];
  /** Present when earlier output was dropped, or long lines clipped, to keep within the limits. */
  outputCut?: OutputCut;
}

/** The whole result of a run; `--json` prints exactly this. */
export interface VerifyReport {
  mode: 'server' | 'client';
  passed: boolean;
  through: VerifyStep;
  /** Server mode: the extension groups `--only` selected (absent: all). */
  only?: string[];
  /** Server mode: the server's address. Client mode: where the verifier (playing the server) listened. */
  address: { host: string; port: number };
  checks: CheckResult[];
  /** Step of the first failed check. */
  failedStep?: VerifyStep;
  /** `notRun` (extension checks of features the server does not advertise) is present only when > 0. */
  counts: { passed: number; failed: number; skipped: number; notRun?: number };
  /** Server mode: the extension groups checked, and those not run because `hello.features` does not list them. */
  extensions?: { checked: string[]; notAdvertised: string[] };
  /** Server mode: where the test accounts came from. */
  accounts?: { source: 'register' | 'given' | 'none'; users: string[] };
  /**
   * Server mode: every account this run created with `register`, in order (absent: none). chatlab/1
   * cannot delete an account, so they stay on a server that keeps its accounts.
   */
  registered?: string[];
  process?: ProcessReport;
  /** The last events exchanged (see TRANSCRIPT_LIMITS). */
  transcript: TranscriptEventJson[];
  /** Present when earlier events were dropped to keep within the limits. */
  transcriptOmitted?: TranscriptOmitted;
  durationMs: number;
}

/** Options shared by both modes. */
export interface CommonOptions {
  /** Run the checks of steps 1..through (default: 17 for a server, i.e. every extension group; 10 for a client). */
  through?: number;
  timeouts?: Partial<Timeouts>;
  /** Called as each check finishes (for live output). */
  onCheck?: (result: CheckResult) => void;
  /** Called once the address is known, before the first check. */
  onStart?: (info: { host: string; port: number; command?: string[] }) => void;
}

/** Options of {@link verifyServer}. */
export interface VerifyServerOptions extends CommonOptions {
  /** The command that starts the server; `{port}` and `{host}` in its arguments are replaced. */
  command?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** A server that is already running (instead of `command`). */
  target?: { host: string; port: number };
  /** Host to give the command (default 127.0.0.1). */
  host?: string;
  /** Port to give the command (default: a free port). */
  port?: number;
  /** Accounts to log in with when the server has no `register` (or to use instead of it). */
  users?: Account[];
  /** Extension groups to check (feature names, e.g. ["private","rooms"]); default: all. Steps 1–10 always run. */
  only?: string[];
}

/** Options of {@link verifyClient}. */
export interface VerifyClientOptions extends CommonOptions {
  /** The command that starts the client. */
  command: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  host?: string;
  /** Port the verifier listens on (default: a free port). */
  port?: number;
  /** Credentials given to the client in CHATLAB_USER / CHATLAB_PASSWORD (default: random ones). */
  user?: Account;
}
