import type { ByteDiff } from './bytes.ts';

/** Everything a learner needs to act on one failed check. JSON-friendly (no Buffers). */
export interface FailureReport {
  /** One sentence: what went wrong. */
  summary: string;
  /** What the verifier expected (a sentence, or the frame it wanted). */
  expected?: string;
  /** What arrived instead, bytes shown exactly (see showBytes). */
  received?: string;
  /** A byte-by-byte comparison, the first differing byte marked. */
  diff?: ByteDiff;
  /** What to change, specific to this failure. */
  hint: string;
  /** Set when the failure is a wait that ran out ("no answer within N s"). */
  timeoutSeconds?: number;
  /** Transcript sequence number of the frame or event at fault, marked in the diagram. */
  culprit?: number;
}

/** Thrown by a check to fail it; the runner turns it into the check's result. */
export class CheckFailure extends Error {
  constructor(readonly report: FailureReport) {
    super(report.summary);
    this.name = 'CheckFailure';
  }
}

/** Fails the current check. */
export function fail(report: FailureReport): never {
  throw new CheckFailure(report);
}

/** "2 s", "1.5 s": a timeout as a learner reads it. */
export function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** Joins sentences, capitalising the first letter of each. */
export function sentence(...parts: string[]): string {
  return parts
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join(' ');
}

/** Hints shared by several checks (and quoted in docs/verifier.md). */
export const HINTS = {
  oneReadOneFrame: 'one read is not one frame: buffer until \\n. Append every read to a byte buffer, cut it at each \\n, and handle each complete line; keep the rest for the next read.',
  severalFramesPerRead: 'one read can hold several frames: split the buffer on every \\n and handle each complete line, not just the first one.',
  utf8Split: 'a read can end in the middle of a multi-byte UTF-8 character: keep raw bytes in the buffer and decode a line only once its \\n has arrived, never read by read.',
  newline: 'end every frame with \\n: one JSON object per line (JSON.stringify(frame) + "\\n" / json.dumps(frame) + "\\n").',
  jsonLine: 'send one JSON object per line, nothing else on the line: JSON.stringify(frame) + "\\n" in JS, json.dumps(frame) + "\\n" in Python.',
  serverExited: 'your server stopped: read its stderr below for the error. A problem with one connection must never stop the whole server.',
  survivesReset:
    "a client that resets its connection makes every read and write on that socket fail (ECONNRESET): handle that on each connection and carry on. In Node, listen for errors on every socket, socket.on('error', …): an 'error' event nobody listens to stops the whole server. In Python, catch ConnectionResetError (an OSError) around recv() and send() and close that socket.",
  handlerDied:
    'if nothing comes back at all, the code serving this connection probably raised an exception and stopped, leaving the socket open with nobody reading it: catch errors per connection (try/except around the handling of each line, and close the socket in a finally) so one bad frame gets its error and the loop goes on.',
} as const;
