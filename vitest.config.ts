import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'lessons/**/*.test.ts', 'bench/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'docs/.vitepress/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
