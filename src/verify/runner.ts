import type { StepNumber } from '../protocol/index.ts';
import { CheckFailure, seconds, type FailureReport } from './failure.ts';
import { stepName, type VerifyStep } from './steps.ts';
import type { CheckResult } from './types.ts';

/** One check of the catalogue: belongs to a step, runs against a shared context. */
export interface Check<C> {
  id: string;
  step: VerifyStep;
  title: string;
  /** Throws CheckFailure to fail; may return a short detail shown next to the ✓. */
  run(ctx: C): Promise<string | void>;
}

export { stepName };

/** Clamps any number to a step number 1..10. */
export function toStep(value: number | undefined): StepNumber {
  return toStepWithin(value, 10) as StepNumber;
}

/** Clamps any number to a step number 1..last (default: last). */
export function toStepWithin(value: number | undefined, last: VerifyStep): VerifyStep {
  const n = Math.round(value ?? last);
  return Math.min(last, Math.max(1, Number.isFinite(n) ? n : last)) as VerifyStep;
}

/**
 * Runs the checks of steps 1..through in catalogue order and stops at the first failure; the
 * checks left are reported as skipped. A check for which `notRun` gives a reason (an extension
 * the server does not advertise) is reported as `not_run` with that reason, and never fails. Each check is also bounded by `guardMs` as a safety net
 * (every wait inside a check has its own, shorter, timeout).
 */
export async function runChecks<C>(
  checks: readonly Check<C>[],
  ctx: C,
  options: {
    through: VerifyStep;
    guardMs: number;
    onCheck?: (result: CheckResult) => void;
    explain?: (failure: FailureReport) => FailureReport;
    /** Called just before each check runs (not for skipped or not-run ones). */
    beforeCheck?: (check: Check<C>) => void;
    /** Which checks to consider at all (default: every one up to `through`). */
    selected?: (check: Check<C>) => boolean;
    /** Why a check is not run (asked just before it would run), or undefined to run it. */
    notRun?: (check: Check<C>, ctx: C) => string | undefined;
  },
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  let failed = false;
  for (const check of checks.filter((c) => c.step <= options.through && (options.selected?.(c) ?? true))) {
    const base = { id: check.id, step: check.step, stepName: stepName(check.step), title: check.title };
    if (failed) {
      results.push({ ...base, status: 'skipped', durationMs: 0 });
      continue;
    }
    const reason = options.notRun?.(check, ctx);
    if (reason !== undefined) {
      const result: CheckResult = { ...base, status: 'not_run', durationMs: 0, detail: reason };
      results.push(result);
      options.onCheck?.(result);
      continue;
    }
    options.beforeCheck?.(check);
    const started = performance.now();
    let result: CheckResult;
    try {
      const detail = await guard(check.run(ctx), options.guardMs);
      result = { ...base, status: 'passed', durationMs: elapsed(started), ...(detail ? { detail } : {}) };
    } catch (error) {
      const report =
        error instanceof CheckFailure
          ? error.report
          : {
              summary: `the verifier itself failed: ${error instanceof Error ? error.message : String(error)}`,
              hint: 'this is a bug in chatlab verify, not in your program: please report it with the output above.',
            };
      result = { ...base, status: 'failed', durationMs: elapsed(started), failure: options.explain ? options.explain(report) : report };
      failed = true;
    }
    results.push(result);
    options.onCheck?.(result);
  }
  return results;
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

async function guard<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new CheckFailure({
            summary: `no answer within ${seconds(ms)}: the check did not finish in time`,
            hint: 'the server stopped answering; look at the last frames below.',
            timeoutSeconds: ms / 1000,
          }),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
