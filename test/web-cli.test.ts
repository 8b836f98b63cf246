/**
 * `chatlab web` as a user runs it: it says where it listens, what it bridges to and how to stop
 * it, serves the page, notes a target that does not answer, stops on Ctrl-C; a busy port or a
 * bad --target is one clear line and a non-zero exit, never a stack trace.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-support/chat-server.ts';
import { startCliProcess, type CliRun } from '../test-support/cli-process.ts';

const runs: CliRun[] = [];
let chat: TestServer | undefined;

function web(args: string[]): CliRun {
  const run = startCliProcess(['web', ...args], {}, 30_000);
  runs.push(run);
  return run;
}

afterEach(async () => {
  for (const run of runs.splice(0)) if (run.child.exitCode === null) run.child.kill('SIGKILL');
  await chat?.stop();
  chat = undefined;
});

describe('chatlab web', () => {
  it('prints its URL and target, serves the page, and stops on SIGINT', async () => {
    chat = await startTestServer();
    const run = web(['--port', '0', '--target', `127.0.0.1:${chat.port}`]);
    const banner = await run.line(/^chatlab web on /);
    const match = /^chatlab web on (http:\/\/127\.0\.0\.1:\d+\/) → bridging to 127\.0\.0\.1:(\d+) \(Ctrl-C to stop\)$/.exec(banner);
    expect(match?.[2]).toBe(String(chat.port));
    const page = await fetch(match?.[1] as string);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="app"></div>');
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.stdout).toContain('chatlab web stopped');
    expect(run.stdout.join('\n')).not.toMatch(/^note:/m);
  });

  it('notes a target where nothing listens, and still runs', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    await new Promise((resolve) => blocker.close(resolve));
    const run = web(['--port', '0', '--target', `127.0.0.1:${port}`]);
    await run.line(new RegExp(`^note: 127\\.0\\.0\\.1:${port}: nothing listens there yet; start a server \\(npx chatlab server\\) or pass --target$`));
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('reports a busy port and a bad --target in one line, exiting non-zero', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as { port: number }).port;
      const busy = web(['--port', String(port)]);
      expect(await busy.exited).toBe(1);
      expect(busy.stderr.filter((l) => l !== '')).toEqual([`chatlab: address already in use (127.0.0.1:${port}): pick another --port`]);
    } finally {
      blocker.close();
    }
    const bad = web(['--target', 'nowhere']);
    expect(await bad.exited).not.toBe(0);
    expect(bad.stderr.filter((l) => l !== '')).toEqual([`error: option '--target <host:port>' argument 'nowhere' is invalid. "nowhere" is not host:port (for example 127.0.0.1:7070).`]);
  });
});
