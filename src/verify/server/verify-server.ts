import type { Check } from '../runner.ts';
import { runChecks, toStepWithin } from '../runner.ts';
import { EXTENSION_STEPS, LAST_STEP, featureOf } from '../steps.ts';
import { Supervisor, freePort, waitForPort, type PortWait } from '../supervisor.ts';
import { Transcript } from '../transcript.ts';
import { DEFAULT_TIMEOUTS, type CheckResult, type VerifyReport, type VerifyServerOptions } from '../types.ts';
import { buildReport } from '../build-report.ts';
import { noteRaisedException } from '../raised-exception.ts';
import { connectChecks } from './checks-connect.ts';
import { leaveChecks } from './checks-leave.ts';
import { loginChecks } from './checks-login.ts';
import { relayChecks } from './checks-relay.ts';
import { routingChecks } from './checks-routing.ts';
import { ServerContext } from './context.ts';
import { errorChecks } from './checks-errors.ts';
import { robustnessChecks } from './checks-robustness.ts';
import { rateChecks } from './checks-rate.ts';
import { extensionChecks } from './checks-extensions.ts';

/**
 * Every server check, in the order they run (steps 1 → 10, then the extension groups 11 → 17).
 * The error and robustness checks of a step run after its other checks (a stable sort by step),
 * so a learner meets each rule after the happy path of the step that teaches it.
 */
export const SERVER_CHECKS: readonly Check<ServerContext>[] = [
  ...connectChecks,
  ...loginChecks,
  ...relayChecks,
  ...routingChecks,
  ...leaveChecks,
  ...errorChecks,
  ...robustnessChecks,
  ...rateChecks,
  ...extensionChecks,
].sort((a, b) => a.step - b.step);

/** Fails with a clear message unless every name is an extension group. */
export function checkGroupNames(names: readonly string[]): void {
  const known = EXTENSION_STEPS.map((s) => s.feature as string);
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length) throw new Error(`unknown extension group ${unknown.map((n) => `"${n}"`).join(', ')}: the groups are ${known.join(', ')}`);
}

/** Ports the verifier tries when the one it picked is taken before the server binds it. */
const PORT_ATTEMPTS = 3;

/** Whether the server stopped because its port was already in use. */
function lostPortRace(supervisor: Supervisor): boolean {
  return supervisor.output.some((line) => line.stream === 'stderr' && /EADDRINUSE|address already in use/i.test(line.text));
}

/**
 * Verifies a chatlab/1 server, step by step: starts `command` (with PORT and HOST in its
 * environment) or connects to `target`, runs the checks of steps 1..through (then of the
 * extension groups `only` names, or all), stops at the first failure, and always stops what it
 * started. An extension group whose feature `hello` does not list is reported as not run.
 */
export async function verifyServer(options: VerifyServerOptions): Promise<VerifyReport> {
  const started = performance.now();
  if (options.only) checkGroupNames(options.only);
  const through = toStepWithin(options.through, LAST_STEP);
  const only = options.only;
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const transcript = new Transcript();
  let host: string;
  let port: number;
  let supervisor: Supervisor | undefined;
  let startCommand: (() => Supervisor) | undefined;
  let startWait: PortWait | undefined;
  if (options.target) {
    ({ host, port } = options.target);
    options.onStart?.({ host, port });
  } else if (options.command?.length) {
    host = options.host ?? '127.0.0.1';
    // A port the verifier picked can be taken by another program between the pick and the
    // server's bind: then the server exits with "address in use", and another free port is tried.
    for (let attempt = 1; ; attempt++) {
      const chosen = options.port ?? (await freePort(host));
      const command = options.command.map((arg) => arg.replaceAll('{port}', String(chosen)).replaceAll('{host}', host));
      options.onStart?.({ host, port: chosen, command });
      startCommand = () => new Supervisor(command, { ...(options.cwd ? { cwd: options.cwd } : {}), env: { ...options.env, PORT: String(chosen), HOST: host } });
      port = chosen;
      supervisor = startCommand();
      if (options.port !== undefined) break;
      startWait = await waitForPort(host, port, timeouts.startMs, supervisor);
      if (attempt === PORT_ATTEMPTS || startWait.kind !== 'exited' || !lostPortRace(supervisor)) break;
    }
  } else {
    throw new Error('verifyServer needs a command to start the server, or a target address');
  }
  // The server's output line count when the running check began: its failure names an exception printed since.
  let outputMark = 0;
  const ctx = new ServerContext(host, port, through, timeouts, transcript, supervisor, options.users ?? []);
  ctx.startWait = startWait;
  if (startCommand) {
    const start = startCommand;
    // The history check restarts the server: the report then shows the new process.
    ctx.restarter = async () => {
      await supervisor?.stop();
      supervisor = start();
      outputMark = 0;
      return supervisor;
    };
  }
  let checks: CheckResult[];
  let exitedEarly: boolean;
  try {
    checks = await runChecks(SERVER_CHECKS, ctx, {
      through,
      guardMs: timeouts.startMs + 5 * timeouts.answerMs + 4 * timeouts.quietMs,
      selected: (check) => {
        const feature = featureOf(check.step);
        return feature === undefined || only === undefined || only.includes(feature);
      },
      notRun: (check, context) => {
        const feature = featureOf(check.step);
        return feature && !context.advertises(feature) ? `not advertised: "${feature}" is not in hello.features` : undefined;
      },
      beforeCheck: () => {
        outputMark = supervisor?.lineCount ?? 0;
      },
      explain: (failure) => noteRaisedException(failure, supervisor, outputMark),
      ...(options.onCheck ? { onCheck: options.onCheck } : {}),
    });
    // Read before stopping it, which makes every process exit.
    exitedEarly = supervisor?.exit !== null && supervisor?.exit !== undefined;
  } finally {
    ctx.closeAll();
    await supervisor?.stop();
  }
  return buildReport({
    mode: 'server',
    through,
    address: { host, port },
    checks,
    transcript,
    supervisor,
    exitedEarly,
    started,
    accounts: ctx.accounts.length ? { source: ctx.accountSource, users: ctx.accounts.map((a) => a.user) } : undefined,
    registered: ctx.registered,
    extensions: extensionSummary(checks),
    only,
  });
}

/** Which extension groups were checked and which were not run (not advertised); undefined when none was reached. */
function extensionSummary(checks: readonly CheckResult[]): VerifyReport['extensions'] {
  const groups = (status: (s: CheckResult['status']) => boolean): string[] => [...new Set(checks.filter((c) => featureOf(c.step) !== undefined && status(c.status)).map((c) => c.stepName))];
  const checked = groups((s) => s === 'passed' || s === 'failed');
  const notAdvertised = groups((s) => s === 'not_run');
  return checked.length || notAdvertised.length ? { checked, notAdvertised } : undefined;
}
