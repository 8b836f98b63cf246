/**
 * `chatlab verify` against the project's own reference server: in-process (--target), once with
 * accounts created through register and once with given accounts, and end to end through the
 * CLI (`chatlab verify --json -- chatlab server …`), which also pins the --json shape; and the
 * reference client (`chatlab client`) under --client.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { renderText, verifyClient, verifyServer, type VerifyReport } from '../src/verify/index.ts';
import { TEST_USERS, startTestServer, type TestServer } from '../test-support/chat-server.ts';
import { TEST_TIMEOUTS, failureSummary } from '../test-support/verify-runs.ts';

const CHATLAB = fileURLToPath(new URL('../bin/chatlab.js', import.meta.url));

/** Runs the chatlab CLI; resolves with its exit code and output. */
function runCli(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHATLAB, ...args], { env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`chatlab ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('chatlab verify on the reference server', () => {
  let chat: TestServer;
  let empty: TestServer;
  beforeAll(async () => {
    chat = await startTestServer();
    empty = await startTestServer({ users: {} });
  });
  afterAll(async () => {
    await chat?.stop();
    await empty?.stop();
  });

  test.concurrent('passes every check, with accounts the verifier registers itself', async () => {
    const report = await verifyServer({ target: { host: '127.0.0.1', port: empty.port }, timeouts: TEST_TIMEOUTS });
    expect(report.passed, failureSummary(report)).toBe(true);
    expect(report.counts).toEqual({ passed: report.checks.length, failed: 0, skipped: 0 });
    expect(report.accounts?.source).toBe('register');
    expect(report.process).toBeUndefined();
    // Someone else's server (--target) cannot be restarted: the restart check says it did not check.
    expect(report.checks.find((c) => c.id === '16.restart')?.detail).toBe('not checked: the verifier did not start this server (--target), so it cannot restart it');
    // Every extension group with checks runs: the reference server advertises all seven features.
    expect(report.extensions).toEqual({ checked: ['register', 'who', 'ping', 'private', 'rooms', 'history', 'files'], notAdvertised: [] });
    // The protocol cannot delete an account: the run names every one it left on the server.
    const left = empty.server.accounts.list();
    expect(left.length).toBeGreaterThanOrEqual(3);
    expect([...(report.registered ?? [])].sort()).toEqual(left);
    expect(renderText(report)).toContain(`Left on the server: ${left.length} accounts this run registered (${report.registered?.join(', ')})`);
  });

  test.concurrent('passes every check, with the demo accounts given', async () => {
    const users = [
      { user: 'alice', password: 'wonderland' },
      { user: 'bob', password: 'builder' },
      { user: 'carol', password: 'caroline' },
    ];
    const report = await verifyServer({ target: { host: '127.0.0.1', port: chat.port }, users, timeouts: TEST_TIMEOUTS });
    expect(report.passed, failureSummary(report)).toBe(true);
    expect(report.accounts).toEqual({ source: 'given', users: ['alice', 'bob', 'carol'] });
    // Step 11 still registers accounts of its own (before login, without an id, after login), and says so.
    const added = chat.server.accounts.list().filter((name) => !Object.hasOwn(TEST_USERS, name));
    expect(added).toHaveLength(3);
    expect([...(report.registered ?? [])].sort()).toEqual(added);
  });

  test.concurrent('end to end: chatlab verify --json -- chatlab server --port {port} --db <file> (restarted once by 16.restart)', async () => {
    // A file, not :memory:, so the history survives the restart the history group makes.
    const db = join(mkdtempSync(join(tmpdir(), 'chatlab-verify-reference-')), 'chat.db');
    const { code, stdout, stderr } = await runCli(['verify', '--json', '--timeout', '3', '--', process.execPath, CHATLAB, 'server', '--port', '{port}', '--db', db]);
    rmSync(dirname(db), { recursive: true, force: true });
    const report = JSON.parse(stdout) as VerifyReport;
    expect(code, `${failureSummary(report)}\n${stderr}`).toBe(0);
    expect(report).toMatchObject({ mode: 'server', passed: true, through: 17, address: { host: '127.0.0.1' }, counts: { failed: 0, skipped: 0 } });
    expect(report.process?.command).toContain(String(report.address.port));
    expect(report.process?.output.some((line) => line.stream === 'stdout' && line.text.includes(`listening on 127.0.0.1:${report.address.port}`))).toBe(true);
    for (const check of report.checks) {
      expect(check).toEqual({
        id: expect.stringMatching(/^\d+\.[a-z0-9-]+$/),
        step: expect.any(Number),
        stepName: expect.any(String),
        title: expect.any(String),
        status: 'passed',
        durationMs: expect.any(Number),
        ...(check.detail ? { detail: expect.any(String) } : {}),
      });
    }
    expect(report.checks.find((c) => c.id === '16.restart')?.detail).toMatch(/^msgid \d+ kept across the restart; the next one is \d+$/);
    expect(report.transcript.length).toBeGreaterThan(20);
    for (const event of report.transcript) expect(event).toMatchObject({ seq: expect.any(Number), atMs: expect.any(Number), conn: expect.any(String), kind: expect.any(String) });
    const welcome = report.transcript.find((e) => e.kind === 'recv' && e.frame?.type === 'welcome');
    expect(welcome && 'raw' in welcome ? welcome.raw : '').toMatch(/^\{.*"type":"welcome".*\}<LF>$/);
  });

  test.concurrent('the reference client (chatlab client) passes every --client check', async () => {
    const report = await verifyClient({ command: [process.execPath, CHATLAB, 'client'], timeouts: TEST_TIMEOUTS });
    expect(report.passed, failureSummary(report)).toBe(true);
    expect(report.process?.exitCode).toBe(0);
  });
});
