import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sourceHash } from './app-build.ts';

let root: string | undefined;
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('sourceHash (what decides that the web app is built again)', () => {
  it('changes when a source changes, is added or is removed, and ignores tests', () => {
    root = mkdtempSync(join(tmpdir(), 'chatlab-hash-'));
    const app = join(root, 'app');
    mkdirSync(join(app, 'components'), { recursive: true });
    writeFileSync(join(app, 'main.ts'), 'one');
    writeFileSync(join(app, 'components', 'A.vue'), '<template>a</template>');
    const lock = join(root, 'package-lock.json');
    writeFileSync(lock, '{}');
    const hash = () => sourceHash(root as string, [app], [lock]);
    const first = hash();
    expect(hash()).toBe(first);
    writeFileSync(join(app, 'components', 'A.vue'), '<template>b</template>');
    const edited = hash();
    expect(edited).not.toBe(first);
    writeFileSync(join(app, 'components', 'B.vue'), '');
    const added = hash();
    expect(added).not.toBe(edited);
    rmSync(join(app, 'components', 'B.vue'));
    expect(hash()).toBe(edited);
    writeFileSync(lock, '{"lockfileVersion":3}');
    expect(hash()).not.toBe(edited);
    const beforeTest = hash();
    writeFileSync(join(app, 'x.test.ts'), 'not part of the app');
    expect(hash()).toBe(beforeTest);
  });
});
