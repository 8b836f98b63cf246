/**
 * `chatlab verify --client`: the verifier plays the server. A correct Python client passes every
 * step; each broken client fails at its step, on the right check, with the right hint.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { verifyClient } from '../src/verify/index.ts';
import { nodeCommand } from '../test-support/test-build.ts';
import { TEST_TIMEOUTS, failureSummary } from '../test-support/verify-runs.ts';

const fixture = (file: string): string => fileURLToPath(new URL(`./fixtures/clients/${file}`, import.meta.url));

function command(file: string): string[] {
  return file.endsWith('.py') ? ['python3', fixture(file)] : nodeCommand(fixture(file));
}

const BROKEN = [
  { file: 'login_before_hello.py', step: 3, check: '3.waits-for-hello', hint: 'wait for hello before sending login' },
  { file: 'hardcoded_user.py', step: 4, check: '4.login', hint: 'CHATLAB_USER and CHATLAB_PASSWORD' },
  { file: 'one_read_one_frame.py', step: 5, check: '5.shows-presence', hint: 'one read can hold several frames' },
  { file: 'keeps_newline.py', step: 6, check: '6.say-from-stdin', hint: 'strip the newline' },
  { file: 'sends_empty_line.py', step: 6, check: '6.empty-line-sends-nothing', hint: 'skip empty stdin lines' },
  { file: 'ignores_errors.py', step: 6, check: '6.rate-limited-lines', hint: 'never drop it silently' },
  { file: 'wrong-format.ts', step: 7, check: '7.prints-message', hint: 'print each message as "<from>: <text>"' },
  { file: 'dies_on_newline.py', step: 7, check: '7.prints-multiline', hint: 'a message text may hold a newline' },
  { file: 'never_quits.py', step: 8, check: '8.quit-from-stdin', hint: 'send {"type":"quit"}' },
  // Found by what arrives within the quiet wait: a Python client on a loaded machine may take more
  // than the tests' 150 ms to read the typed line, and the frame then comes as soon as it does.
  { file: 'sends_after_quit.py', step: 8, check: '8.nothing-after-quit', hint: 'do not send quit again when the input ends', quietMs: 3_000 },
  { file: 'no_close.py', step: 10, check: '10.closes-after-bye', hint: 'after bye, close the socket' },
];

/** Clients that clearly answer wrong (a wrong frame, a wrong line, an exit, a hang-up): reported at once. */
const ANSWERS_WRONG = [
  { file: 'hardcoded_user.py', check: '4.login', summary: "the login's user is not CHATLAB_USER" },
  { file: 'wrong-format.ts', check: '7.prints-message', summary: 'the closest line it printed differs' },
  { file: 'hangs_up_on_message.py', check: '7.prints-message', summary: 'the client closed the connection before it printed' },
  { file: 'dies_on_newline.py', check: '7.prints-multiline', summary: 'the client exited with code 1 when a message whose text holds a newline arrived' },
];

/** Far longer than any of these runs may take: a check that waited for it would time the test out. */
const LONG_TIMEOUTS = { ...TEST_TIMEOUTS, answerMs: 30_000 };

describe('chatlab verify --client on sample clients', () => {
  test.concurrent('a correct Python client passes all ten steps', async () => {
    const report = await verifyClient({ command: command('client.py'), timeouts: TEST_TIMEOUTS });
    expect(report.passed, failureSummary(report)).toBe(true);
    expect(report.mode).toBe('client');
    expect(report.process?.exitCode).toBe(0);
    // The client's stdout is part of the transcript, next to the frames.
    expect(report.transcript.some((e) => e.kind === 'stdout' && e.text === '* carol is online')).toBe(true);
  });

  test.concurrent('a client that sends refused lines again, instead of reporting them, passes too', async () => {
    const report = await verifyClient({ command: command('resends_refused.py'), timeouts: TEST_TIMEOUTS });
    expect(report.passed, failureSummary(report)).toBe(true);
    const rate = report.checks.find((c) => c.id === '6.rate-limited-lines');
    expect(rate?.detail).toBe('7 of 10 lines refused: 7 sent again, 0 reported');
  });

  test.concurrent.each(BROKEN)('$file fails at step $step ($check)', async ({ file, step, check, hint, quietMs }) => {
    const report = await verifyClient({ command: command(file), timeouts: { ...TEST_TIMEOUTS, ...(quietMs !== undefined && { quietMs }) } });
    const failed = report.checks.find((c) => c.status === 'failed');
    expect(failed?.id, failureSummary(report)).toBe(check);
    expect(report.failedStep).toBe(step);
    expect(failed?.failure?.hint).toContain(hint);
  });

  test.concurrent.each(ANSWERS_WRONG)('$file fails at $check as soon as it answers wrong, not after the timeout', async ({ file, check, summary }) => {
    const report = await verifyClient({ command: command(file), timeouts: LONG_TIMEOUTS });
    const failed = report.checks.find((c) => c.status === 'failed');
    expect(failed?.id, failureSummary(report)).toBe(check);
    expect(failed?.failure?.summary).toContain(summary);
    expect(failed?.failure?.summary).not.toContain('no answer within');
    expect(failed?.failure?.timeoutSeconds).toBeUndefined();
    expect(failed?.durationMs).toBeLessThan(LONG_TIMEOUTS.answerMs);
  });

  test.concurrent('the client gets HOST, PORT, CHATLAB_USER and CHATLAB_PASSWORD', async () => {
    const user = { user: 'zoe', password: 'zoe-secret' };
    const report = await verifyClient({ command: command('client.py'), user, through: 4, timeouts: TEST_TIMEOUTS });
    expect(report.passed, failureSummary(report)).toBe(true);
    const login = report.transcript.find((e) => e.kind === 'recv' && e.frame?.type === 'login');
    expect(login && 'frame' in login ? login.frame : null).toEqual({ type: 'login', user: 'zoe', password: 'zoe-secret' });
  });

  test.concurrent('a client command that does not exist fails at step 2 with a clear message', async () => {
    const report = await verifyClient({ command: ['/nonexistent/chat-client'], timeouts: TEST_TIMEOUTS });
    const failed = report.checks.find((c) => c.status === 'failed');
    expect(failed?.id).toBe('2.connects');
    expect(failed?.failure?.summary).toContain('command not found: /nonexistent/chat-client');
  });
});
