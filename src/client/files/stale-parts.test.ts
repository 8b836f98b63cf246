import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STALE_PART_AGE_MS, partFileName, partFileWriter, processAlive, removeStaleParts } from './stale-parts.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chatlab-parts-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The pid of a process that has exited (a child run to its end). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(child.stdout);
  expect(processAlive(pid)).toBe(false);
  return pid;
}

const part = (pid: number, transfer = 't1', random = '0123abcd') => `.chatlab-${pid}-${transfer}-${random}.part`;

describe('stale partial downloads', () => {
  it('a part file is named after this process and its transfer, and recognised by that name', () => {
    const name = partFileName('t/../7 x');
    expect(name).toMatch(new RegExp(`^\\.chatlab-${process.pid}-t____7_x-[0-9a-f]{8}\\.part$`));
    expect(partFileWriter(name)).toBe(process.pid);
    for (const other of ['cat.png', '.chatlab-t7-0123abcd.part', '.chatlab-12-t7-0123abcd.part.png', 'x.chatlab-12-t7-0123abcd.part', '.chatlab-0-t7-0123abcd.part', '.chatlab-12-t7-XYZ.part']) {
      expect(partFileWriter(other), other).toBeUndefined();
    }
  });

  it('removes the parts of dead processes and old ones; keeps live parts and anything not ours', async () => {
    const dead = deadPid();
    const names = {
      dead: part(dead),
      deadOther: part(dead, 'room-transfer_2', 'ffffffff'),
      live: part(process.pid),
      oldLive: part(process.pid, 't2'),
      notOurs: ['cat.png', '.chatlab-t7-0123abcd.part', `notes-${dead}.part`, `.chatlab-${dead}-t1-0123abcd.part.keep`],
    };
    for (const name of [names.dead, names.deadOther, names.live, names.oldLive, ...names.notOurs]) writeFileSync(join(dir, name), 'x');
    const dayAndMore = (Date.now() - STALE_PART_AGE_MS - 60_000) / 1000;
    utimesSync(join(dir, names.oldLive), dayAndMore, dayAndMore);
    mkdirSync(join(dir, part(dead, 'dir'))); // a folder with the name of a part is left alone
    symlinkSync(join(dir, 'cat.png'), join(dir, part(dead, 'link')));

    const removed = await removeStaleParts(dir);
    expect(removed.sort()).toEqual([names.dead, names.deadOther, names.oldLive].sort());
    expect(readdirSync(dir).sort()).toEqual([names.live, ...names.notOurs, part(dead, 'dir'), part(dead, 'link')].sort());
  });

  it('a missing download folder removes nothing', async () => {
    expect(await removeStaleParts(join(dir, 'not-there'))).toEqual([]);
  });
});
