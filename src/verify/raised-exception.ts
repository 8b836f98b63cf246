/**
 * Finds the exception a program printed on stderr, as one line. A Python server with a thread
 * per connection does not stop when one handler raises: Python prints the traceback and the
 * process carries on, so the verifier sees only a closed (or silent) connection. Naming the
 * exception next to that failure says what happened, as "the server exited with code 1" does
 * for a server that dies.
 */
import type { FailureReport } from './failure.ts';
import type { OutputLine, Supervisor } from './supervisor.ts';

/** An exception line: `KeyError: 'type'`, `json.decoder.JSONDecodeError: …`, `TypeError: …`. */
const EXCEPTION_LINE = /^(?:[A-Za-z_][\w$]*\.)*[A-Za-z_][\w$]*(?:Error|Exception)(?::\s.*)?$/;
/** Java's report of a thread that died: `Exception in thread "Thread-3" java.lang.NullPointerException: …`. */
const JAVA_THREAD_DIED = /^Exception in thread "[^"]*" (.+)$/;
/** An exception line is shown up to this many characters. */
const MAX_CHARS = 160;

/**
 * The last exception printed on stderr among `lines` (Python's last traceback line, a Java
 * thread's death, a logged JavaScript error), or null when there is none. Indented lines (the
 * frames of a traceback or a stack) are never taken for the exception itself.
 */
export function lastRaisedException(lines: readonly OutputLine[]): string | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] as OutputLine;
    if (line.stream !== 'stderr') continue;
    const text = line.text.trimEnd();
    const found = JAVA_THREAD_DIED.exec(text)?.[1] ?? (EXCEPTION_LINE.test(text) ? text : null);
    if (found) return found.length > MAX_CHARS ? `${found.slice(0, MAX_CHARS - 1)}…` : found;
  }
  return null;
}

/**
 * Adds to a failure the exception the server printed on stderr since output line `mark` (the
 * start of the failed check), when the server is still running: one that exited is already
 * reported as such, with its output.
 */
export function noteRaisedException(failure: FailureReport, supervisor: Supervisor | undefined, mark: number): FailureReport {
  if (!supervisor || supervisor.exit) return failure;
  const raised = lastRaisedException(supervisor.linesSince(mark));
  return raised ? { ...failure, summary: `${failure.summary}; meanwhile your server printed ${raised} on stderr (see its output below)` } : failure;
}
