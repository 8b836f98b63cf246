/**
 * `chatlab verify` as a program: its text output, its exit codes and argument errors, the
 * guarantee that nothing it started survives it (not even a child that ignores SIGTERM, not even
 * on Ctrl-C), and its bounded waits.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { verifyServer } from '../src/verify/index.ts';
import { freePort } from '../src/verify/supervisor.ts';
import { TEST_TIMEOUTS } from '../test-support/verify-runs.ts';

const CHATLAB = fileURLToPath(new URL('../bin/chatlab.js', import.meta.url));
const server = (file: string): string => fileURLToPath(new URL(`./fixtures/servers/py/${file}`, import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'chatlab-verify-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Whether a process is gone (a zombie waiting for its parent counts as gone). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Polls until `pid` is gone; fails after `timeoutMs` with a clear message. */
async function expectGone(pid: number, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!gone(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} is still running ${timeoutMs} ms after the verifier returned`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts the chatlab CLI; `done` resolves with its exit code and output. */
function startCli(args: string[]) {
  const child = spawn(process.execPath, [CHATLAB, ...args], { env: { ...process.env, NO_COLOR: '1' } });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (out.stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (out.stderr += chunk.toString('utf8')));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, ...out })));
  return { child, out, done };
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('chatlab verify, the program', () => {
  test.concurrent('prints one line per check, then the diagnosis of the failure, and exits 1', async () => {
    const { code, stdout } = await startCli(['verify', '--timeout', '2', '--', 'python3', server('echo_to_sender.py')]).done;
    expect(code).toBe(1);
    expect(stdout).toMatch(/^chatlab verify: python3 .*echo_to_sender\.py on 127\.0\.0\.1:\d+ \(steps 1–10 \+ extensions 11–17; Ctrl-C to stop\)$/m);
    expect(stdout).toContain(' ✓  1 listen ');
    expect(stdout).toContain(' ✗  7 relay              the sender gets no copy of its own message');
    expect(stdout).toContain('hint: relay to every logged-in user except the sender');
    expect(stdout).toContain('frames so far:');
    // The inspector's picture: the copy alice got back, drawn server → alice, marked at the end of its row.
    expect(stdout).toMatch(/^ +\+\d+\.\d{3}s \[7\] .*▶│.* v\w+_a: "hello from the verifier[^\n]* ✗$/m);
    expect(stdout).toMatch(/\[server stdout\] listening on 127\.0\.0\.1:\d+/);
    expect(stdout).toMatch(/Stopped at step 7 \(relay\): \d+ passed, 1 failed, \d+ not run/);
  });

  test.concurrent('shows the exact bytes and marks the first differing one', async () => {
    const { code, stdout } = await startCli(['verify', '--timeout', '2', '--through', '3', '--', 'python3', '-c', HELLO_TYPO]).done;
    expect(code).toBe(1);
    expect(stdout).toContain('hello announces protocol "chatlab/1.0" instead of "chatlab/1"');
    expect(stdout).toContain('received  {"type": "hello", "protocol": "chatlab/1.0"}<LF>');
    expect(stdout).toMatch(/expected {2}chatlab\/1\n\s+received {2}chatlab\/1\.0\n\s+ {9}\^ first differing byte: byte 9/);
    expect(stdout).toContain('received … 74 6c 61 62 2f 31 [2e] 30');
  });

  test.concurrent('argument mistakes get one clear line and exit 1', async () => {
    const none = await startCli(['verify']).done;
    expect(none.code).toBe(1);
    expect(none.stderr.trim()).toBe('chatlab: give the command that starts your server after --, or --target host:port: chatlab verify -- python3 server.py');
    const step = await startCli(['verify', '--through', '18', '--', 'true']).done;
    expect(step.code).toBe(1);
    expect(step.stderr).toContain('"18" is not a step: steps go from 1 to 10, then the extension groups 11 to 17.');
    expect(step.stderr).not.toContain('    at ');
    const group = await startCli(['verify', '--only', 'rooms,chess', '--', 'true']).done;
    expect(group.code).toBe(1);
    expect(group.stderr).toContain('"rooms,chess" is not a list of extension groups: choose from register, who, ping, private, rooms, history, files');
    const client = await startCli(['verify', '--client', '--through', '11', '--', 'true']).done;
    expect(client.code).toBe(1);
    expect(client.stderr.trim()).toBe('chatlab: the client checks go from step 1 to 10: give --through 10 or less with --client.');
  });

  test.concurrent('nothing it started survives: a server ignoring SIGTERM, and its child', async () => {
    const report = await verifyServer({ command: ['python3', server('ignores_sigterm.py')], through: 3, timeouts: TEST_TIMEOUTS });
    expect(report.passed).toBe(true);
    const child = Number(/child pid (\d+)/.exec(report.process!.output.map((l) => l.text).join('\n'))?.[1]);
    expect(child).toBeGreaterThan(0);
    await expectGone(report.process!.pid!);
    await expectGone(child);
  });

  (process.platform === 'linux' ? test.concurrent : test.skip)('nothing it started survives: children that left its process group with setsid(), one of them orphaned', async () => {
    const report = await verifyServer({ command: ['python3', server('escapes_with_setsid.py')], through: 3, timeouts: TEST_TIMEOUTS });
    expect(report.passed).toBe(true);
    const printed = report.process!.output.map((l) => l.text).join('\n');
    const child = Number(/setsid child pid (\d+)/.exec(printed)?.[1]);
    const daemon = Number(/daemon pid (\d+)/.exec(printed)?.[1]);
    expect(child).toBeGreaterThan(0);
    expect(daemon).toBeGreaterThan(0);
    await expectGone(report.process!.pid!);
    await expectGone(child);
    await expectGone(daemon);
  });

  test.concurrent('nothing it started survives a failed run either (a background child of a shell command)', async () => {
    const report = await verifyServer({
      command: ['sh', '-c', `sleep 300 & echo "child pid $!"; exec python3 '${server('no_hello.py')}'`],
      through: 3,
      timeouts: { ...TEST_TIMEOUTS, answerMs: 500 },
    });
    expect(report.failedStep).toBe(3);
    const child = Number(/child pid (\d+)/.exec(report.process!.output.map((l) => l.text).join('\n'))?.[1]);
    await expectGone(child);
    await expectGone(report.process!.pid!);
  });

  test.concurrent('Ctrl-C stops the verifier and the server it started', async () => {
    const pidFile = join(scratch, 'server.pid');
    const run = startCli(['verify', '--timeout', '60', '--', 'sh', '-c', `echo $$ > '${pidFile}'; exec python3 '${server('no_hello.py')}'`]);
    await until(() => run.out.stdout.includes('2 connect') && existsSync(pidFile), 'the verifier to reach step 3');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(gone(pid)).toBe(false);
    run.child.kill('SIGINT');
    const { code, stderr } = await run.done;
    expect(code).toBe(130);
    expect(stderr).toContain('interrupted; stopped what it started');
    await expectGone(pid);
  });

  test.concurrent('waits are bounded and say so: "no answer within N s"', async () => {
    const report = await verifyServer({ command: ['python3', server('no_hello.py')], through: 3, timeouts: { ...TEST_TIMEOUTS, answerMs: 700 } });
    const failure = report.checks.find((c) => c.status === 'failed')?.failure;
    expect(failure?.summary).toBe('no answer within 0.7 s: waited for a hello on a new connection');
    expect(failure?.timeoutSeconds).toBe(0.7);
    expect(report.durationMs).toBeLessThan(8_000);
  });

  test.concurrent('--target with nothing listening fails step 1 within the start timeout', async () => {
    const port = await freePort();
    const report = await verifyServer({ target: { host: '127.0.0.1', port }, timeouts: { ...TEST_TIMEOUTS, startMs: 600 } });
    const failure = report.checks.find((c) => c.status === 'failed')?.failure;
    expect(report.failedStep).toBe(1);
    expect(failure?.summary).toBe(`no answer within 0.6 s: nothing accepts connections on 127.0.0.1:${port} (connection refused)`);
  });

  test.concurrent('a command that cannot start fails step 1 with a clear message', async () => {
    const report = await verifyServer({ command: ['/nonexistent/chat-server'], timeouts: TEST_TIMEOUTS });
    expect(report.checks[0]?.failure?.summary).toBe('the command could not be started: command not found: /nonexistent/chat-server');
  });
});

/** A server that gets hello almost right: protocol "chatlab/1.0". */
const HELLO_TYPO = `
import json, os, socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(os.environ["PORT"]))); s.listen()
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
    c.sendall((json.dumps({"type": "hello", "protocol": "chatlab/1.0"}) + "\\n").encode())
`;
