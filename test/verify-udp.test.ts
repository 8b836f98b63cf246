/**
 * `chatlab verify --udp` against lesson 15's UDP server (it passes every check) and two servers
 * broken on purpose: one relays to the sender too, one never expires a silent peer. Each must
 * fail at its check, and only there.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { verifyUdpServer } from '../src/verify/index.ts';
import { TEST_TIMEOUTS, failureSummary } from '../test-support/verify-runs.ts';

const ACCOUNTS = [
  { user: 'alice', password: 'wonderland' },
  { user: 'bob', password: 'builder' },
  { user: 'carol', password: 'caroline' },
];
const lessonServer = fileURLToPath(new URL('../lessons/15-udp/server.mjs', import.meta.url));
const fixture = (file: string): string => fileURLToPath(new URL(`./fixtures/servers/udp/${file}`, import.meta.url));
// Lesson 15 expires a peer after 5 s of silence (checked each second): 8 s leaves room for a busy machine.
const EXPIRY_MS = 8_000;

function verify(file: string) {
  return verifyUdpServer({ command: [process.execPath, file], users: ACCOUNTS, timeouts: TEST_TIMEOUTS, expiryMs: EXPIRY_MS });
}

describe.concurrent('chatlab verify --udp', () => {
  test('lesson 15 server passes every UDP check', async () => {
    const report = await verify(lessonServer);
    expect(report.passed, failureSummary(report)).toBe(true);
    expect(report.checks.map((c) => c.id)).toEqual(['1.udp-listens', '1.udp-answers', '5.udp-login', '7.udp-relay', '7.udp-no-echo', '9.udp-quit', '10.udp-expiry']);
    expect(
      report.transcript.some((event) => event.kind === 'recv' && event.conn === 'alice' && event.frame?.type === 'presence' && event.frame.status === 'offline' && event.frame.user === 'carol'),
    ).toBe(true);
  }, 30_000);

  test('a server that relays to the sender fails at 7.udp-no-echo', async () => {
    const report = await verify(fixture('relays-to-sender.mjs'));
    expect(report.passed).toBe(false);
    const failed = report.checks.find((c) => c.status === 'failed');
    expect(failed?.id, failureSummary(report)).toBe('7.udp-no-echo');
    expect(failed?.failure?.summary).toContain('got her own message back');
    expect(report.failedStep).toBe(7);
  }, 30_000);

  test('a server that never expires a silent peer fails at 10.udp-expiry', async () => {
    const report = await verify(fixture('never-expires.mjs'));
    const failed = report.checks.find((c) => c.status === 'failed');
    expect(failed?.id, failureSummary(report)).toBe('10.udp-expiry');
    expect(failed?.failure?.summary).toContain('never expires a silent peer');
    expect(report.failedStep).toBe(10);
  }, 30_000);

  test('a UDP server that is not there fails at the first check, with a clear summary', async () => {
    const report = await verifyUdpServer({ target: { host: '127.0.0.1', port: 9 }, users: ACCOUNTS, timeouts: { ...TEST_TIMEOUTS, answerMs: 500 } });
    expect(report.checks[0]?.id).toBe('1.udp-answers');
    expect(report.checks[0]?.failure?.summary).toContain('no datagram came back');
  });
});
