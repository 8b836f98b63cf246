/**
 * `chatlab demo --cluster`: a real redis-server, two cluster nodes and an inspector in front of
 * each, all on free ports; alice through node A, bob and carol through node B.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runClusterDemo } from '../src/demo/cluster-demo.ts';
import { cellWidth } from '../src/terminal/index.ts';
import { startCliProcess, type CliRun } from '../test-support/cli-process.ts';
import { startCliTerminal, type CliTerminal } from '../test-support/cli-terminal.ts';
import { within } from '../test-support/promises.ts';

const runs: CliRun[] = [];
const terminals: CliTerminal[] = [];
const dirs: string[] = [];
/** Stops an in-process demo a failed test left running (its redis-server would outlive the test). */
const demoStops: AbortController[] = [];
const demos: Promise<unknown>[] = [];
afterEach(async () => {
  for (const stop of demoStops.splice(0)) stop.abort(new Error('the test ended'));
  await Promise.allSettled(demos.splice(0));
  for (const run of runs.splice(0)) if (run.child.exitCode === null) run.child.kill('SIGKILL');
  for (const terminal of terminals.splice(0)) terminal.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temporary directory of the test's own, for the demo's TMPDIR: what it leaves there is visible. */
function privateTmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chatlab-demo-tmp-'));
  dirs.push(dir);
  return dir;
}

/** What the demo left in `dir` (tsx's compile cache, `tsx-<uid>`, is not the demo's). */
function leftIn(dir: string): string[] {
  return readdirSync(dir).filter((name) => !name.startsWith('tsx-'));
}

/** Whether something listens on 127.0.0.1:`port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('chatlab demo --cluster', () => {
  it('plays the chat across two nodes: alice’s say drawn by inspector A, the message bob gets by inspector B, all 10 steps on each', async () => {
    const tmp = privateTmp();
    const cli = startCliProcess(['demo', '--cluster', '--fast', '--plain'], { TMPDIR: tmp });
    runs.push(cli);
    expect(await within(cli.exited, 15_000, 'demo --cluster to finish')).toBe(0);
    expect(leftIn(tmp)).toEqual([]); // Redis's directory and the nodes' spool directory are gone
    const { stdout, stderr } = cli;
    expect(stderr).toEqual([]);
    expect(stdout[0]).toBe('chatlab demo --cluster: two nodes, one chat, shared through Redis; Ctrl-C to stop');
    expect(stdout[1]).toMatch(/^ {2}Redis {3}127\.0\.0\.1:\d+ /);
    expect(stdout[2]).toMatch(/^ {2}node A {2}127\.0\.0\.1:\d+, inspector \[A\] on 127\.0\.0\.1:\d+: alice$/);
    expect(stdout[3]).toMatch(/^ {2}node B {2}127\.0\.0\.1:\d+, inspector \[B\] on 127\.0\.0\.1:\d+: bob, carol$/);
    const said = stdout.indexOf('── alice says "hello everyone 👋"');
    const next = stdout.indexOf('── bob says "hi alice! 你好 🙂"');
    expect(said).toBeGreaterThan(0);
    const afterSay = stdout.slice(said + 1, next);
    // Node A draws her say (client → server) and its ok; node B draws the message to bob and to carol.
    expect(afterSay.filter((l) => l.startsWith('[A] '))).toEqual([
      expect.stringMatching(/^\[A\] +\+\d+\.\d{3}s \[6\] +│◀─+ say ─+┤ {2}"hello everyone 👋"/),
      expect.stringMatching(/^\[A\] +\+\d+\.\d{3}s \[7\] +├─+ ok ─+▶│/),
    ]);
    const toBobAndCarol = afterSay.filter((l) => l.startsWith('[B] '));
    expect(toBobAndCarol).toHaveLength(2);
    for (const line of toBobAndCarol) expect(line).toMatch(/^\[B\] +\+\d+\.\d{3}s \[7\] +├─+ message ─+▶│.* {2}alice: "hello every/);
    // Bob's column is the first after the server's, carol's the second: one arrow ends at each.
    expect(new Set(toBobAndCarol.map((l) => l.indexOf('▶'))).size).toBe(2);
    // The diagrams fit 80 columns, label included.
    const rows = stdout.filter((l) => /^\[[AB]\] +(time|\+\d)/.test(l));
    expect(rows.length).toBeGreaterThan(40);
    expect(rows.filter((l) => cellWidth(l) > 80)).toEqual([]);
    expect(stdout).toContain('[A] 10-step checklist: 10/10 seen — all green');
    expect(stdout).toContain('[B] 10-step checklist: 10/10 seen — all green');
    expect(stdout.slice(-6)).toEqual([
      'node A saw 10/10 steps: 1 2 3 4 5 6 7 8 9 10',
      'node B saw 10/10 steps: 1 2 3 4 5 6 7 8 9 10',
      'the chat crossed the nodes, through Redis:',
      "  alice's say on node A reached bob and carol on node B",
      "  bob's say on node B reached alice on node A",
      "  carol's say on node B reached alice on node A",
    ]);
  });

  it('without redis-server on PATH: one line naming the package, exit 1', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'chatlab-no-redis-'));
    dirs.push(empty);
    const cli = startCliProcess(['demo', '--cluster', '--fast'], { PATH: empty });
    runs.push(cli);
    expect(await within(cli.exited, 10_000, 'demo --cluster to exit')).toBe(1);
    expect(cli.stderr).toEqual(['chatlab: demo --cluster: redis-server is not installed (apt-get install redis-server)']);
    expect(cli.stdout).toEqual([]);
  });

  it('its output closed (`| head`): it exits at once and leaves neither Redis running nor its directories', async () => {
    const tmp = privateTmp();
    const cli = startCliProcess(['demo', '--cluster', '--fast'], { TMPDIR: tmp });
    runs.push(cli);
    const redisPort = Number(/:(\d+) /.exec(await cli.line(/^ {2}Redis {3}/))?.[1]);
    cli.child.stdout.destroy();
    expect(await within(cli.exited, 10_000, 'demo --cluster to exit')).toBe(0);
    expect(leftIn(tmp)).toEqual([]);
    expect(await listening(redisPort)).toBe(false);
  });

  it('stopped midway (Ctrl-C, a signal), it stops everything it started: Redis, both nodes, both inspectors', async () => {
    const out = new PassThrough();
    let text = '';
    const stop = new AbortController();
    demoStops.push(stop);
    const introduced = new Promise<void>((resolve) => {
      out.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes(': bob, carol\n')) resolve();
      });
    });
    // A minute before each action: the script is in its first pause when the stop comes.
    const played = runClusterDemo({ paceMs: 60_000, output: out, color: false, signal: stop.signal });
    demos.push(played);
    await within(introduced, 10_000, 'the intro lines');
    const ports = [...text.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
    expect(ports).toHaveLength(5); // Redis, node A and its inspector, node B and its inspector
    expect(await Promise.all(ports.map(listening))).toEqual([true, true, true, true, true]);
    stop.abort(new Error('stopped by Ctrl-C'));
    const result = await within(played, 5_000, 'the demo to stop');
    expect(result.stopped).toBe(true);
    expect(await Promise.all(ports.map(listening))).toEqual([false, false, false, false, false]);
  });

  it('Ctrl-C in a terminal stops it where it is: no stack trace, exit 0, Redis and the nodes gone', async () => {
    // A terminal: the watching pace (an action every 0.7 s), and Ctrl-C reaches the whole foreground process group.
    const tty = startCliTerminal(['demo', '--cluster'], { cols: 80, rows: 40 });
    terminals.push(tty);
    await tty.shows(/── alice logs in with a wrong password/, 'the second narration line', () => tty.allRows());
    const ports = [
      ...tty
        .allRows()
        .join('\n')
        .matchAll(/127\.0\.0\.1:(\d+)/g),
    ]
      .slice(0, 5)
      .map((m) => Number(m[1]));
    expect(ports).toHaveLength(5);
    tty.type('\x03');
    expect(await within(tty.exited, 10_000, 'demo --cluster to exit after Ctrl-C')).toBe(0);
    const text = tty.allRows().join('\n');
    // Joined without breaks: the 80-column terminal wraps this line.
    expect(tty.allRows().join('')).toMatch(/demo stopped before the end \(steps seen: node A \d+\/10, node B \d+\/10\); run it again to watch it all/);
    expect(text).not.toMatch(/Error|\n +at |lost Redis/);
    expect(await Promise.all(ports.map(listening))).toEqual([false, false, false, false, false]);
  });
});
