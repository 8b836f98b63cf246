import { buildReport } from '../build-report.ts';
import { fail } from '../failure.ts';
import { noteRaisedException } from '../raised-exception.ts';
import { runChecks, toStep, type Check } from '../runner.ts';
import { Supervisor, freePort, printedListenPort } from '../supervisor.ts';
import { Transcript } from '../transcript.ts';
import { DEFAULT_TIMEOUTS, type VerifyReport, type VerifyServerOptions } from '../types.ts';
import { UDP_CHECKS } from './checks.ts';
import { DEFAULT_UDP_EXPIRY_MS, UdpContext } from './context.ts';

/** Options of {@link verifyUdpServer}: those of a TCP server run, without the extension groups. */
export interface VerifyUdpServerOptions extends Omit<VerifyServerOptions, 'only'> {
  /** Longest a silent peer may stay online before check 10.udp-expiry fails (default {@link DEFAULT_UDP_EXPIRY_MS}). */
  expiryMs?: number;
}

/** Waits for the started command's "listening on …" line, so the first datagram is not sent into the void. */
function listensCheck(supervisor: Supervisor, startMs: number): Check<UdpContext> {
  return {
    id: '1.udp-listens',
    step: 1,
    title: 'the server prints the address it listens on',
    async run() {
      const line = await supervisor.waitForLine((l) => printedListenPort(l.text) !== null, startMs);
      if (line) return;
      const exit = await supervisor.exitDescription(50);
      fail({
        summary: exit ? `the server ${exit} before listening` : `the server printed no "listening on …" line within ${startMs / 1000} s`,
        hint: 'bind the UDP socket, then print "listening on HOST:PORT" with the port you bound (a datagram sent before the bind is lost without a trace).',
      });
    },
  };
}

/**
 * `chatlab verify --udp`: checks a chatlab/1 server that speaks UDP (one frame per datagram, as
 * in lesson 15), with no loss injected: it answers, logs users in by address, relays to the
 * others but not the sender, lets a user quit, and expires a silent peer. Starts `command` (PORT
 * and HOST in its environment) or talks to `target`; stops at the first failure and always stops
 * what it started. The report has the shape of a TCP run's (mode `server`).
 */
export async function verifyUdpServer(options: VerifyUdpServerOptions): Promise<VerifyReport> {
  const started = performance.now();
  const through = toStep(options.through);
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const transcript = new Transcript();
  let host: string;
  let port: number;
  let supervisor: Supervisor | undefined;
  if (options.target) {
    ({ host, port } = options.target);
    options.onStart?.({ host, port });
  } else if (options.command?.length) {
    host = options.host ?? '127.0.0.1';
    port = options.port ?? (await freePort(host));
    const command = options.command.map((arg) => arg.replaceAll('{port}', String(port)).replaceAll('{host}', host));
    options.onStart?.({ host, port, command });
    supervisor = new Supervisor(command, { ...(options.cwd ? { cwd: options.cwd } : {}), env: { ...options.env, PORT: String(port), HOST: host } });
  } else {
    throw new Error('verifyUdpServer needs a command to start the server, or a target address');
  }
  const ctx = new UdpContext(host, port, timeouts, transcript, supervisor, options.users ?? [], options.expiryMs ?? DEFAULT_UDP_EXPIRY_MS);
  const checks = supervisor ? [listensCheck(supervisor, timeouts.startMs), ...UDP_CHECKS] : UDP_CHECKS;
  let outputMark = 0;
  let results;
  let exitedEarly: boolean;
  try {
    results = await runChecks(checks, ctx, {
      through,
      guardMs: timeouts.startMs + 5 * timeouts.answerMs + ctx.expiryMs,
      beforeCheck: () => {
        outputMark = supervisor?.lineCount ?? 0;
      },
      explain: (failure) => noteRaisedException(failure, supervisor, outputMark),
      ...(options.onCheck ? { onCheck: options.onCheck } : {}),
    });
    exitedEarly = supervisor?.exit !== null && supervisor?.exit !== undefined;
  } finally {
    ctx.closeAll();
    await supervisor?.stop();
  }
  return buildReport({
    mode: 'server',
    through,
    address: { host, port },
    checks: results,
    transcript,
    supervisor,
    exitedEarly,
    started,
    accounts: ctx.accounts.length ? { source: 'given', users: ctx.accounts.map((a) => a.user) } : undefined,
  });
}
