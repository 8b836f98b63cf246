/**
 * The CLI and the TypeScript sample programs, built once per test run into plain JavaScript
 * (test-support/global-setup.ts builds them before the first test file and removes them after the
 * last), so the suites that spawn them hundreds of times do not pay tsx's loader on every start:
 * `chatlab client` from source costs ~0.9 s of CPU, built ~0.4 s; a sample server 0.4 s against
 * 0.1 s, and the suite is CPU-bound on 2 cores.
 *
 * The build is the source bundled with esbuild (what tsx itself compiles with): npm packages stay
 * external, and each module's `import.meta.url` stays the URL of its source file, so every path
 * the code finds from it (the lessons, the web app, the inspector's worker, package.json) is the
 * repository's, as when it runs from source. Without a build (a file run outside this config),
 * {@link builtEntry} answers undefined and {@link nodeCommand} runs the source through tsx.
 *
 * ```ts
 * spawn(...nodeCommand('test/fixtures/servers/ts/correct.ts'));  // node <build>/…/correct.js
 * ```
 */
import { isAbsolute, join, relative } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The folder of this run's build of the TypeScript programs, '' when there is none. */
    testBuildDir: string;
  }
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The folders whose TypeScript programs the suites spawn: each of their files is built. */
export const BUILT_PROGRAM_FOLDERS = ['test/fixtures/servers/ts', 'test/fixtures/clients'];

/** The CLI's entry point, built with the programs. */
export const CLI_ENTRY = 'src/cli/main.ts';

/**
 * The built JavaScript file of `source` (the CLI's entry or a file of {@link BUILT_PROGRAM_FOLDERS},
 * absolute or relative to the repository root), or undefined when this run has no build.
 */
export function builtEntry(source: string): string | undefined {
  const dir = inject('testBuildDir');
  if (!dir) return undefined;
  const path = relative(ROOT, isAbsolute(source) ? source : join(ROOT, source));
  return join(dir, path.replace(/\.ts$/, '.js'));
}

/** The command that runs a TypeScript program of the repository: its build if there is one, else the source through tsx. */
export function nodeCommand(source: string): string[] {
  const built = builtEntry(source);
  if (built) return [process.execPath, built];
  // tsx by its path: the command may run in another folder, where a bare `--import tsx` is not found.
  return [process.execPath, '--import', pathToFileURL(createRequire(join(ROOT, 'package.json')).resolve('tsx')).href, isAbsolute(source) ? source : join(ROOT, source)];
}
