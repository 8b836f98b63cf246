import type { Plugin } from 'esbuild';

/** Keeps each bundled module's `import.meta.url` the URL of its source file (see source-import-meta-url.js). */
export const sourceImportMetaUrl: Plugin;
