/**
 * What the verifier's end-to-end suites share: short waits that keep them fast, and a one-line
 * account of a report to show when an assertion on it fails.
 */
import type { Timeouts, VerifyReport } from '../src/verify/index.ts';

/** Short waits keep the suites fast; an answer is awaited 5 s, which only a broken server spends in full (a correct Python server on a machine running the whole suite took over 2 s). */
export const TEST_TIMEOUTS: Timeouts = { answerMs: 5_000, quietMs: 150, startMs: 10_000 };

/** The failed check, its summary and hint (or "all passed"): the message of a failing `expect`. */
export function failureSummary(report: VerifyReport): string {
  const failed = report.checks.find((c) => c.status === 'failed');
  return failed ? `${failed.id}: ${failed.failure?.summary}\n  hint: ${failed.failure?.hint}` : 'all passed';
}
