import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, test } from 'vitest';
import { until } from '../../test-support/client-events.ts';
import { PROC_AVAILABLE, ProcessTree, readStat } from './process-tree.ts';

/**
 * A parent whose grandchild leaves the session (setsid), clears its environment (no marker) and
 * execs `sleep`; on the line "go" on stdin, the middle process exits, orphaning the grandchild.
 */
const ORPHANING_PARENT = `
import os, sys
r, w = os.pipe()
pid_r, pid_w = os.pipe()
middle = os.fork()
if middle == 0:
    os.setsid()
    grandchild = os.fork()
    if grandchild == 0:
        os.write(pid_w, f"{os.getpid()}\\n".encode())
        os.execve("/bin/sleep", ["sleep", "300"], {})
    os.close(w)
    os.read(r, 1)
    os._exit(0)
print(f"middle {middle} grandchild {os.read(pid_r, 64).decode().strip()}", flush=True)
sys.stdin.readline()
os.close(w)
os.waitpid(middle, 0)
print("middle gone", flush=True)
sys.stdin.readline()
`;

/** The state letter of a process in /proc (`Z` for a zombie), or `gone`. */
function stateOf(pid: number): string {
  try {
    return /^\d+ \(.*\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'latin1'))?.[1] ?? 'gone';
  } catch {
    return 'gone';
  }
}

const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

describe.skipIf(!PROC_AVAILABLE)('ProcessTree', () => {
  test('remembers a descendant seen while the tree was alive, and kills it after it was orphaned', async () => {
    const parent = spawn('python3', ['-c', ORPHANING_PARENT], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: parent.stdout })[Symbol.asyncIterator]();
    const first = String((await lines.next()).value);
    const [, middle, grandchild] = /^middle (\d+) grandchild (\d+)$/.exec(first)!.map(Number);
    started.push(parent.pid!, middle!, grandchild!);

    const tree = new ProcessTree(parent.pid!, 'CHATLAB_VERIFY_TREE=test-never-set');
    expect([...tree.members(false).keys()]).toEqual(expect.arrayContaining([parent.pid, middle, grandchild]));

    parent.stdin.write('go\n');
    expect((await lines.next()).value).toBe('middle gone');
    // The grandchild's parent is gone: a walk from the root no longer reaches it...
    expect(readStat(grandchild!)?.ppid).not.toBe(middle);
    expect([...new ProcessTree(parent.pid!, 'CHATLAB_VERIFY_TREE=test-never-set').members().keys()]).not.toContain(grandchild);
    // ...but the tree that saw it still knows it, and kills it with the rest.
    expect([...tree.members().keys()]).toContain(grandchild);
    tree.kill();
    await new Promise((resolve) => parent.once('exit', resolve));
    await until(() => ['gone', 'Z'].includes(stateOf(grandchild!)), `process ${grandchild} to die`, 3_000);
    expect(stateOf(middle!)).toMatch(/^(gone|Z)$/);
  });
});
