#!/usr/bin/env node
// The published entry point: runs the CLI from a bundle of the TypeScript sources, built on first
// use (see prebuilt-cli.js), so `npx chatlab` works right after `npm install` with no build step;
// through tsx from the sources themselves when CHATLAB_FROM_SOURCE is set or no bundle can be had.
import { prebuiltCliEntry } from './prebuilt-cli.js';

const prebuilt = await prebuiltCliEntry();
if (prebuilt) {
  await import(prebuilt);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
