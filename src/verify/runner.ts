import { STEPS, type StepNumber } from '../protocol/index.ts';
import { CheckFailure, seconds, type FailureReport } from './failure.ts';
import type { CheckResult } from './types.ts';

/** One check of the catalogue: belongs to a step, runs against a shared context. */
export interface Check<C> {
  id: string;
  step: StepNumber;
  title: string;
  /** Throws CheckFailure to fail; may return a short detail shown next to the ✓. */
  run(ctx: C): Promise<string | void>;
}

/** Name of a step ("relay"). */
export function stepName(step: StepNumber): string {
  return STEPS[step - 1]?.name ?? String(step);
}

/** Clamps any number to a step number 1..10. */
export function toStep(value: number | undefined): StepNumber {
  const n = Math.round(value ?? 10);
  return Math.min(10, Math.max(1, Number.isFinite(n) ? n : 10)) as StepNumber;
}

/**
 * Runs the checks of steps 1..through in catalogue order and stops at the first failure; the
 * checks left are reported as skipped. Each check is also bounded by `guardMs` as a safety net
 * (every wait inside a check has its own, shorter, timeout).
 */
export async function runChecks<C>(
  checks: readonly Check<C>[],
  ctx: C,
  options: { through: StepNumber; guardMs: number; onCheck?: (result: CheckResult) => void; explain?: (failure: FailureReport) => FailureReport },
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  let failed = false;
  for (const check of checks.filter((c) => c.step <= options.through)) {
    const base = { id: check.id, step: check.step, stepName: stepName(check.step), title: check.title };
    if (failed) {
      results.push({ ...base, status: 'skipped', durationMs: 0 });
      continue;
    }
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
