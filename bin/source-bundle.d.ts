import type { BuildOptions, Plugin } from 'esbuild';

/** Keeps each bundled module's `import.meta.url` the URL of its source file (see source-bundle.js). */
export const sourceImportMetaUrl: Plugin;

/** The esbuild options of a bundle of the sources for Node 20 (see source-bundle.js). */
export const SOURCE_BUNDLE_OPTIONS: BuildOptions;
