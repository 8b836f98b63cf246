/**
 * The fuzz-and-oracle and soak scripts at a tiny size, run exactly as `npm run fuzz` / `npm run
 * soak` run them (a child process), so they keep working: each must finish, report its figures
 * and exit 0 against the reference server. The long runs are for releases (see bench/README.md).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, testEnv } from './helpers/cli-process.ts';

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
