import net from 'node:net';
import { buildReport } from '../build-report.ts';
import { nonce } from '../nonce.ts';
import { runChecks, toStep } from '../runner.ts';
import { Supervisor } from '../supervisor.ts';
import { Transcript } from '../transcript.ts';
import { DEFAULT_TIMEOUTS, type CheckResult, type VerifyClientOptions, type VerifyReport } from '../types.ts';
import { CLIENT_CHECKS } from './checks.ts';
import { ClientContext } from './context.ts';

function listen(host: string, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ allowHalfOpen: true });
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve(server);
    });
  });
}

/**
 * Verifies a chatlab/1 client: the verifier listens and plays the server, starts `command`
 * with HOST, PORT, CHATLAB_USER and CHATLAB_PASSWORD in its environment, drives it through
 * stdin and checks its frames and its stdout, step by step.
 */
export async function verifyClient(options: VerifyClientOptions): Promise<VerifyReport> {
  const started = performance.now();
  const through = toStep(options.through);
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const host = options.host ?? '127.0.0.1';
  const listener = await listen(host, options.port ?? 0);
  const port = (listener.address() as net.AddressInfo).port;
  const account = options.user ?? { user: `ada_${Math.random().toString(36).slice(2, 6)}`, password: `pw-${Math.random().toString(36).slice(2, 10)}` };
  const transcript = new Transcript();
  const texts = {
    stdin: `héllo 👋 from stdin ${nonce()}`,
    afterEmpty: `after an empty line ${nonce()}`,
    incoming: `hi 👋 世界 ${nonce()}`,
    multiline: `first line ${nonce()}\nsecond line ${nonce()}`,
  };
  options.onStart?.({ host, port, command: options.command });
  const supervisor = new Supervisor(options.command, {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: { ...options.env, HOST: host, PORT: String(port), CHATLAB_USER: account.user, CHATLAB_PASSWORD: account.password },
    onLine: (line) => {
      if (line.stream === 'stdout') transcript.add({ conn: 'client', kind: 'stdout', text: line.text });
    },
  });
  // Built in the same tick as the spawn: its 'connection' listener is in place before the client can connect.
  const ctx = new ClientContext(host, port, through, timeouts, transcript, listener, account, texts, supervisor);
  let checks: CheckResult[];
  let exitedEarly: boolean;
  try {
    checks = await runChecks(CLIENT_CHECKS, ctx, {
      through,
      guardMs: timeouts.startMs + 3 * timeouts.answerMs + 2 * timeouts.quietMs,
      ...(options.onCheck ? { onCheck: options.onCheck } : {}),
    });
    // In this mode the client exiting by itself after bye is the goal, not an accident.
    exitedEarly = supervisor.exit !== null && checks.some((c) => c.status === 'failed');
  } finally {
    ctx.client?.dispose();
    await supervisor.stop();
    await new Promise((resolve) => listener.close(resolve));
  }
  return buildReport({ mode: 'client', through, address: { host, port }, checks, transcript, supervisor, exitedEarly, started });
}
