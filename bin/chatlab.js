#!/usr/bin/env node
// The published entry point: runs the TypeScript CLI directly through tsx, so `npx chatlab`
// works right after `npm install` with no build step. `chatlab server`, the one long-running
// command, runs from a bundle built on first use instead (see prebuilt-server.js).
import { prebuiltServerEntry } from './prebuilt-server.js';

const prebuilt = await prebuiltServerEntry(process.argv);
if (prebuilt) {
  await import(prebuilt);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
