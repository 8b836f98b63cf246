/**
 * `chatlab lesson --lang`: the Python track from the command line, as a learner runs it. Each test
 * has a cache folder of its own, since the chosen track is remembered there. Each runs several
 * chatlab processes in turn: their bound is 60 s, for a loaded machine (they take ~10 s).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChatlab, type CliResult } from '../../../test-support/cli-process.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { findTrackLesson, inTrack, listLessons, listTrackLessons } from '../../lessons/runtime/index.ts';

const scratch = mkdtempSync(join(tmpdir(), 'chatlab-lesson-lang-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A `chatlab` runner with its own private cache folder (so its own remembered track). */
function chatlabWithCache(name: string) {
  const cacheDir = join(scratch, name);
  return (args: string[], timeoutMs = 30_000): Promise<CliResult> => runChatlab(args, { cacheDir, timeoutMs });
}

const lessonLines = (stdout: string): string[] => stdout.split('\n').filter((line) => /^\d\d {2}/.test(line));

describe.concurrent('chatlab lesson --lang', () => {
  it('lists the Python track, remembers the choice until another --lang, and says which lessons a track lacks', async () => {
    const chatlab = chatlabWithCache('remember');
    const [python, wrong] = await Promise.all([chatlab(['lesson', 'list', '--lang', 'python']), chatlab(['lesson', 'list', '--lang', 'ruby'])]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toContain('"ruby" is not a lesson track: choose node or python.');
    expect(python.code, python.stderr).toBe(0);
    expect(python.stdout).toMatch(/^The lessons in Python \(also in Node\.js: --lang node\)\.$/m);
    const numbers = listTrackLessons('python').map((lesson) => lesson.number);
    expect(lessonLines(python.stdout)).toHaveLength(numbers.length);

    // The first lesson the Python track lacks (while there is one), asked for with the remembered track.
    const missing = listLessons().find((lesson) => !inTrack(lesson, 'python') && lesson.notInTrack?.python === undefined);
    if (missing) {
      const remembered = await chatlab(['lesson', 'show', String(missing.number)]);
      expect(remembered.code).not.toBe(0);
      expect(remembered.stderr.trim()).toMatch(
        new RegExp(`^chatlab: lesson ${missing.number} has no Python version yet: the Python track has lessons 1 to \\d+.* \\(see chatlab lesson list --lang python\\)\\.$`),
      );
    }

    const node = await chatlab(['lesson', 'list', '--lang', 'node']);
    expect(lessonLines(node.stdout)).toHaveLength(listLessons().length);
  }, 60_000);

  it('checks a Python lesson through the same steps, its broken copy failing at the same step', async () => {
    const chatlab = chatlabWithCache('check');
    const check = await chatlab(['lesson', 'check', '7', '--lang', 'python']);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain('checking lesson 07 07-relay in Python (chatlab verify --through 7)…');
    expect(check.stdout).toMatch(
      /^lesson 07 07-relay: passes\n {2}server\.py: passes steps 1–7 \(\d+ checks\)\n {2}client\.py: passes steps 1–7 \(\d+ checks\)\n {2}server-naive\.py: fails at step 7 \([^)]+\), as it should$/m,
    );
    const list = await chatlab(['lesson', 'list']);
    expect(list.stdout).toMatch(/^07 {2}Relay: to everyone else, from the server +✓ passes$/m);
  }, 60_000);

  it('shows and diffs the Python code, with the Node code after it in show', async () => {
    const chatlab = chatlabWithCache('show');
    const [show, diff] = await Promise.all([chatlab(['lesson', 'show', '4', '--lang', 'python']), chatlab(['lesson', 'diff', '4', '--fix', '--lang', 'python'])]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('--- 04-login/server-naive.py');
    expect(show.stdout).toContain('$ python3 server.py');
    expect(show.stdout).toContain('What changed, in Node.js: server.mjs and client.mjs');
    expect(show.stdout.indexOf('+++ 04-login/server.py')).toBeLessThan(show.stdout.indexOf('+++ 04-login/server.mjs'));
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toContain('--- 04-login/server-naive.py\n+++ 04-login/server.py');
  }, 60_000);

  it("init lays out the previous lesson's Python code and never overwrites it", async () => {
    const chatlab = chatlabWithCache('init');
    const dir = join(scratch, 'my-chat');
    const init = await chatlab(['lesson', 'init', '6', dir, '--lang', 'python']);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain(`lesson 06 (Python): ${join(dir, '06-say')} holds lesson 05's server.py and client.py`);
    expect(init.stdout).toContain(`check your work:  npx chatlab lesson check 6 --lang python --dir ${join(dir, '06-say')}`);
    expect(existsSync(join(dir, '06-say', 'client.py')) && existsSync(join(dir, 'accounts.json'))).toBe(true);
    const again = await chatlab(['lesson', 'init', '6', dir]);
    expect(again.code).not.toBe(0);
    expect(again.stderr.trim()).toBe(`chatlab: ${join(dir, '06-say')} already exists and is not empty: pick another folder (your work there is left as it is).`);
  }, 60_000);

  it('says in one line why lesson 14 is Node.js only in Python: show goes on with its README, check and run stop non-zero', async () => {
    const chatlab = chatlabWithCache('node-only');
    const why = /^lesson 14 is Node\.js only: .*has no Redis client.*redis-py \(pip install redis\).*\.$/;
    const [show, check, run, list] = await Promise.all([
      chatlab(['lesson', 'show', '14', '--lang', 'python']),
      chatlab(['lesson', 'check', '14', '--lang', 'python']),
      chatlab(['lesson', 'run', '14', '--lang', 'python', '--once']),
      chatlab(['lesson', 'list', '--lang', 'python']),
    ]);
    for (const stopped of [check, run]) {
      expect(stopped.code).not.toBe(0);
      expect(stopped.stderr.trim().split('\n')).toHaveLength(1);
      expect(stopped.stderr.trim().replace(/^chatlab: /, '')).toMatch(why);
    }
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout.split('\n')[0]).toMatch(why);
    expect(show.stdout).toContain('# Lesson 14 · Two servers, one chat');
    expect(list.stdout).toMatch(/^Not in Python: 14 Two servers, one chat \(chatlab lesson show 14 says why\)\.$/m);
  }, 60_000);

  it("init of the UDP lesson lays out lesson 10's Python code and points at the lesson's own check, not a TCP one", async () => {
    const chatlab = chatlabWithCache('init-udp');
    const dir = join(scratch, 'my-udp-chat');
    const init = await chatlab(['lesson', 'init', '15', dir, '--lang', 'python']);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain(`lesson 15 (Python): ${join(dir, '15-udp')} holds lesson 10's server.py and client.py`);
    expect(init.stdout).toContain(`check your work:  npx chatlab lesson check 15 --lang python --dir ${join(dir, '15-udp')}`);
    // The client checks speak TCP: they cannot check a UDP client, so init must not suggest them.
    expect(init.stdout).not.toContain('verify --client');
  }, 60_000);

  it('check --dir says in one line when the folder holds no server of the lesson', async () => {
    const chatlab = chatlabWithCache('check-dir-empty');
    const empty = join(scratch, 'nothing-here');
    mkdirSync(empty, { recursive: true });
    const check = await chatlab(['lesson', 'check', '12', '--lang', 'python', '--dir', empty]);
    expect(check.code).not.toBe(0);
    expect(check.stderr.trim()).toBe(`chatlab: ${empty} has no server.py: --dir is a folder with your server.py (chatlab lesson init 12 lays one out).`);
  }, 60_000);

  it('check --dir of the TLS lesson, on the plain-text server init laid out, says the TLS handshake with it failed', async () => {
    const chatlab = chatlabWithCache('check-dir-plain-tls');
    const dir = join(scratch, 'not-tls-yet');
    expect((await chatlab(['lesson', 'init', '13', dir, '--lang', 'node'])).code).toBe(0);
    const check = await chatlab(['lesson', 'check', '13', '--lang', 'node', '--dir', join(dir, '13-tls')], 60_000);
    expect(check.code).not.toBe(0);
    expect(check.stdout).toMatch(/^ {2}server\.mjs: fails at 2\.\S+: .*; the TLS handshake with your server failed \(ERR_SSL_WRONG_VERSION_NUMBER\)$/m);
  }, 90_000);
});

/**
 * The command `lesson init` prints to check the learner's work must check the lesson's step as the
 * lesson's own check does, whatever its kind: plain (12, with the extension groups), TLS (13: a
 * plain `chatlab verify` cannot even get a hello from it) and UDP (15). Each printed command is run
 * as printed, on the folder once the step is done (the lesson's own programs put there).
 */
describe.concurrent('the check lesson init prints', () => {
  // One lesson of each kind, the tracks alternating (a whole lesson check is seconds of CPU each).
  for (const [number, track] of [
    [12, 'node'],
    [13, 'python'],
    [15, 'python'],
  ] as const) {
    it(`checks lesson ${number} (${track}) in the learner's folder, past step 1 and through the step`, async () => {
      const chatlab = chatlabWithCache(`init-check-${track}-${number}`);
      const dir = join(scratch, `done-${track}-${number}`);
      const init = await chatlab(['lesson', 'init', String(number), dir, '--lang', track]);
      expect(init.code, init.stderr).toBe(0);
      const printed = /^ {2}check your work: {2}npx chatlab (.+)$/m.exec(init.stdout)?.[1];
      expect(printed, init.stdout).toBeDefined();
      const lesson = findTrackLesson(number, track)!;
      const folder = join(dir, lesson.slug);
      for (const file of [lesson.server, lesson.client!]) copyFileSync(join(lesson.dir, file), join(folder, file));
      const check = await chatlab(printed!.split(' '), 60_000);
      // Past step 1: a check of a later step passed (UDP has no step 2 or 3: its next is 5).
      expect(check.stdout, check.stderr).toMatch(/^ ✓ +([2-9]|1\d) /m);
      expect(check.stdout).toMatch(new RegExp(`^lesson ${number} ${lesson.slug}: passes$`, 'm'));
      expect(check.code, check.stdout).toBe(0);
    }, 90_000);
  }
});
