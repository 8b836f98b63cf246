import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient } from '../src/client/index.ts';
import { parseTrace } from '../src/inspector/trace.ts';
import { startTestServer, type TestServer } from '../test-support/chat-server.ts';
import { startCliProcess } from '../test-support/cli-process.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', 'bin', 'chatlab.js');

let chat: TestServer | undefined;
let child: ChildProcess | undefined;
let dir: string | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
  await chat?.stop();
  chat = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('chatlab inspect (CLI)', () => {
  it('prints where it listens, draws a session as text when stdout is not a terminal, records it, and stops on Ctrl-C', async () => {
    chat = await startTestServer();
    dir = await mkdtemp(join(tmpdir(), 'chatlab-cli-'));
    const trace = join(dir, 'trace.jsonl');
    const cli = startCliProcess(['inspect', '--listen', '0', '--target', `127.0.0.1:${chat.port}`, '--record', trace, '--show-reads', '--fragment', '16'], {}, 15_000);
    child = cli.child;
    const listening = /^chatlab inspect listening on 127\.0\.0\.1:(\d+) → forwarding to 127\.0\.0\.1:\d+ \(framing auto; faults \{"fragment":16\}; recording .*; Ctrl-C to stop\)$/;
    const [, port] = listening.exec(await cli.line(listening)) as RegExpExecArray;

    const alice = await ChatClient.connect({ port: Number(port) });
    await alice.login('alice', 'wonderland');
    await alice.say('through the CLI 👋');
    await alice.quit();
    await cli.line(/server closed its side \(FIN\)/);

    child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
    const text = cli.stdout.join('\n');
    // --fragment 16: the say frame arrives in several pieces, and --show-reads draws them.
    expect(text).toMatch(/read #\d+ ┄*▶│ {2}16 B: the start of a frame \(16 B held\)/);
    expect(text).toMatch(/\[6\] +│◀─+ say ─+┤ {2}"through the CLI 👋"/);
    expect(text).toContain('10-step checklist:');
    expect(text).toContain(`trace written to ${trace}`);
    const events = parseTrace(await readFile(trace, 'utf8'));
    expect(events[0]).toMatchObject({ kind: 'listening', faults: { fragment: 16 } });
    expect(events.filter((e) => e.kind === 'data').every((e) => e.kind === 'data' && e.bytes.length <= 16)).toBe(true);
  });

  it('hides keep-alive ping/pong by default and counts them; --show-keepalive draws them; --type -say hides a type', async () => {
    chat = await startTestServer();
    const session = async (args: string[]): Promise<string> => {
      const cli = startCliProcess(['inspect', '--listen', '0', '--target', `127.0.0.1:${chat!.port}`, ...args], {}, 15_000);
      child = cli.child;
      const [, port] = /listening on 127\.0\.0\.1:(\d+) /.exec(await cli.line(/^chatlab inspect listening on /)) as RegExpExecArray;
      const bob = await ChatClient.connect({ port: Number(port) });
      await bob.login('bob', 'builder');
      await bob.ping();
      await bob.ping();
      await bob.say('still here');
      await bob.quit();
      await cli.line(/server closed its side \(FIN\)/);
      child.kill('SIGINT');
      expect(await cli.exited).toBe(0);
      return cli.stdout.join('\n');
    };

    const hidden = await session(['--type', '!say']);
    expect(hidden).not.toMatch(/─ (ping|pong) ─/);
    expect(hidden).not.toMatch(/─ say ─/);
    expect(hidden).toMatch(/─ welcome ─/);
    expect(hidden).toContain('4 keep-alive hidden (ping/pong rows; --show-keepalive shows them)');

    const shown = await session(['--show-keepalive']);
    expect(shown.match(/│◀─+ ping ─+┤/g)).toHaveLength(2);
    expect(shown.match(/├─+ pong ─+▶│/g)).toHaveLength(2);
    expect(shown).toMatch(/─ say ─/);
    expect(shown).not.toContain('keep-alive hidden');
  });

  it('stops cleanly on SIGHUP (the terminal was closed) and SIGTERM, closing the connections it carries', async () => {
    chat = await startTestServer();
    for (const signal of ['SIGHUP', 'SIGTERM'] as const) {
      const cli = startCliProcess(['inspect', '--listen', '0', '--target', `127.0.0.1:${chat.port}`], {}, 15_000);
      child = cli.child;
      const [, port] = /listening on 127\.0\.0\.1:(\d+) /.exec(await cli.line(/^chatlab inspect listening on /)) as RegExpExecArray;
      const client = await ChatClient.connect({ port: Number(port) });
      const closed = new Promise((resolve) => client.once('close', resolve));
      child.kill(signal);
      expect(await cli.exited, `${signal}: ${cli.stderr.join('\n')}`).toBe(0);
      expect(cli.stdout.join('\n')).toContain('10-step checklist:');
      await closed;
    }
  });

  it('reports bad options and a busy port in one line, exit code 1', async () => {
    const badTarget = await run(process.execPath, [CLI, 'inspect', '--target', 'nowhere']).catch((e: { code: number; stderr: string }) => e);
    expect(badTarget).toMatchObject({ code: 1 });
    expect((badTarget as { stderr: string }).stderr).toMatch(/"nowhere" is not host:port/);
    const mixedType = await run(process.execPath, [CLI, 'inspect', '--type', 'say,-ping']).catch((e: { code: number; stderr: string }) => e);
    expect(mixedType).toMatchObject({ code: 1 });
    expect((mixedType as { stderr: string }).stderr).toMatch(
      /^error: option '--type <types>' argument 'say,-ping' is invalid\. "say,-ping" mixes types to show and to hide: prefix every type with - \(or !\) to hide it, or none to show only those\.\n$/,
    );

    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const busyPort = (busy.address() as net.AddressInfo).port;
    try {
      const inUse = await run(process.execPath, [CLI, 'inspect', '--listen', String(busyPort), '--plain']).catch((e: { code: number; stderr: string }) => e);
      expect(inUse).toMatchObject({ code: 1, stderr: `chatlab: address already in use (127.0.0.1:${busyPort}): pick another --listen port\n` });
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });
});
