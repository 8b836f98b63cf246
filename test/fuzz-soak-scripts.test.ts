/**
 * The fuzz-and-oracle and soak scripts at a tiny size, run exactly as `npm run fuzz` / `npm run
 * soak` run them (a child process), so they keep working: each must finish, report its figures
 * and exit 0 against the reference server. The long runs are for releases (see bench/README.md).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Oracle, answerProblem, type Relay } from '../scripts/lib/fuzz-oracle.ts';
import { SequenceCheck, soakText } from '../scripts/lib/sequence-check.ts';
import { REPO_ROOT, testEnv } from '../test-support/cli-process.ts';

const run = promisify(execFile);

/** Runs `scripts/<name>.ts` with tsx; resolves with its exit code and output (never rejects on exit 1). */
async function script(name: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', `scripts/${name}.ts`, ...args], { cwd: REPO_ROOT, env: testEnv(), timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('npm run fuzz, tiny', () => {
  it('sends 2,000 seeded frames and every answer and relay matches the oracle', async () => {
    const result = await script('fuzz', ['--frames', '2000', '--connections', '3', '--seed', '11']);
    expect(result.stdout, result.stderr).toMatch(/^fuzz: 2,000 frames in [\d.]+ s = [\d,]+ frames\/s \(seed 11\)$/m);
    expect(result.stdout).toMatch(/^fuzz: 2,000 answers and [\d,]+ relays checked against the oracle$/m);
    expect(result.stdout).toMatch(/^fuzz: 0 mismatches$/m);
    expect(result.stderr).toContain('seed 11 (replay with --seed 11)');
    expect(result.code).toBe(0);
  });

  it('refuses a bad flag with one line and exit code 1', async () => {
    const result = await script('fuzz', ['--frames', 'many']);
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')[0]).toBe('fuzz: --frames takes a whole number ≥ 1, not "many"');
  });
});

describe('npm run soak, tiny', () => {
  it('runs 20 clients for 2 s with nothing lost, duplicated or reordered, and reports the server RSS', async () => {
    const result = await script('soak', ['--clients', '20', '--seconds', '2', '--rate', '5', '--seed', '3']);
    expect(result.stdout, result.stderr).toMatch(/^soak: 20 clients, [\d.]+ s, [\d,]+ messages sent, [\d,]+ delivered/m);
    expect(result.stdout).toMatch(/^soak: server RSS idle [\d.]+ MiB, start [\d.]+ MiB, peak [\d.]+ MiB, end [\d.]+ MiB, slope [+-][\d.]+ MiB\/min/m);
    expect(result.stdout).toMatch(/^soak: 0 failures/m);
    expect(result.code).toBe(0);
  });
});

describe('the fuzz oracle catches a wrong server', () => {
  const users = ['a', 'b', 'c'];

  it('names a wrong code, a missing or changed id, and a wrong user list', () => {
    expect(answerProblem({ answer: 'error', code: 'bad_request', id: 7 }, { type: 'error', code: 'bad_request', message: 'x', id: 7 }, users)).toBeNull();
    expect(answerProblem({ answer: 'error', code: 'bad_request', id: 7 }, { type: 'error', code: 'internal', message: 'x', id: 7 }, users)).toBe('expected error bad_request');
    expect(answerProblem({ answer: 'error', code: 'bad_request', id: 7 }, { type: 'error', code: 'bad_request', message: 'x' }, users)).toBe('expected id 7');
    expect(answerProblem({ answer: 'error', code: 'bad_frame' }, { type: 'error', code: 'bad_frame', message: 'x', id: 7 }, users)).toBe('expected no id');
    expect(answerProblem({ answer: 'pong', id: '1' }, { type: 'pong', ts: 1, id: 1 }, users)).toMatch(/^expected pong/);
    expect(answerProblem({ answer: 'users', id: 2 }, { type: 'users', users: ['a', 'b'], id: 2 }, users)).toMatch(/^expected users/);
  });

  it('reports a relay never sent, one in the wrong place, one lost, and a msgid given twice', () => {
    const oracle = new Oracle(users);
    const say = (text: string, to?: string): Relay => ({ from: 'a', text, ...(to !== undefined && { to }), seen: [], waiting: 0 });
    const first = say('one');
    const second = say('two', 'b');
    oracle.expectRelay(first);
    oracle.expectRelay(second);
    oracle.checkRelay('b', { type: 'message', from: 'a', text: 'one', room: 'lobby', ts: 1, msgid: 1 });
    oracle.checkRelay('b', { type: 'message', from: 'a', text: 'two', room: 'lobby', ts: 1, msgid: 2 }); // private sent as public
    oracle.checkRelay('c', { type: 'message', from: 'b', text: 'never said', room: 'lobby', ts: 1, msgid: 3 });
    oracle.acknowledged(first, 1);
    oracle.acknowledged(second, 1);
    expect(oracle.mismatches).toEqual([
      'b expected from a {"text":"two","to":"b"}, got {"type":"message","from":"a","text":"two","room":"lobby","ts":1,"msgid":2}',
      'c got a message nobody sent it: {"type":"message","from":"b","text":"never said","room":"lobby","ts":1,"msgid":3}',
      'msgid 1 given twice (again to a\'s say "two")',
    ]);
    expect(oracle.outstandingRelays()).toBe(1); // c never got "one"
  });
});

describe('the soak check catches loss, duplicates and reordering', () => {
  it('reports each fault once, with who, from whom and on which channel', () => {
    const failures: string[] = [];
    const check = new SequenceCheck('bob', (failure) => failures.push(failure));
    const message = (n: number, c: number, channel: string) => ({ type: 'message', from: 'alice', text: soakText(n, c, channel), ts: 1, room: channel });
    check.receive(message(1, 1, 'lobby'));
    check.receive(message(2, 1, 'r1'));
    check.receive(message(2, 1, 'r1')); // duplicate
    check.receive(message(5, 3, 'lobby')); // c2 lost
    check.receive(message(4, 1, 'r2')); // came after n5
    expect(failures).toEqual([
      "bob: alice's message n2 came after n2 (duplicate)",
      'bob: alice on r1 sent c1 after c1 (duplicate or reordered)',
      'bob: alice on lobby sent c3 after c1 (1 lost)',
      "bob: alice's message n4 came after n5 (reordered)",
    ]);
    expect(check.count('alice', 'lobby')).toBe(3);
    expect(check.count('alice', 'r1')).toBe(1);
  });
});
