/**
 * `chatlab verify` against sample servers: correct ones in Python (stdlib only: core, and with
 * every extension) and in TypeScript must pass every step they advertise; each deliberately broken one (Python and TypeScript, at least
 * one per step) must fail at its step, on the right check, with the right hint.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { TRANSCRIPT_LIMITS, renderText, verifyServer } from '../src/verify/index.ts';
import { nodeCommand } from '../test-support/test-build.ts';
import { TEST_TIMEOUTS, failureSummary } from '../test-support/verify-runs.ts';

const fixture = (path: string): string => fileURLToPath(new URL(`./fixtures/servers/${path}`, import.meta.url));
const ACCOUNTS = [
  { user: 'alice', password: 'wonderland' },
  { user: 'bob', password: 'builder' },
  { user: 'carol', password: 'caroline' },
];

// Where the servers with history keep it (CHAT_DB): a fresh file per run, kept across the restart of check 16.restart.
const storageDir = mkdtempSync(join(tmpdir(), 'chatlab-verify-servers-'));
afterAll(() => rmSync(storageDir, { recursive: true, force: true }));

function storage(name: string): Record<string, string> {
  return { CHAT_DB: join(storageDir, `${name}.db`) };
}

function command(file: string): string[] {
  return file.endsWith('.py') ? ['python3', fixture(`py/${file}`)] : nodeCommand(fixture(`ts/${file}`));
}

/** Where a broken server must fail: the step, the check, and words of the hint. */
interface Broken {
  file: string;
  step: number;
  check: string;
  hint: string;
  summary?: string;
  /** A longer quiet window where the failure is a process dying, which a loaded machine can take a while to show. */
  quietMs?: number;
}

const BROKEN: Broken[] = [
  { file: 'no_port_env.py', step: 1, check: '1.listens', hint: 'PORT environment variable', summary: 'exited with code 1 before accepting' },
  { file: 'wrong-port.ts', step: 1, check: '1.listens', hint: 'read the port from the PORT environment variable', summary: 'says it listens on port' },
  { file: 'closes_on_accept.py', step: 2, check: '2.stays-open', hint: 'keep each accepted socket open', summary: 'closed the connection right after accepting it', quietMs: 3_000 },
  { file: 'crash-on-connect.ts', step: 2, check: '2.stays-open', hint: 'read its stderr', summary: 'exited with code 1', quietMs: 3_000 },
  { file: 'no-error-listener.ts', step: 2, check: '2.survives-reset', hint: "socket.on('error'", summary: 'when a client reset its connection', quietMs: 3_000 },
  { file: 'crashes_on_reset.py', step: 2, check: '2.survives-reset', hint: 'ConnectionResetError', summary: 'when a client reset its connection', quietMs: 1_000 },
  { file: 'no_hello.py', step: 3, check: '3.hello-first', hint: 'as soon as you accept a connection, send {"type":"hello"', summary: 'no answer within 5 s' },
  { file: 'sequential.py', step: 3, check: '3.hello-each', hint: 'serve every connection at the same time', summary: 'no answer within 5 s' },
  { file: 'hello-without-newline.ts', step: 3, check: '3.hello-first', hint: 'end every frame with \\n', summary: 'without the final \\n' },
  { file: 'one_read_one_frame.py', step: 4, check: '4.login-split', hint: 'one read is not one frame: buffer until \\n' },
  { file: 'shared-pending-buffer.ts', step: 4, check: '4.halves-on-two-connections', hint: "in that connection's session", summary: 'not error unknown_type with its id' },
  { file: 'drops-partial-lines.ts', step: 4, check: '4.login-split', hint: 'one read is not one frame: buffer until \\n' },
  { file: 'no_presence_online.py', step: 5, check: '5.presence-online', hint: '"status":"online"} to every other logged-in user' },
  { file: 'closes_on_auth_failed.py', step: 5, check: '5.auth-failed', hint: 'keep the connection open', summary: 'closed the connection after auth_failed' },
  { file: 'logs-wrong-passwords.ts', step: 5, check: '5.no-password-printed', hint: 'never print a password', summary: 'the server printed a password on its stdout' },
  { file: 'welcome-without-self.ts', step: 5, check: '5.welcome', hint: 'includes the user who just logged in', summary: 'welcome.users misses alice' },
  { file: 'decodes_each_read.py', step: 6, check: '6.say-split-utf8', hint: 'middle of a multi-byte UTF-8 character' },
  { file: 'counts-utf16-units.ts', step: 6, check: '6.say-4000-emoji', hint: '[...text].length', summary: 'it counts UTF-16 units, not characters' },
  { file: 'say-wrong-field.ts', step: 6, check: '6.say-read', hint: 'read the field "text"', summary: 'error bad_request' },
  { file: 'echo_to_sender.py', step: 7, check: '7.no-echo', hint: 'except the sender', summary: 'got its own message back' },
  { file: 'latin1_text.py', step: 7, check: '7.unicode', hint: 'never Latin-1', summary: 'got the text changed' },
  { file: 'trusts-from.ts', step: 7, check: '7.forged-from', hint: "set from to the sender's logged-in name", summary: 'but bob sent it' },
  { file: 'ignores_to.py', step: 7, check: '7.routing-to', hint: 'privacy leak', summary: 'the server ignored "to", which leaks it to everyone' },
  { file: 'ignores-to.ts', step: 7, check: '7.routing-to', hint: 'privacy leak', summary: 'the server ignored "to", which leaks it to everyone' },
  { file: 'ignores-room.ts', step: 7, check: '7.routing-room', hint: 'answer a say that has one with error bad_request naming "room"', summary: 'the server ignored "room"' },
  { file: 'loose_ids.py', step: 7, check: '7.request-ids', hint: 'a valid id is a string of at most 64 characters', summary: 'whose id is a 65-character string was answered with "ok"' },
  { file: 'loose-ids.ts', step: 7, check: '7.request-ids', hint: 'answer any other id with bad_request naming "id"', summary: 'whose id is 1.5 was answered with "ok"' },
  { file: 'ok-without-id.ts', step: 6, check: '6.silent-without-id', hint: 'without an id, success is silent', summary: 'got an ok without an id' },
  { file: 'tight-rate-limit.ts', step: 7, check: '7.rate-floor', hint: 'never below 20 frames per second with bursts of 40', summary: 'got error rate_limited' },
  { file: 'ignores_quit.py', step: 8, check: '8.quit-read', hint: 'handle {"type":"quit"}', summary: 'error unknown_type to quit' },
  { file: 'crash-on-quit.ts', step: 8, check: '8.quit-read', hint: 'read its stderr', summary: 'exited with code 1 when it read a quit' },
  { file: 'quit-before-login-closes.ts', step: 8, check: '8.quit-before-login', hint: 'quit included', summary: "the server closed guest's connection" },
  { file: 'no_offline_on_quit.py', step: 9, check: '9.presence-offline', hint: '"status":"offline"} to every other logged-in user' },
  { file: 'no-bye.ts', step: 9, check: '9.bye', hint: 'answer quit with {"type":"bye"}', summary: 'without sending bye' },
  { file: 'never_closes.py', step: 10, check: '10.closes-after-bye', hint: 'close the socket', summary: 'still open after bye' },
  { file: 'no-offline-on-drop.ts', step: 10, check: '10.drop-offline', hint: 'when a read returns 0 bytes or fails' },
  // The error rules (issue 11): each after the happy path of the step that teaches it.
  { file: 'no_error_replies.py', step: 4, check: '4.not-json', hint: 'catch errors per connection', summary: 'no answer within 5 s: waited for {"type":"error","code":"bad_frame"' },
  { file: 'crash-on-null.ts', step: 4, check: '4.not-object', hint: 'read its stderr', summary: 'exited with code 1 before' },
  { file: 'dies_on_missing_type.py', step: 4, check: '4.no-type', hint: 'raised an exception and stopped, leaving the socket open', summary: 'no answer within 5 s' },
  { file: 'errors_without_id.py', step: 4, check: '4.unknown-type', hint: "copy the request's id, unchanged, into every direct answer", summary: 'came back with no id' },
  {
    file: 'frame-limit-off-by-one.ts',
    step: 4,
    check: '4.frame-65536',
    hint: 'a line of 65,535 bytes plus its \\n is a normal frame',
    summary: 'answered with error frame_too_large, not unknown_type',
  },
  {
    file: 'no-nesting-limit.ts',
    step: 4,
    check: '4.nesting-depth',
    hint: 'deeper than 32 levels is answered bad_frame',
    summary: 'nested 33 levels deep was answered with error unknown_type, not bad_frame',
  },
  { file: 'no_recursion_guard.py', step: 4, check: '4.bracket-bomb', hint: 'Catch RecursionError too', summary: "the server closed rude's connection" },
  { file: 'recursive-depth.ts', step: 4, check: '4.bracket-bomb', hint: 'read its stderr', summary: 'exited with code 1' },
  {
    file: 'tolerates-bom.ts',
    step: 4,
    check: '4.bom',
    hint: 'never "utf-8-sig"',
    summary: 'preceded by a UTF-8 byte order mark (the bytes EF BB BF) was answered with error unknown_type, not bad_frame',
  },
  { file: 'answers-blank-lines.ts', step: 4, check: '4.blank-lines', hint: 'is not a frame: skip it without an answer', summary: 'was answered with error bad_frame, not unknown_type' },
  { file: 'no_frame_limit.py', step: 4, check: '4.frame-too-large', hint: 'at 65,536 bytes without a \\n', summary: 'answered with error unknown_type, not error frame_too_large' },
  { file: 'login_missing_password.py', step: 5, check: '5.login-without-password', hint: 'answer error bad_request (not auth_failed)', summary: 'answered with error auth_failed, not bad_request' },
  { file: 'no-user-name-rule.ts', step: 5, check: '5.bad-user-name', hint: 'a user name is 1–32 characters', summary: 'user name of 33 characters was answered with error auth_failed' },
  {
    file: 'online-before-password.ts',
    step: 5,
    check: '5.auth-failed',
    hint: 'check the password before whether the user is online',
    summary: 'a wrong password was answered with error already_online, not error auth_failed',
  },
  {
    file: 'fields-before-login.ts',
    step: 6,
    check: '6.not-logged-in-first',
    hint: 'check the login before the fields',
    summary: 'sent before login was answered with error bad_request, not not_logged_in',
  },
  { file: 'relays-lone-surrogate.ts', step: 6, check: '6.say-lone-surrogate', hint: 'lone surrogate', summary: 'was answered with "ok", not error bad_request' },
  { file: 'say_without_text.py', step: 6, check: '6.say-without-text', hint: 'a say needs a string "text"', summary: 'was answered with "ok", not error bad_request' },
  {
    file: 'accepts-empty-text.ts',
    step: 6,
    check: '6.say-without-text',
    hint: 'a say needs a string "text" of 1–4,000 characters',
    summary: '{"type":"say","text":"","id":"v-emptytext"} was answered with "ok"',
  },
  { file: 'no-text-limit.ts', step: 6, check: '6.say-too-long', hint: 'a text is 1–4,000 characters', summary: '4,001 characters was answered with "ok"' },
  { file: 'cp1252_reader.py', step: 7, check: '7.unicode', hint: 'Windows-1252', summary: "got alice's text changed into bytes that are not UTF-8" },
  { file: 'splits_at_lone_cr.py', step: 7, check: '7.lone-cr', hint: "Java's readLine()", summary: 'received the part before a lone \\r' },
  { file: 'crash-on-bad-utf8.ts', step: 10, check: '10.garbage-then-drop', hint: 'read its stderr', summary: 'exited with code 1' },
];

/**
 * The extension groups (steps 11–17), each failing at the first check its bug breaks: in
 * TypeScript, the reference server with one bug put in by rewriting what it sends
 * (reference-rewritten.ts); in Python, chat_server_ext.py with one learner's mistake.
 */
const EXTENSION_BROKEN: Broken[] = [
  { file: 'ext-register-twice.ts', step: 11, check: '11.register', hint: 'user_exists', summary: 'a register of a name that was just registered was answered with "ok", not error user_exists' },
  {
    file: 'ext-silent-without-id.ts',
    step: 11,
    check: '11.register',
    hint: 'register is always answered, id or not',
    summary: 'no answer within 5 s: waited for an answer to a register without an id',
  },
  { file: 'ext-register-before-login-only.ts', step: 11, check: '11.register', hint: 'register is allowed before and after login', summary: 'was answered with error already_logged_in' },
  { file: 'ext-who-without-self.ts', step: 12, check: '12.who', hint: 'the asker included', summary: 'the asker is included too' },
  { file: 'ping_needs_login.py', step: 13, check: '13.ping', hint: 'Ping needs no login', summary: 'a ping before login was answered with error not_logged_in, not pong' },
  { file: 'ext-pong-without-id.ts', step: 13, check: '13.ping', hint: `"id" the ping's`, summary: "the pong before login lacks the ping's id" },
  {
    file: 'ext-names-before-fields.ts',
    step: 14,
    check: '14.private-errors',
    hint: 'the fields first (bad_request), then what they name',
    summary: 'without text to a name that has no account was answered with error unknown_user',
  },
  { file: 'ext-no-queued-flag.ts', step: 14, check: '14.private-offline', hint: '"queued":true', summary: 'the replayed message lacks "queued":true' },
  { file: 'ext-no-room-presence.ts', step: 15, check: '15.join', hint: '"status":"online","room"', summary: 'no answer within 5 s' },
  {
    file: 'ext-history-unadvertised.ts',
    step: 15,
    check: '15.join',
    hint: 'a server without "history" answers join with users only',
    summary: 'came history_end, but hello.features does not list "history"',
  },
  { file: 'ext-history-end-without-last.ts', step: 16, check: '16.replay-since', hint: '"last_msgid" is the highest msgid', summary: 'history_end has a wrong "last_msgid"' },
  { file: 'ext-history-end-without-room.ts', step: 16, check: '16.paging', hint: '"lobby" when the history named no room', summary: 'history_end has a wrong "room"' },
  { file: 'ext-history-in-memory.ts', step: 16, check: '16.restart', hint: 'keep the messages, the msgid counter and the accounts in a file', summary: 'the history did not survive the restart' },
  { file: 'ext-chunk-as-text.ts', step: 17, check: '17.transfer', hint: 'with their data unchanged', summary: 'received differs from the one bob(x' },
  {
    file: 'ext-transfer-kind-unknown.ts',
    step: 17,
    check: '17.transfer-field',
    hint: 'fields are checked before what they name',
    summary: 'a file_accept whose "transfer" is 7 was answered with error unknown_transfer, not error bad_request',
  },
  {
    file: 'ext_register_overwrites.py',
    step: 11,
    check: '11.register',
    hint: 'the account keeps its first password',
    summary: 'a register of a name that was just registered was answered with "ok", not error user_exists',
  },
  { file: 'ext_who_unsorted.py', step: 12, check: '12.who', hint: 'sorted by code point (as in welcome)', summary: 'the who answer is not sorted by code point' },
  {
    file: 'ext_private_online_only.py',
    step: 14,
    check: '14.private-offline',
    hint: 'a private message to an account that is not logged in is stored for it',
    summary: 'a private say to an account that is offline was answered with error unknown_user, not ok',
  },
  {
    file: 'ext_room_say_without_membership.py',
    step: 15,
    check: '15.leave',
    hint: 'a say in a room that exists but that you are not in',
    summary: 'by a user who left it was answered with "ok", not error not_in_room',
  },
  {
    file: 'ext_leave_raises.py',
    step: 15,
    check: '15.leave',
    hint: 'a leave of a room that does not exist gets {"type":"error","code":"unknown_room"',
    summary: "; meanwhile your server printed KeyError: 'nosuch",
  },
  { file: 'ext_since_inclusive.py', step: 16, check: '16.replay-since', hint: 'replay only messages after it', summary: 'replayed a message with msgid' },
  { file: 'ext_history_end_without_room.py', step: 16, check: '16.paging', hint: '"lobby" when the history named no room', summary: 'history_end has a wrong "room"' },
  { file: 'ext_history_in_memory.py', step: 16, check: '16.restart', hint: 'keep the messages, the msgid counter and the accounts in a file', summary: 'the history did not survive the restart' },
  {
    file: 'ext_transfer_as_key.py',
    step: 17,
    check: '17.transfer-field',
    hint: 'never used as a lookup key',
    summary: 'a file_accept whose "transfer" is 7 was answered with error unknown_transfer, not error bad_request',
  },
  {
    file: 'ext_no_chunk_window.py',
    step: 17,
    check: '17.transfer',
    hint: 'at most 8 chunks unacknowledged per receiver',
    summary: 'a ninth file_chunk while none of the first eight was acknowledged was answered with "ok", not error rate_limited',
  },
];

const EXTENSIONS = ['register', 'who', 'ping', 'private', 'rooms', 'history', 'files'];

describe('chatlab verify on sample servers', () => {
  test.concurrent('a correct Python server (stdlib only, with register) passes all ten steps', async () => {
    const report = await verifyServer({ command: command('chat_server.py'), timeouts: TEST_TIMEOUTS });
    expect(report.passed, failureSummary(report)).toBe(true);
    // Core only (no features in hello): every check of steps 1–10 passes, the extension groups are not run.
    expect(report.checks.every((c) => c.status === (c.step > 10 ? 'not_run' : 'passed'))).toBe(true);
    expect(new Set(report.checks.filter((c) => c.status === 'passed').map((c) => c.step))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    expect(report.accounts?.source).toBe('register');
    expect(report.process?.exitedEarly).toBe(false);
  });

  test.concurrent('a correct TypeScript server (no register, accounts given) passes all ten steps; core only, its extension checks are not run', async () => {
    const report = await verifyServer({ command: command('correct.ts'), users: ACCOUNTS, timeouts: TEST_TIMEOUTS });
    expect(report.passed, failureSummary(report)).toBe(true);
    expect(report.accounts).toEqual({ source: 'given', users: ['alice', 'bob', 'carol'] });
    const extensions = report.checks.filter((c) => c.step > 10);
    expect(extensions.length).toBeGreaterThan(0);
    for (const check of extensions) expect(check).toMatchObject({ status: 'not_run', detail: `not advertised: "${check.stepName}" is not in hello.features` });
    expect(report.extensions).toEqual({ checked: [], notAdvertised: EXTENSIONS });
    expect(report.counts).toEqual({ passed: report.checks.length - extensions.length, failed: 0, skipped: 0, notRun: extensions.length });
    const text = renderText(report);
    expect(text).toContain('not run: who is answered with users');
    expect(text).toContain('Not run (not in hello.features): register, who, ping, private, rooms, history, files.');
  });

  test.concurrent('a correct Python server with every extension (stdlib only) passes all seventeen steps', async () => {
    const report = await verifyServer({ command: command('chat_server_ext.py'), env: storage('chat_server_ext'), timeouts: TEST_TIMEOUTS });
    expect(report.passed, failureSummary(report)).toBe(true);
    expect(report.extensions).toEqual({ checked: EXTENSIONS, notAdvertised: [] });
    expect(report.checks.every((c) => c.status === 'passed')).toBe(true);
    expect(new Set(report.checks.map((c) => c.step))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]));
    expect(report.accounts?.source).toBe('register');
  });

  test('there is a broken server for every extension group, in Python and in TypeScript', () => {
    for (const language of ['.py', '.ts']) {
      const steps = new Set(EXTENSION_BROKEN.filter((b) => b.file.endsWith(language)).map((b) => b.step));
      expect(
        [...steps].sort((a, b) => a - b),
        language,
      ).toEqual([11, 12, 13, 14, 15, 16, 17]);
    }
  });

  test.concurrent('--only runs steps 1–10 and the extension groups named, nothing else', async () => {
    const report = await verifyServer({ command: command('ext-pong-without-id.ts'), env: storage('ext-pong-without-id'), users: ACCOUNTS, only: ['private', 'history'], timeouts: TEST_TIMEOUTS });
    expect(report.passed, failureSummary(report)).toBe(true);
    expect(new Set(report.checks.map((c) => c.stepName).filter((name) => EXTENSIONS.includes(name)))).toEqual(new Set(['private', 'history']));
    expect(report.extensions).toEqual({ checked: ['private', 'history'], notAdvertised: [] });
  });

  test.concurrent.each([...BROKEN, ...EXTENSION_BROKEN])('$file fails at step $step ($check)', async ({ file, step, check, hint, summary: words, quietMs }) => {
    const timeouts = quietMs ? { ...TEST_TIMEOUTS, quietMs } : TEST_TIMEOUTS;
    const report = await verifyServer({ command: command(file), env: storage(file), users: ACCOUNTS, timeouts });
    const failed = report.checks.find((c) => c.status === 'failed');
    expect(report.passed).toBe(false);
    expect(failed?.id, failureSummary(report)).toBe(check);
    expect(report.failedStep).toBe(step);
    expect(failed?.failure?.hint).toContain(hint);
    if (words) expect(failed?.failure?.summary).toContain(words);
    // Stops at the first failure: everything before passed, everything after was not run.
    const index = report.checks.indexOf(failed!);
    expect(report.checks.slice(0, index).every((c) => c.status === 'passed')).toBe(true);
    expect(report.checks.slice(index + 1).every((c) => c.status === 'skipped')).toBe(true);
  });

  test('there is a broken sample server for every step, in Python and in TypeScript', () => {
    const steps = new Set(BROKEN.map((b) => b.step));
    expect([...steps].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(BROKEN.some((b) => b.file.endsWith('.py'))).toBe(true);
    expect(BROKEN.some((b) => b.file.endsWith('.ts'))).toBe(true);
  });

  test.concurrent('a server that only listens (lesson 1) passes --through 2, and fails step 3 without hello', async () => {
    const upTo2 = await verifyServer({ command: command('listen_only.py'), through: 2, timeouts: TEST_TIMEOUTS });
    expect(upTo2.passed, failureSummary(upTo2)).toBe(true);
    expect(upTo2.checks.map((c) => c.id)).toEqual(['1.listens', '2.stays-open', '2.survives-reset']);
    const upTo3 = await verifyServer({ command: command('listen_only.py'), through: 3, timeouts: { ...TEST_TIMEOUTS, answerMs: 1_000 } });
    expect(upTo3.failedStep).toBe(3);
    expect(upTo3.checks.find((c) => c.status === 'failed')?.failure?.summary).toContain('no answer within 1 s');
  });

  test.concurrent('a server that floods valid frames instead of welcome fails at once with the flood rule, and the verifier keeps only the last frames', async () => {
    // A minute per answer: only the flood rule can end the wait within the test's time.
    const report = await verifyServer({ command: command('floods-instead-of-welcome.ts'), users: ACCOUNTS, timeouts: { ...TEST_TIMEOUTS, answerMs: 60_000 } });
    const failed = report.checks.find((c) => c.status === 'failed');
    expect(failed?.id, failureSummary(report)).toBe('4.login-read');
    expect(failed?.failure?.summary).toMatch(/^the server sent 10,000 frames \([\d.]+ [kM]B\) to alice without an answer to alice's login — is it looping\?$/);
    expect(failed?.failure?.timeoutSeconds).toBeUndefined();
    expect(report.transcript.length).toBeLessThanOrEqual(TRANSCRIPT_LIMITS.items);
    expect(report.transcriptOmitted?.events).toBeGreaterThan(10_000 - TRANSCRIPT_LIMITS.items);
    const text = renderText(report);
    expect(text).toMatch(/… [\d,]+ earlier events not shown/);
    // The last frame of the flood is the one at fault: the inspector's presence row, marked at its end.
    expect(text).toMatch(/presence.* ghost online ✗$/m);
  });

  test.concurrent('a server without register, and no accounts given, fails at step 4 asking for --user', async () => {
    const report = await verifyServer({ command: command('correct.ts'), timeouts: TEST_TIMEOUTS });
    const failed = report.checks.find((c) => c.status === 'failed');
    expect(failed?.id).toBe('4.accounts');
    expect(failed?.failure?.summary).toContain('error unknown_type');
    expect(failed?.failure?.hint).toContain('--user alice:wonderland');
  });
});
