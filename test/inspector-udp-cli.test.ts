/**
 * `chatlab inspect --udp`, the program: it prints where it listens and the seed of its faults,
 * draws a datagram it dropped as a lost arrow, stops on Ctrl-C; bad combinations of options are
 * one line and exit code 1.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { startCliProcess, type CliRun } from '../test-support/cli-process.ts';
import { startCliTerminal } from '../test-support/cli-terminal.ts';

/** Starting the CLI (tsx, the inspector) can take a while when the whole suite runs on two cores. */
const WAIT_MS = 20_000;

const started: CliRun[] = [];
const sockets: dgram.Socket[] = [];
afterEach(() => {
  for (const run of started.splice(0)) run.child.kill('SIGKILL');
  for (const socket of sockets.splice(0)) socket.close();
});

async function udpSocket(): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  sockets.push(socket);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket;
}

describe('chatlab inspect --udp', () => {
  it('prints its seed, draws a dropped datagram as lost, and counts it when stopped', { timeout: 60_000 }, async () => {
    const server = await udpSocket();
    const received: string[] = [];
    server.on('message', (bytes) => received.push(String(bytes)));
    const cli = startCliProcess(['inspect', '--udp', '--plain', '--listen', '0', '--target', `127.0.0.1:${server.address().port}`, '--loss', '1', '--seed', '3'], {}, WAIT_MS);
    started.push(cli);
    const banner = await cli.line(/^chatlab inspect \(UDP\) listening on 127\.0\.0\.1:\d+/);
    expect(banner).toContain('"loss":1,"seed":3');
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(banner)?.[1]);
    const client = await udpSocket();
    client.send('{"type":"say","text":"anyone?"}', port, '127.0.0.1');
    await cli.line(/✗ say.*lost: datagram #1 \("anyone\?"\) was dropped by the inspector and never arrived/);
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
    expect(
      cli.stdout.some((line) => /· lost 1/.test(line)),
      cli.stdout.join('\n'),
    ).toBe(true);
    expect(received).toEqual([]);
  });

  it('refuses UDP faults without --udp, TCP faults with it, and a probability above 1, in one line', { timeout: 60_000 }, async () => {
    const cases: Array<[string[], RegExp]> = [
      [['inspect', '--loss', '0.5'], /^chatlab: --loss, --reorder, --duplicate and --seed are UDP faults: add --udp/],
      [['inspect', '--udp', '--fragment', '2'], /^chatlab: --fragment, --drop-after and --show-reads are about TCP byte streams/],
      [['inspect', '--udp', '--loss', '1.5'], /"1\.5" is not a probability: give a number from 0 to 1/],
    ];
    const runs = cases.map(([args]) => startCliProcess([...args, '--plain', '--listen', '0'], {}, WAIT_MS));
    started.push(...runs);
    for (const [index, run] of runs.entries()) {
      expect(await run.exited).toBe(1);
      const stderr = run.stderr.filter((line) => line !== '');
      expect(stderr, stderr.join('\n')).toHaveLength(1);
      expect(stderr[0]).toMatch((cases[index] as [string[], RegExp])[1]);
    }
  });

  it('draws the lost datagram in the terminal UI too, and quits on q', { timeout: 60_000 }, async () => {
    const server = await udpSocket();
    const tty = startCliTerminal(['inspect', '--udp', '--listen', '0', '--target', `127.0.0.1:${server.address().port}`, '--loss', '1', '--seed', '3'], { cols: 140, rows: 30, waitMs: WAIT_MS });
    try {
      await tty.shows(/\(UDP\) listening on 127\.0\.0\.1:\d+/, 'the title with the port');
      const port = Number(/\(UDP\) listening on 127\.0\.0\.1:(\d+)/.exec(tty.screen().join('\n'))?.[1]);
      const client = await udpSocket();
      client.send('{"type":"say","text":"anyone?"}', port, '127.0.0.1');
      // The datagram goes from the client (right) to the server (left): the arrow ends in ✗ on the server's lifeline.
      await tty.shows(/│✗─+ ✗ say ─+┤ +lost: datagram #1/, 'a lost arrow ending in ✗');
      await tty.shows(/one datagram \(c2s\): #1, 31 B/, 'the datagram in the detail pane');
      tty.type('q');
      expect(await tty.exited).toBe(0);
    } finally {
      tty.close();
    }
  });
});
