/**
 * Records a real chat session for the docs' main diagram by running the demo exactly as a user
 * would, `chatlab demo --fast --plain --record <trace>`: the reference server, the inspector in
 * front of it, and the scripted alice, bob and carol going through all ten steps. The demo exits
 * non-zero unless the inspector saw all ten steps, so a broken flow fails the docs build.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../docs/.vitepress/lessons.ts';

const DEMO_TIMEOUT_MS = 60_000;

/** Runs the demo, recording to `trace` (overwritten); resolves with the trace's path. */
export async function recordCoreFlow(trace: string): Promise<string> {
  mkdirSync(dirname(trace), { recursive: true });
  rmSync(trace, { force: true });
  const args = [join(REPO_ROOT, 'bin', 'chatlab.js'), 'demo', '--fast', '--plain', '--record', trace];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`chatlab demo did not finish within ${DEMO_TIMEOUT_MS / 1000} s:\n${output.slice(-2000)}`));
    }, DEMO_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  if (code !== 0) throw new Error(`chatlab demo --record failed (exit ${code}):\n${output.slice(-2000)}`);
  if (!existsSync(trace) || statSync(trace).size === 0) throw new Error(`chatlab demo --record wrote nothing to ${trace}`);
  return trace;
}
