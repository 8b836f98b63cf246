import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { runDemo } from '../src/demo/demo.ts';
import { DEMO_MESSAGES, runScenario } from '../src/demo/scenario.ts';
import { startInspector } from '../src/inspector/index.ts';
import { startTestServer, type TestServer } from '../test-support/chat-server.ts';
import { startCliTerminal, type CliTerminal } from '../test-support/cli-terminal.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', 'bin', 'chatlab.js');

let chat: TestServer | undefined;
let tty: CliTerminal | undefined;
afterEach(async () => {
  tty?.close();
  tty = undefined;
  await chat?.stop();
  chat = undefined;
});

describe('chatlab demo', () => {
  it('plays the scripted chat through the inspector and ends all green (plain view)', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const result = await runDemo({ view: 'plain', paceMs: 0, output: out, color: false });
    expect(result.allGreen).toBe(true);
    expect(result.model.lifelines.map((l) => l.name)).toEqual(['server', 'alice', 'bob', 'carol']);
    const narration = text.split('\n').filter((l) => l.startsWith('── '));
    expect(narration).toEqual([
      '── alice connects and waits for hello',
      '── alice logs in with a wrong password',
      '── alice logs in again, with the right password',
      '── bob connects and waits for hello',
      '── bob logs in: alice sees him come online',
      '── carol connects and waits for hello',
      '── carol logs in',
      `── alice says ${JSON.stringify(DEMO_MESSAGES.alice)}`,
      `── bob says ${JSON.stringify(DEMO_MESSAGES.bob)}`,
      `── carol says ${JSON.stringify(DEMO_MESSAGES.carol)}`,
      '── carol drops without quit (her socket is destroyed): the others see her go offline',
      '── bob quits: bye to him, offline to alice, then he closes',
      '── alice quits and closes',
    ]);
    // Every diagram row of a frame carries its step badge.
    const frameRows = result.model.rows.filter((r) => r.kind === 'frame');
    expect(frameRows.every((r) => r.step !== null)).toBe(true);
    expect(text).toMatch(/\[5\] +├─+ error ─+▶│ +auth_failed: /);
    expect(text).toMatch(/\[9\] +├─+ presence ─+▶│.* carol offline \(connection_lost\)/);
    expect(text).toContain('hello everyone 👋');
    expect(text.trimEnd().split('\n').slice(-12, -1)).toEqual([
      '10-step checklist: 10/10 seen — all green',
      '  ✔  1 listen             1×',
      expect.stringMatching(/^ {2}✔ {2}2 connect +3×$/),
      expect.stringMatching(/^ {2}✔ {2}3 accept +3×$/),
      expect.stringMatching(/^ {2}✔ {2}4 login +4×$/),
      expect.stringMatching(/^ {2}✔ {2}5 verify \+ announce +\d+×$/),
      expect.stringMatching(/^ {2}✔ {2}6 send +3×$/),
      expect.stringMatching(/^ {2}✔ {2}7 relay +9×$/),
      expect.stringMatching(/^ {2}✔ {2}8 quit +2×$/),
      expect.stringMatching(/^ {2}✔ {2}9 remove \+ announce +5×$/),
      expect.stringMatching(/^ {2}✔ 10 disconnect +\d+×$/),
    ]);
  });

  it('prints each narration line after every frame that answered the action before it (plain view)', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    await runDemo({ view: 'plain', paceMs: 0, output: out, color: false });
    const lines = text.split('\n');
    // The diagram rows between two narration lines, each as "<step> <arrow label>" (notes: "note").
    const segments: string[][] = [];
    for (const line of lines) {
      if (line.startsWith('── ')) segments.push([]);
      else if (/^ +\+\d+\.\d{3}s /.test(line)) {
        const step = /^ +\S+ \[(\d+)\]/.exec(line)?.[1] ?? '-';
        const label = /[─╌]+ (\S+) [─╌]+/.exec(line)?.[1] ?? 'note';
        expect(segments.length, `a row before the first narration line: ${line}`).toBeGreaterThan(0);
        segments.at(-1)?.push(`${step} ${label}`);
      }
    }
    const sorted = (rows: string[]): string[] => [...rows].sort();
    const said = ['6 say', '7 message', '7 message', '7 ok'];
    expect(segments.map(sorted)).toEqual(
      [
        ['1 note', '2 connect', '3 hello'], // alice connects and waits for hello
        ['4 login', '5 error'], // alice logs in with a wrong password
        ['4 login', '5 welcome', '- note'], // alice logs in again
        ['2 connect', '3 hello'], // bob connects
        ['4 login', '5 welcome', '- note', '5 presence'], // bob logs in
        ['2 connect', '3 hello'], // carol connects
        ['4 login', '5 welcome', '- note', '5 presence', '5 presence'], // carol logs in
        said,
        said,
        said,
        ['10 FIN', '10 FIN', '9 presence', '9 presence'], // carol drops
        ['8 quit', '9 bye', '9 presence', '10 FIN', '10 FIN'], // bob quits
        ['8 quit', '9 bye', '10 FIN', '10 FIN'], // alice quits
      ].map(sorted),
    );
    // The answer to the wrong password is drawn before the narration of the next attempt.
    const authFailed = lines.findIndex((l) => / error .*auth_failed: /.test(l));
    const again = lines.indexOf('── alice logs in again, with the right password');
    expect(authFailed).toBeGreaterThan(0);
    expect(authFailed).toBeLessThan(again);
  });

  it('stops wherever the script is when its signal aborts: a minute-long pause ends at once, with the reason', async () => {
    chat = await startTestServer();
    const stop = new AbortController();
    const reason = new Error('quit');
    const played = runScenario({
      host: '127.0.0.1',
      port: chat.port,
      paceMs: 60_000,
      signal: stop.signal,
    });
    setImmediate(() => stop.abort(reason));
    await expect(played).rejects.toBe(reason);
  });

  it('`chatlab demo` without a terminal prints the plain diagram and exits 0', async () => {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'demo'], { timeout: 30_000 });
    expect(stderr).toBe('');
    expect(stdout.split('\n')[0]).toMatch(/^chatlab demo: reference server on 127\.0\.0\.1:\d+, inspector on 127\.0\.0\.1:\d+; alice, bob and carol chat through it$/);
    expect(stdout).toContain('10-step checklist: 10/10 seen — all green');
    expect(stdout).not.toContain('\x1b[');
  });
});

describe('`npm start` in a terminal offers the diagram in a browser too', () => {
  it('names the web view in the terminal UI; the page is built when first opened and serves the inspector', { timeout: 60_000 }, async () => {
    tty = startCliTerminal(['demo'], { cols: 200, rows: 60, name: 'xterm-256color', waitMs: 40_000 });
    const url = /web view (http:\/\/127\.0\.0\.1:\d+\/)/;
    await tty.shows((rows) => url.test(rows.join('')), 'the web view URL');
    const page = await fetch(url.exec(tty.allRows().join(''))![1]!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>chatlab inspect</title>');
  });

  it('`--no-web` serves no page', async () => {
    tty = startCliTerminal(['demo', '--no-web', '--fast'], { cols: 200, rows: 60, name: 'xterm-256color', waitMs: 20_000 });
    await tty.shows(/alice connects and waits for hello/, 'the first narration');
    expect(tty.allRows().join('')).not.toContain('web view');
  });
});

describe('the demo scenario for lessons (through a step)', () => {
  async function litSteps(through: 1 | 3 | 5 | 7): Promise<number[]> {
    chat = await startTestServer();
    const inspector = await startInspector({ target: { host: '127.0.0.1', port: chat.port }, view: 'none' });
    try {
      await runScenario({ host: inspector.address.host, port: inspector.address.port, through });
      await inspector.waitFor((m) => m.counters.connections > 0 && m.counters.open === 0, 5_000, 'the scenario connections to close');
      return inspector.model.steps.filter((s) => s.seen).map((s) => s.step);
    } finally {
      await inspector.stop();
    }
  }

  it('stops after the step a lesson has reached', async () => {
    // The reference server greets every connection, so step 3 shows even for a bare connect.
    expect(await litSteps(1)).toEqual([1, 2, 3, 10]);
    await chat?.stop();
    expect(await litSteps(3)).toEqual([1, 2, 3, 10]);
    await chat?.stop();
    // Hanging up without quit: whether the server's offline notices (step 9) still reach the
    // others depends on who goes first, so only the steps played are checked.
    const five = await litSteps(5);
    expect(five).toEqual(expect.arrayContaining([1, 2, 3, 4, 5, 10]));
    expect(five).not.toContain(6);
    expect(five).not.toContain(8);
    await chat?.stop();
    const seven = await litSteps(7);
    expect(seven).toEqual(expect.arrayContaining([1, 2, 3, 4, 5, 6, 7, 10]));
    expect(seven).not.toContain(8);
  });
});
