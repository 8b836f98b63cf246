import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'test-support/**/*.test.ts', 'lessons/**/*.test.ts', 'bench/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'docs/.vitepress/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Most tests wait on sockets, child processes and quiet windows rather than compute: on the
    // 2-core machines the default (one worker per core but one) runs every file in turn; with the
    // suite of 167 files, four workers overlap the waiting best (229 s with three, 207 s with four).
    maxWorkers: 4,
  },
});
