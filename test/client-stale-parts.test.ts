/**
 * `chatlab client` killed in the middle of a download leaves its partial file behind; the next
 * client start removes it, and only it: a live client's partial file stays.
 */
import { randomBytes, createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { MAX_FILE_CHUNK_BYTES } from '../src/protocol/index.ts';
import { startTestServer, type TestServer } from '../test-support/chat-server.ts';
import { startCliProcess, type CliRun } from '../test-support/cli-process.ts';
import type { FrameSocket } from '../test-support/frame-socket.ts';

let chat: TestServer;
let dir: string;
const runs: CliRun[] = [];
const sockets: FrameSocket[] = [];

beforeEach(async () => {
  chat = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'chatlab-stale-'));
});

afterEach(async () => {
  for (const run of runs.splice(0)) if (run.child.exitCode === null) run.child.kill('SIGKILL');
  for (const socket of sockets.splice(0)) socket.destroy();
  await chat.stop();
  rmSync(dir, { recursive: true, force: true });
});

function bobClient(downloads: string): CliRun {
  const run = startCliProcess(['client', '--user', 'bob', '--password', 'builder', '--port', String(chat.port), '--downloads', downloads]);
  runs.push(run);
  return run;
}

it('a partial download of a killed client is removed at the next start; a live one is kept', async () => {
  const downloads = join(dir, 'downloads');
  const bob = bobClient(downloads);
  await bob.line(/^\* connected to /);

  // alice offers a file, bob accepts, one chunk arrives and is acknowledged: it is on bob's disk.
  const alice = await chat.login('alice');
  sockets.push(alice);
  const bytes = randomBytes(MAX_FILE_CHUNK_BYTES * 4);
  alice.send({ type: 'file_offer', to: 'bob', name: 'big.bin', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), id: 1 });
  const transfer = (await alice.next('ok')).transfer as string;
  await bob.line(/^~ big\.bin .* offered by alice/);
  bob.type(`/accept ${transfer}\n`);
  await alice.next((frame) => frame.type === 'file_accept' && frame.transfer === transfer, 5000);
  alice.send({ type: 'file_chunk', transfer, seq: 0, data: bytes.subarray(0, MAX_FILE_CHUNK_BYTES).toString('base64') });
  await alice.next((frame) => frame.type === 'file_ack' && frame.seq === 0, 5000);

  // kill -9: no chance to clean up.
  const deadPid = bob.child.pid as number;
  bob.child.kill('SIGKILL');
  await bob.exited;
  const leftover = readdirSync(downloads).filter((name) => name.endsWith('.part'));
  expect(leftover).toEqual([expect.stringMatching(new RegExp(`^\\.chatlab-${deadPid}-`))]);

  // A partial file of a live client (this test process) in the same folder, and a file of the user's.
  const live = `.chatlab-${process.pid}-t9-0123abcd.part`;
  writeFileSync(join(downloads, live), 'still being written');
  writeFileSync(join(downloads, 'notes.part'), 'not ours');

  const again = bobClient(downloads);
  await again.line(/^\* connected to /);
  await again.line(new RegExp(`^\\* removed a partial download left in .* by a client that stopped mid-transfer: ${leftover[0]?.replaceAll('.', '\\.')}$`));
  expect(existsSync(join(downloads, leftover[0] as string))).toBe(false);
  expect(readdirSync(downloads).sort()).toEqual([live, 'notes.part'].sort());
  again.type('/quit\n');
  expect(await again.exited).toBe(0);
});
