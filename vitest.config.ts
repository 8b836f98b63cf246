import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The docs suites render markdown through VitePress and Shiki in-process, whose module state
 * another file's left-overs changed (token colours split differently in a shared process): they
 * get a fresh process per file, as they are few and heavy anyway.
 */
const ISOLATED = ['test/docs-*.test.ts'];

export default defineConfig({
  test: {
    // Each project names its own files: a project's lists add to the root's (extends: true).
    exclude: [...configDefaults.exclude, 'docs/.vitepress/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Builds the CLI and the TypeScript sample programs once, so suites spawn them without tsx (test-support/test-build.ts).
    globalSetup: ['test-support/global-setup.ts'],
    pool: 'forks',
    // Most tests wait on sockets, child processes and quiet windows rather than compute: on the
    // 2-core machines the default (one worker per core but one) runs every file in turn; with the
    // suite of 167 files, four workers overlap the waiting best (229 s with three, 207 s with four).
    maxWorkers: 4,
    projects: [
      {
        extends: true,
        test: {
          name: 'shared',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'test-support/**/*.test.ts', 'lessons/**/*.test.ts', 'bench/**/*.test.ts'],
          exclude: ISOLATED,
          // Each worker process runs file after file and keeps the modules it loaded, instead of a
          // fresh process per file: the suite is CPU-bound on 2 cores, and a fresh process
          // re-evaluates vitest and the modules every file imports. 80 small files: 26 s of CPU
          // isolated, 8 s shared; 58 mid-sized ones: 83 s, 62 s. Safe because no test file changes
          // global state it does not restore (process.env is put back in afterAll, no module
          // mocks, no fake timers left on).
          isolate: false,
        },
      },
      { extends: true, test: { name: 'docs', include: ISOLATED, isolate: true } },
    ],
  },
});
