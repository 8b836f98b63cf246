/**
 * The port the verifier picks for the server it starts can be taken by another program before
 * the server binds it: then the verifier tries another free port instead of reporting the
 * learner's server as broken.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { verifyServer } from '../src/verify/index.ts';
import { TEST_TIMEOUTS, failureSummary } from '../test-support/verify-runs.ts';

const dir = mkdtempSync(join(tmpdir(), 'chatlab-port-race-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// First run: acts as if another program took the port (the message Node prints), and exits.
// Second run: listens on the port it is given.
const SERVER = `
const fs = require('node:fs');
const marker = process.env.MARKER;
if (!fs.existsSync(marker)) {
  fs.writeFileSync(marker, '');
  console.error('Error: listen EADDRINUSE: address already in use 127.0.0.1:' + process.env.PORT);
  process.exit(1);
}
require('node:net').createServer((socket) => socket.on('error', () => {})).listen(Number(process.env.PORT), '127.0.0.1');
`;

test('a port taken before the server binds it is retried on another free port', async () => {
  const marker = join(dir, 'first-run');
  const starts: number[] = [];
  const report = await verifyServer({
    command: [process.execPath, '-e', SERVER],
    env: { MARKER: marker },
    through: 1,
    timeouts: TEST_TIMEOUTS,
    onStart: ({ port }) => starts.push(port),
  });
  expect(existsSync(marker)).toBe(true);
  expect(report.passed, failureSummary(report)).toBe(true);
  expect(starts).toHaveLength(2);
  expect(report.address.port).toBe(starts[1]);
});
