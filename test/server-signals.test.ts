/**
 * Supervised shutdown, end to end: every way the README starts the server (`npx chatlab server`,
 * `npm run chatlab -- server`, `node bin/chatlab.js server`) is signalled at its TOP process only,
 * as systemd, Docker or `kill <pid>` do. Each client must get `bye` (server_shutdown), the port
 * must be free again, and no process of the tree may be left behind.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, testEnv } from '../test-support/cli-process.ts';
import { FrameSocket } from '../test-support/frame-socket.ts';
import { descendants, leftRunning, stillRunning } from '../test-support/process-tree.ts';
import { within } from '../test-support/promises.ts';

const LISTENING = /^chatlab server listening on 127\.0\.0\.1:(\d+) /m;
/** npm and npx take a second or two to start on a busy machine; the server itself is quick. */
const START_MS = 20_000;
const CLIENTS = 3;

/** Every process each test started (the tree is read once it listens: npm may exit first). */
const started: number[][] = [];
afterEach(() => {
  for (const pid of stillRunning(started.splice(0).flat())) process.kill(pid, 'SIGKILL');
});

/** The start forms, as a user types them (npm's own chatter switched off). */
const FORMS: Record<string, { command: string; args: string[] }> = {
  npx: { command: 'npx', args: ['chatlab', 'server'] },
  'npm run': { command: 'npm', args: ['run', '--silent', 'chatlab', '--', 'server'] },
  bin: { command: process.execPath, args: ['bin/chatlab.js', 'server'] },
};

async function startServer(form: keyof typeof FORMS, extraArgs: string[] = []) {
  const { command, args } = FORMS[form] as { command: string; args: string[] };
  // Not a child of a test run by `npm test`: a user's shell has no npm above it.
  const env = { ...testEnv(['npm_lifecycle_event', 'npm_lifecycle_script', 'npm_command']), npm_config_update_notifier: 'false', npm_config_fund: 'false' };
  const child = spawn(command, [...args, '--port', '0', '--db', ':memory:', ...extraArgs], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const tree = [child.pid as number];
  started.push(tree);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  // 'close' comes once every process holding the pipes (npm, sh, node) has exited.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const port = await within(
    new Promise<number>((resolve, reject) => {
      const check = (): void => {
        const match = LISTENING.exec(stdout);
        if (match) resolve(Number(match[1]));
      };
      child.stdout?.on('data', check);
      void closed.then(() => reject(new Error(`exited before listening; stdout: ${stdout} stderr: ${stderr}`)));
    }),
    START_MS,
    `${form} to print its listening line`,
  );
  tree.push(...descendants(child.pid as number));
  return { child, port, closed, tree, output: () => `stdout: ${stdout}\nstderr: ${stderr}` };
}

async function expectShutdownOnSignal(form: keyof typeof FORMS, signal: NodeJS.Signals, options: { closeOutput?: boolean } = {}): Promise<void> {
  // `chatlab server --verbose | head -1`: the reader of its output is gone before the clients
  // come, and every connection writes a line.
  const server = await startServer(form, options.closeOutput ? ['--verbose'] : []);
  if (options.closeOutput) server.child.stdout?.destroy();
  const clients = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => FrameSocket.connect(server.port, { label: `client ${i}` })));
  for (const client of clients) expect(await client.next('hello')).toMatchObject({ type: 'hello' });
  process.kill(server.child.pid as number, signal);

  for (const client of clients) {
    expect(await client.next('bye', 5_000), `${form}: ${server.output()}`).toEqual({ type: 'bye', reason: 'server_shutdown' });
    client.end();
  }
  await within(server.closed, 10_000, `every process of ${form} to exit; ${server.output()}`);
  expect(await leftRunning(server.tree), `${form}: processes left behind`).toEqual([]);
  await expectPortFree(server.port);
}

function expectPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error) => reject(new Error(`port ${port} is still taken: ${error.message}`)));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

describe('the server started every documented way stops cleanly when its top process is signalled', () => {
  it('npx chatlab server: SIGTERM', () => expectShutdownOnSignal('npx', 'SIGTERM'), 40_000);
  it('npm run chatlab -- server: SIGTERM', () => expectShutdownOnSignal('npm run', 'SIGTERM'), 40_000);
  it('node bin/chatlab.js server: SIGTERM', () => expectShutdownOnSignal('bin', 'SIGTERM'), 20_000);
  it('node bin/chatlab.js server: SIGHUP (the terminal was closed)', () => expectShutdownOnSignal('bin', 'SIGHUP'), 20_000);
  it('npx chatlab server: SIGHUP, which npm does not forward', () => expectShutdownOnSignal('npx', 'SIGHUP'), 40_000);
  it('node bin/chatlab.js server whose output was closed: SIGTERM', () => expectShutdownOnSignal('bin', 'SIGTERM', { closeOutput: true }), 20_000);
});
