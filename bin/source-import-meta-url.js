// An esbuild plugin for builds of the TypeScript sources (bin/prebuilt-cli.js, the test build):
// each module's `import.meta.url` stays the URL of its source file, so every path the code finds
// from it (the lessons, the web app, the inspector's worker, package.json) is the repository's,
// as when it runs from source, wherever the bundle is written.
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

/** @type {import('esbuild').Plugin} */
export const sourceImportMetaUrl = {
  name: 'source-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      return { contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(path).href)), loader: 'ts' };
    });
  },
};
