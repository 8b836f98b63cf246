import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_SCRYPT } from '../../test-support/chat-server.ts';
import { ChatServer } from './chat-server.ts';
import { FALLBACK_LISTEN_BACKLOG, defaultListenBacklog } from './listen-backlog.ts';

const dir = mkdtempSync(join(tmpdir(), 'chatlab-backlog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('defaultListenBacklog', () => {
  it('is the maximum the OS file names', () => {
    const file = join(dir, 'somaxconn');
    writeFileSync(file, '8192\n');
    expect(defaultListenBacklog(file)).toBe(8192);
  });

  it('falls back to a large number where the file is missing or unreadable', () => {
    expect(defaultListenBacklog(join(dir, 'missing'))).toBe(FALLBACK_LISTEN_BACKLOG);
    const file = join(dir, 'garbage');
    writeFileSync(file, 'lots\n');
    expect(defaultListenBacklog(file)).toBe(FALLBACK_LISTEN_BACKLOG);
  });
});

/** The backlog the kernel keeps for a listening port (`ss` shows it as Send-Q), or undefined without `ss`. */
function kernelBacklog(port: number): number | undefined {
  let out: string;
  try {
    out = execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' });
  } catch {
    return undefined;
  }
  const fields = out.trim().split(/\s+/);
  return Number(fields[2]);
}

const hasSs = kernelBacklog(1) !== undefined;

describe.skipIf(!hasSs)('ChatServer listen backlog (read back from the kernel with ss)', () => {
  it("defaults to the OS maximum instead of Node's 511, and takes the backlog option", async () => {
    for (const [options, expected] of [
      [{}, Math.min(defaultListenBacklog(), 65_535)],
      [{ backlog: 77 }, 77],
    ] as const) {
      const server = new ChatServer({ port: 0, scrypt: TEST_SCRYPT, ...options });
      const { port } = await server.start();
      try {
        expect(kernelBacklog(port)).toBe(expected);
      } finally {
        await server.stop();
      }
    }
  });
});
