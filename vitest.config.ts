import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'test-support/**/*.test.ts', 'lessons/**/*.test.ts', 'bench/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'docs/.vitepress/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Most tests wait on sockets and child processes rather than compute: on the 2-core machines
    // the default (one worker per core but one) runs every file in turn, ~225 s; three workers
    // overlap the waiting, ~120 s, with no gain from a fourth.
    maxWorkers: 3,
  },
});
