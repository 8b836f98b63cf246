import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
