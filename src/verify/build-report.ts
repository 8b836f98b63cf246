import type { VerifyStep } from './steps.ts';
import type { Supervisor } from './supervisor.ts';
import type { Transcript } from './transcript.ts';
import type { CheckResult, VerifyReport } from './types.ts';

/** Assembles the final report of a run from its parts. */
export function buildReport(parts: {
  mode: 'server' | 'client';
  through: VerifyStep;
  address: { host: string; port: number };
  checks: CheckResult[];
  transcript: Transcript;
  supervisor: Supervisor | undefined;
  exitedEarly: boolean;
  started: number;
  accounts?: VerifyReport['accounts'] | undefined;
  registered?: string[] | undefined;
  extensions?: VerifyReport['extensions'] | undefined;
  only?: string[] | undefined;
}): VerifyReport {
  const { checks, supervisor } = parts;
  const failed = checks.find((c) => c.status === 'failed');
  const count = (status: CheckResult['status']): number => checks.filter((c) => c.status === status).length;
  const outputCut = supervisor?.outputCut;
  const omitted = parts.transcript.omitted;
  return {
    mode: parts.mode,
    passed: !failed && checks.length > 0,
    through: parts.through,
    ...(parts.only ? { only: parts.only } : {}),
    address: parts.address,
    checks,
    ...(failed ? { failedStep: failed.step } : {}),
    counts: { passed: count('passed'), failed: count('failed'), skipped: count('skipped'), ...(count('not_run') ? { notRun: count('not_run') } : {}) },
    ...(parts.accounts ? { accounts: parts.accounts } : {}),
    ...(parts.registered?.length ? { registered: parts.registered } : {}),
    ...(parts.extensions ? { extensions: parts.extensions } : {}),
    ...(supervisor
      ? {
          process: {
            command: supervisor.command,
            ...(supervisor.pid !== undefined ? { pid: supervisor.pid } : {}),
            exitCode: supervisor.exit?.code ?? null,
            signal: supervisor.exit?.signal ?? null,
            exitedEarly: parts.exitedEarly,
            ...(supervisor.exit?.spawnError ? { spawnError: supervisor.exit.spawnError } : {}),
            output: supervisor.output,
            ...(outputCut && (outputCut.lines > 0 || outputCut.chars > 0) ? { outputCut } : {}),
          },
        }
      : {}),
    transcript: parts.transcript.toJSON(),
    ...(omitted.events > 0 ? { transcriptOmitted: omitted } : {}),
    durationMs: Math.round(performance.now() - parts.started),
  };
}
