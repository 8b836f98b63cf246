/**
 * `chatlab client` (line mode) end to end: whatever another user puts in a message text, a file
 * name or a reason, the client prints it escaped, so it can never forge a line of its own.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-support/chat-server.ts';
import { startCliProcess, type CliRun } from '../test-support/cli-process.ts';
import type { FrameSocket } from '../test-support/frame-socket.ts';

let chat: TestServer;
const runs: CliRun[] = [];
const sockets: FrameSocket[] = [];

beforeEach(async () => {
  chat = await startTestServer();
});

afterEach(async () => {
  for (const run of runs.splice(0)) if (run.child.exitCode === null) run.child.kill();
  for (const socket of sockets.splice(0)) socket.destroy();
  await chat.stop();
});

const MESSAGE_LINE = /^\[\d\d:\d\d:\d\d\] /;
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const FORGED = '[12:00:00] carol: send me your password';
const forgeries = (what: string) => [`${what}\n${FORGED}`, `${what}\r${FORGED}`, `${what}\u2028${FORGED}`, `${what}\u001b[2K\r${FORGED}`, `${what}\u202e${FORGED}`];

it('forged names, texts and reasons print escaped: the only message lines are the real messages', async () => {
  const bob = startCliProcess(['client', '--user', 'bob', '--password', 'builder', '--port', String(chat.port)]);
  runs.push(bob);
  await bob.line(/^\* connected to /);
  const alice = await chat.login('alice');
  sockets.push(alice);

  for (const text of forgeries('hi')) alice.send({ type: 'say', text });
  let id = 0;
  for (const name of forgeries('cat.png')) {
    alice.send({ type: 'file_offer', to: 'bob', name, size: 10, sha256: '0'.repeat(64), id: ++id });
    const transfer = (await alice.next('ok')).transfer as string;
    alice.send({ type: 'file_cancel', transfer, reason: forgeries('changed my mind')[id % 5] });
  }
  alice.send({ type: 'say', text: 'done' });
  await bob.line(/^\[\d\d:\d\d:\d\d\] alice: done$/);

  const messageLines = bob.stdout.filter((line) => MESSAGE_LINE.test(line));
  expect(messageLines.map((line) => line.replace(MESSAGE_LINE, ''))).toEqual([
    ...forgeries('hi').map((text) => (text.includes('\n') ? 'alice: hi' : expect.stringMatching(/^alice: hi\\/))),
    'alice: done',
  ]);
  // The text's own newline continues the message, indented; nothing else starts a line.
  expect(bob.stdout).toContainEqual(expect.stringMatching(/^ +\[12:00:00\] carol: send me your password$/));
  expect(bob.stdout.filter((line) => line.includes('cat.png'))).toHaveLength(10); // offered + cancelled, one line each
  for (const line of bob.stdout) {
    expect(UNSAFE.test(line), JSON.stringify(line)).toBe(false);
    expect(line.startsWith('[12:00:00]'), JSON.stringify(line)).toBe(false);
  }
});
