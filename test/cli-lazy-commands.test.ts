/**
 * `chatlab <command>` loads only that command's modules: `chatlab server` must not pay (in
 * memory and start-up time) for the client's terminal UI, markdown rendering, the inspector or
 * the verifier. The whole tree is still there for help and suggestions, and for the docs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { COMMAND_LOADERS } from '../src/cli/command-loaders.ts';
import { buildProgram } from '../src/cli/program.ts';
import { REPO_ROOT, startCliProcess, type CliRun } from './helpers/cli-process.ts';

const runs: CliRun[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const run of runs.splice(0)) if (run.child.exitCode === null) run.child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('lazy command modules', () => {
  it('`chatlab server` loads neither the client, the inspector, the verifier, the lessons nor their libraries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatlab-modules-'));
    dirs.push(dir);
    const log = join(dir, 'modules.txt');
    const hook = join(REPO_ROOT, 'test/fixtures/record-module-urls.mjs');
    const cli = startCliProcess(['server', '--port', '0', '--db', ':memory:'], { NODE_OPTIONS: `--import ${hook}`, CHATLAB_MODULE_LOG: log });
    runs.push(cli);
    await cli.line(/^chatlab server listening on /);
    cli.child.kill('SIGTERM');
    await cli.exited;
    const loaded = readFileSync(log, 'utf8').split('\n');
    expect(loaded.some((url) => url.includes('/src/server/chat-server.ts'))).toBe(true); // the log works
    const unused = loaded.filter((url) => /\/node_modules\/(blessed|blessed-contrib|marked|marked-terminal|diff)\/|\/src\/(client|inspector|verify|lessons|demo)\//.test(url));
    expect([...new Set(unused)]).toEqual([]);
  });

  it('knows every command of the full program, in the same order', () => {
    expect(Object.keys(COMMAND_LOADERS)).toEqual(buildProgram().commands.map((command) => command.name()));
  });
});
