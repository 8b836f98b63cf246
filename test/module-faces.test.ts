/**
 * The rules of .dependency-cruiser.cjs (`npm run lint:deps`) catch what they are meant to: the
 * real checker, with the real config, runs on a small tree written to a temp folder, in which
 * each rule is broken once and each allowed kind of import appears once.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEPCRUISE = join(REPO_ROOT, 'node_modules', '.bin', 'depcruise');

/** The tree: file → its source. Each import is commented with what the rules must say of it. */
const TREE: Record<string, string> = {
  'src/protocol/index.ts': "export { codec } from './codec.ts';\n",
  'src/protocol/codec.ts': "import { Hub } from '../server/index.ts'; // protocol-imports-nothing-of-ours\nexport const codec = Hub;\n",
  'src/protocol/codec.test.ts': "import { chunk } from '../../test-support/chunks.ts'; // a test may use test support\nexport const t = chunk;\n",
  'src/server/index.ts': "export { Hub } from './hub.ts';\n",
  'src/server/hub.ts': 'export const Hub = 1;\n',
  'src/inspector/index.ts': "export { PlainView } from './views/plain.ts';\n",
  'src/inspector/views/plain.ts': 'export const PlainView = 1;\n',
  'src/client/index.ts': 'export const client = 1;\n',
  'src/client/tui/index.ts': 'export const runTui = 1;\n',
  'src/cli/main.ts': [
    "import { PlainView } from '../inspector/index.ts'; // a face: allowed",
    "import { runTui } from '../client/tui/index.ts'; // the TUI's own face: allowed",
    "import { PlainView as Inside } from '../inspector/views/plain.ts'; // module-face",
    "import { version } from '../package-version.ts'; // a file of src/ itself: allowed",
    'export const all = [PlainView, runTui, Inside, version];',
    '',
  ].join('\n'),
  'src/cli/main.test.ts': "import { PlainView } from '../inspector/views/plain.ts'; // a test may look inside\nexport const t = PlainView;\n",
  'src/package-version.ts': 'export const version = 1;\n',
  'src/lessons/runtime/index.ts': "export { run } from './run.ts';\n",
  'src/lessons/runtime/run.ts': "import { suite } from 'vitest'; // no-dev-dependency-in-src\nexport const run = suite;\n",
  'src/lessons/readme/index.ts': "import { run } from '../runtime/run.ts'; // lessons-part-face\nimport { run as face } from '../runtime/index.ts'; // allowed\nexport const readme = [run, face];\n",
  'src/lessons/runtime/up.ts': "import { readme } from '../readme/index.ts'; // lessons-readme-on-top\nexport const up = readme;\n",
  'src/verify/index.ts': "import { chunk } from '../../test-support/chunks.ts'; // no-test-code-in-src\nexport const verify = chunk;\n",
  'test-support/chunks.ts': 'export const chunk = 1;\n',
  'bench/lib/a.ts': "import { b } from './b.ts'; // no-circular (reported once, on this edge)\nexport const a = b;\n",
  'bench/lib/b.ts': "import { a } from './a.ts'; // the other half of the cycle\nimport { Hub } from '../../src/server/hub.ts'; // bench-through-faces\nexport const b = [a, Hub];\n",
  'package.json': JSON.stringify({ name: 'faces-fixture', type: 'module', devDependencies: { vitest: '*' } }),
  'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', allowImportingTsExtensions: true, noEmit: true } }),
};

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Writes {@link TREE} to a temp folder (with the repo's node_modules) and runs the checker there
 * as `npm run lint:deps` does; returns the violations it prints (`rule: from → to`; a cycle by its first
 * edge) and its exit code.
 */
async function cruiseFixture(): Promise<{ violations: string[]; exitCode: number }> {
  const root = mkdtempSync(join(tmpdir(), 'chatlab-faces-'));
  dirs.push(root);
  for (const [file, text] of Object.entries(TREE)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  const args = ['.', '--config', join(REPO_ROOT, '.dependency-cruiser.cjs'), '--output-type', 'err'];
  let output: string;
  let exitCode = 0;
  try {
    output = (await promisify(execFile)(DEPCRUISE, args, { cwd: root })).stdout;
  } catch (error) {
    const failed = error as { stdout?: string; code?: number };
    if (typeof failed.code !== 'number') throw error;
    output = failed.stdout ?? '';
    exitCode = failed.code;
  }
  const violations = [...output.matchAll(/^ *error (\S+): (\S+) →\s+(\S+)/gm)].map(([, rule, from, to]) => `${rule}: ${from} → ${to?.replace(/^node_modules\/vitest\/.*/, 'vitest')}`);
  return { violations, exitCode };
}

describe('lint:deps (.dependency-cruiser.cjs)', () => {
  it('flags each breach of the module faces, and only those', { timeout: 60_000 }, async () => {
    const { violations, exitCode } = await cruiseFixture();
    expect(violations.sort()).toEqual(
      [
        'protocol-imports-nothing-of-ours: src/protocol/codec.ts → src/server/index.ts',
        'module-face: src/cli/main.ts → src/inspector/views/plain.ts',
        'no-dev-dependency-in-src: src/lessons/runtime/run.ts → vitest',
        'lessons-part-face: src/lessons/readme/index.ts → src/lessons/runtime/run.ts',
        'lessons-readme-on-top: src/lessons/runtime/up.ts → src/lessons/readme/index.ts',
        'no-test-code-in-src: src/verify/index.ts → test-support/chunks.ts',
        'no-circular: bench/lib/a.ts → bench/lib/b.ts',
        'bench-through-faces: bench/lib/b.ts → src/server/hub.ts',
      ].sort(),
    );
    expect(exitCode).toBe(violations.length); // depcruise exits with the number of errors: npm test fails
  });
});
