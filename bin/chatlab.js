#!/usr/bin/env node
// The published entry point: runs the TypeScript CLI directly through tsx, so `npx chatlab`
// works right after `npm install` with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
