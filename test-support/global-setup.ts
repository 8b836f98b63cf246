/**
 * Vitest's global setup (vitest.config.ts): builds the CLI and the TypeScript sample programs
 * once for the whole run (see test-support/test-build.ts for why and how), gives the folder to
 * the test files (`inject('testBuildDir')`), and removes it when the run ends.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { SOURCE_BUNDLE_OPTIONS } from '../bin/source-bundle.js';
import { BUILT_PROGRAM_FOLDERS, CLI_ENTRY } from './test-build.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Builds every entry point into `outDir` with the repository's layout (src/cli/main.ts becomes `outDir`/src/cli/main.js). */
async function build(outDir: string): Promise<void> {
  const programs = BUILT_PROGRAM_FOLDERS.flatMap((folder) =>
    readdirSync(join(ROOT, folder))
      .filter((name) => name.endsWith('.ts'))
      .map((name) => join(ROOT, folder, name)),
  );
  const esbuild = await import('esbuild');
  try {
    await esbuild.build({
      entryPoints: [join(ROOT, CLI_ENTRY), ...programs],
      outbase: ROOT,
      outdir: outDir,
      ...SOURCE_BUNDLE_OPTIONS,
    });
  } finally {
    await esbuild.stop();
  }
}

/** A build this old belongs to no running test run (a run that was killed left it behind). */
const STALE_BUILD_MS = 24 * 60 * 60 * 1000;

function removeStaleBuilds(parent: string): void {
  for (const name of readdirSync(parent)) {
    const path = join(parent, name);
    try {
      if (name.startsWith('test-build-') && Date.now() - statSync(path).mtimeMs > STALE_BUILD_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // removed meanwhile: nothing to do
    }
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  // Inside the repository (.tmp/ is git-ignored), so the built files find its node_modules.
  const parent = join(ROOT, '.tmp');
  mkdirSync(parent, { recursive: true });
  removeStaleBuilds(parent);
  const dir = mkdtempSync(join(parent, 'test-build-'));
  await build(dir);
  project.provide('testBuildDir', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
