// How the TypeScript sources are bundled into JavaScript, by bin/prebuilt-cli.js (the CLI as
// users start it) and by the test build (test-support/global-setup.ts): one esbuild setup.
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

/**
 * Keeps each module's `import.meta.url` the URL of its source file, so every path the code finds
 * from it (the lessons, the web app, the inspector's worker, package.json) is the repository's,
 * as when it runs from source, wherever the bundle is written.
 * @type {import('esbuild').Plugin}
 */
export const sourceImportMetaUrl = {
  name: 'source-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      return { contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(path).href)), loader: 'ts' };
    });
  },
};

/**
 * The esbuild options of a bundle of the sources for Node 20: ES modules with each command a
 * lazily loaded chunk, npm packages left external (loaded from node_modules as usual).
 * @type {import('esbuild').BuildOptions}
 */
export const SOURCE_BUNDLE_OPTIONS = {
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'silent',
  plugins: [sourceImportMetaUrl],
};
