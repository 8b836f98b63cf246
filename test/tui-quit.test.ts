/**
 * Quitting every full-screen UI at once: `q` or Ctrl-C stops what runs behind it (the demo's
 * script, the inspector, the server) and hands the terminal back, without waiting for the script
 * to play out. Each test waits for the process to exit and compares with how long the script or
 * connection would have kept it running, never with a tight budget.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient } from '../src/client/index.ts';
import { startTestServer, type TestServer } from '../test-support/chat-server.ts';
import { startCliTerminal, type CliTerminal } from '../test-support/cli-terminal.ts';

/**
 * The paced demo pauses 700 ms before each of its 13 actions: once the first is narrated, over
 * 8 s of script are left. Quitting must end the process well before that.
 */
const QUIT_BOUND_MS = 3_000;

let tty: CliTerminal | undefined;
let chat: TestServer | undefined;
let silent: net.Server | undefined;
const clients: ChatClient[] = [];
afterEach(async () => {
  silent?.close();
  silent = undefined;
  tty?.close();
  tty = undefined;
  for (const client of clients.splice(0)) client.destroy();
  await chat?.stop();
  chat = undefined;
});

/**
 * A chatlab/1 server that greets and welcomes anyone, then never answers again (a hung server,
 * or one behind a slow link): a client's `quit` gets no `bye`.
 */
async function startUnansweringServer(): Promise<number> {
  silent = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.write(JSON.stringify({ type: 'hello', protocol: 'chatlab/1' }) + '\n');
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      if (!buffered.includes('\n')) return;
      socket.off('data', onData);
      socket.write(JSON.stringify({ type: 'welcome', user: 'bob', users: ['bob'] }) + '\n');
      socket.resume();
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => silent!.listen(0, '127.0.0.1', resolve));
  return (silent.address() as net.AddressInfo).port;
}

/** Presses `keys` and resolves with the exit code and the ms until the process exited. */
async function quitWith(terminal: CliTerminal, keys: string): Promise<{ code: number; ms: number }> {
  const pressed = performance.now();
  terminal.type(keys);
  const code = await terminal.exited;
  return { code, ms: performance.now() - pressed };
}

/** The terminal is handed back: the normal screen (not the UI's alternate one), cursor shown. */
function expectTerminalRestored(terminal: CliTerminal): void {
  expect(terminal.term.buffer.active.type).toBe('normal');
  expect(terminal.output()).toMatch(/\x1b\[\?25h(?![\s\S]*\x1b\[\?25l)/);
}

describe('quitting a terminal UI', () => {
  for (const [name, keys] of [
    ['q', 'q'],
    ['Ctrl-C', '\x03'],
  ] as const) {
    it(`${name} while the paced demo still plays stops the script, the inspector and the server at once`, async () => {
      tty = startCliTerminal(['demo'], { cols: 120, rows: 36, name: 'xterm-256color', waitMs: 20_000 });
      await tty.shows(/alice connects and waits for hello/, 'the first narration');
      const { code, ms } = await quitWith(tty, keys);
      expect(code).toBe(0);
      expect(ms).toBeLessThan(QUIT_BOUND_MS);
      expectTerminalRestored(tty);
      await tty.shows(/demo stopped/, 'the stop line after the UI closed');
      expect(tty.output()).not.toContain('demo finished without seeing all 10 steps');
    });
  }

  it('Ctrl-C in the plain view of the paced demo stops it the same way, with the checklist so far', async () => {
    tty = startCliTerminal(['demo', '--plain'], { cols: 120, rows: 36, name: 'xterm-256color', waitMs: 20_000 });
    await tty.shows(/── alice connects and waits for hello/, 'the first narration');
    const { code, ms } = await quitWith(tty, '\x03');
    expect(code).toBe(0);
    expect(ms).toBeLessThan(QUIT_BOUND_MS);
    const text = tty.allRows().join('\n');
    expect(text).toMatch(/10-step checklist: \d+\/10 seen/);
    expect(text).toMatch(/demo stopped before the end \(\d+\/10 steps seen\)/);
  });

  it('Ctrl-C in the client leaves at once even when the server never answers quit with bye', async () => {
    const port = await startUnansweringServer();
    // The client waits 10 s for an answer by default: leaving must not.
    tty = startCliTerminal(['client', '--user', 'bob', '--password', 'builder', '--port', String(port)], { cols: 100, rows: 30, name: 'xterm-256color', waitMs: 20_000 });
    await tty.shows(/bob \(you\)/, "bob's own name in the user list");
    const { code, ms } = await quitWith(tty, '\x03');
    expect(code).toBe(0);
    expect(ms).toBeLessThan(QUIT_BOUND_MS);
    expectTerminalRestored(tty);
    await tty.shows(/\* left the chat at 127\.0\.0\.1:\d+/, 'the goodbye line after the UI closed');
  });

  it('q in the inspector quits at once while a client stays connected', async () => {
    chat = await startTestServer();
    tty = startCliTerminal(['inspect', '--listen', '0', '--target', `127.0.0.1:${chat.port}`], { cols: 120, rows: 36, name: 'xterm-256color', waitMs: 20_000 });
    await tty.shows(/listening on 127\.0\.0\.1:\d+/, 'the listening line');
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(tty.screen().join('\n'))?.[1]);
    const bob = await ChatClient.connect({ port });
    clients.push(bob);
    bob.on('error', () => undefined);
    await bob.login('bob', 'builder');
    await tty.shows(/welcome/, "bob's welcome arrow");
    const { code, ms } = await quitWith(tty, 'q');
    expect(code).toBe(0);
    expect(ms).toBeLessThan(QUIT_BOUND_MS);
    expectTerminalRestored(tty);
  });
});
