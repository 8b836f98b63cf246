/**
 * `chatlab <command>` loads only that command's modules: `chatlab server` must not pay (in
 * memory and start-up time) for the client's terminal UI, markdown rendering, the inspector or
 * the verifier. The whole tree is still there for help and suggestions, and for the docs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { COMMAND_LOADERS } from '../src/cli/command-loaders.ts';
import { buildProgram } from '../src/cli/program.ts';
import { SERVER_NAME } from '../src/server/index.ts';
import { CLI_WAIT_MS, REPO_ROOT, startCliProcess, type CliRun } from '../test-support/cli-process.ts';

const runs: CliRun[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const run of runs.splice(0)) if (run.child.exitCode === null) run.child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('lazy command modules', () => {
  it('`chatlab server` loads neither the client, the inspector, the verifier, the lessons, the cluster (without --redis) nor their libraries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatlab-modules-'));
    dirs.push(dir);
    const log = join(dir, 'modules.txt');
    const hook = join(REPO_ROOT, 'test/fixtures/record-module-urls.mjs');
    // From source, module by module: the log names each source file that loads.
    const cli = startCliProcess(['server', '--port', '0', '--db', ':memory:'], { NODE_OPTIONS: `--import ${hook}`, CHATLAB_MODULE_LOG: log }, CLI_WAIT_MS, 'source');
    runs.push(cli);
    await cli.line(/^chatlab server listening on /);
    cli.child.kill('SIGTERM');
    await cli.exited;
    const loaded = readFileSync(log, 'utf8').split('\n');
    expect(loaded.some((url) => url.includes('/src/server/chat-server.ts'))).toBe(true); // the log works
    const unused = loaded.filter((url) =>
      /\/node_modules\/(blessed|blessed-contrib|marked|marked-terminal|diff|ioredis)\/|\/src\/(client|inspector|verify|lessons|demo)\/|\/src\/server\/cluster\/(?!defaults\.ts)/.test(url),
    );
    expect([...new Set(unused)]).toEqual([]);
  });

  it('`chatlab demo` without --cluster loads neither the cluster demo, the cluster nor ioredis', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatlab-modules-'));
    dirs.push(dir);
    const log = join(dir, 'modules.txt');
    const hook = join(REPO_ROOT, 'test/fixtures/record-module-urls.mjs');
    const cli = startCliProcess(['demo', '--fast', '--plain'], { NODE_OPTIONS: `--import ${hook}`, CHATLAB_MODULE_LOG: log }, CLI_WAIT_MS, 'source');
    runs.push(cli);
    expect(await cli.exited).toBe(0);
    const loaded = readFileSync(log, 'utf8').split('\n');
    expect(loaded.some((url) => url.includes('/src/demo/demo.ts'))).toBe(true); // the log works
    const unused = loaded.filter((url) => /\/node_modules\/ioredis\/|\/src\/demo\/cluster-demo\.ts|\/src\/server\/cluster\/(?!defaults\.ts)/.test(url));
    expect([...new Set(unused)]).toEqual([]);
  });

  it('`chatlab server` as users start it (bin/chatlab.js) runs from the prebuilt bundle, without tsx', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatlab-modules-'));
    dirs.push(dir);
    const log = join(dir, 'modules.txt');
    const hook = join(REPO_ROOT, 'test/fixtures/record-module-urls.mjs');
    const cli = startCliProcess(['server', '--port', '0', '--db', ':memory:'], { NODE_OPTIONS: `--import ${hook}`, CHATLAB_MODULE_LOG: log }, CLI_WAIT_MS, 'bin');
    runs.push(cli);
    const port = Number(/:(\d+) /.exec(await cli.line(/^chatlab server listening on /))?.[1]);
    const hello = await firstLine(port);
    expect(JSON.parse(hello)).toMatchObject({ type: 'hello', server: SERVER_NAME }); // the version is found from the bundle too
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    const loaded = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    expect(loaded.some((url) => url.includes('/node_modules/.cache/chatlab/cli-'))).toBe(true);
    expect(loaded.filter((url) => url.endsWith('.ts') || url.includes('/node_modules/tsx/'))).toEqual([]);
  });

  it('CHATLAB_FROM_SOURCE=1 runs `chatlab server` from source through tsx', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatlab-modules-'));
    dirs.push(dir);
    const log = join(dir, 'modules.txt');
    const hook = join(REPO_ROOT, 'test/fixtures/record-module-urls.mjs');
    const env = { NODE_OPTIONS: `--import ${hook}`, CHATLAB_MODULE_LOG: log, CHATLAB_FROM_SOURCE: '1' };
    const cli = startCliProcess(['server', '--port', '0', '--db', ':memory:'], env, CLI_WAIT_MS, 'bin');
    runs.push(cli);
    await cli.line(/^chatlab server listening on /);
    cli.child.kill('SIGTERM');
    await cli.exited;
    expect(readFileSync(log, 'utf8')).toContain('/src/server/chat-server.ts');
  });

  it('knows every command of the full program, in the same order', () => {
    expect(Object.keys(COMMAND_LOADERS)).toEqual(buildProgram().commands.map((command) => command.name()));
  });
});

/** The first line a server at 127.0.0.1:`port` sends. */
function firstLine(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end === -1) return;
      socket.destroy();
      resolve(text.slice(0, end));
    });
    socket.on('error', reject);
  });
}
