import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'test-support/**/*.test.ts', 'lessons/**/*.test.ts', 'bench/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'docs/.vitepress/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Builds the CLI and the TypeScript sample programs once, so suites spawn them without tsx (test-support/test-build.ts).
    globalSetup: ['test-support/global-setup.ts'],
    pool: 'forks',
    // Most tests wait on sockets, child processes and quiet windows rather than compute: on the
    // 2-core machines the default (one worker per core but one) runs every file in turn; with the
    // suite of 167 files, four workers overlap the waiting best (229 s with three, 207 s with four).
    maxWorkers: 4,
    // Each worker process runs file after file and keeps the modules it loaded, instead of a fresh
    // process per file: the suite is CPU-bound on 2 cores, and a fresh process re-evaluates vitest
    // and the modules every file imports. 80 small files: 26 s of CPU isolated, 8 s shared; 58
    // mid-sized ones: 83 s, 62 s. Safe because no test file changes global state it does not
    // restore (process.env is put back in afterAll, no module mocks, no fake timers left on).
    isolate: false,
  },
});
