import type { VerifyReport } from '../types.ts';

/** The `--json` output: the report itself, pretty-printed, one object per run. */
export function renderJson(report: VerifyReport): string {
  return JSON.stringify(report, null, 2);
}
