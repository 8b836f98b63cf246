import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where package.json and node_modules are). */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The Vue app's sources. */
export const APP_SOURCE_DIR = join(ROOT, 'src', 'web', 'app');
/** Where built apps are kept, one folder per source hash. */
export const APP_CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'chatlab', 'web');

/** Source folders the app bundle is made of (the app imports the protocol's pure modules and diagram-row.ts). */
const SOURCE_DIRS = [APP_SOURCE_DIR, join(ROOT, 'src', 'protocol')];
const SOURCE_FILES = [join(ROOT, 'src', 'web', 'diagram-row.ts'), join(ROOT, 'src', 'web', 'app-build.ts'), join(ROOT, 'package-lock.json')];

function filesUnder(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...filesUnder(path));
    else if (!entry.name.endsWith('.test.ts')) files.push(path);
  }
  return files;
}

/**
 * A hash of the files under `dirs` (tests left out) and of `files`, named relative to `root`: a
 * change to any of them, or a file added or removed, gives another hash.
 */
export function sourceHash(root: string, dirs: readonly string[], files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of [...dirs.flatMap(filesUnder), ...files.filter((f) => existsSync(f))].sort()) {
    hash.update(file.slice(root.length));
    hash.update('\0');
    hash.update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}

/** The hash of every source of the app bundle, and of the locked dependency versions. */
export function appSourceHash(): string {
  return sourceHash(ROOT, SOURCE_DIRS, SOURCE_FILES);
}

/**
 * The folder of the built web app, building it first when its sources changed: Vite's build API
 * compiles src/web/app (Vue single-file components) into node_modules/.cache/chatlab/web/<hash>/,
 * so `npx chatlab web` needs no build command and an edited source is rebuilt on the next start.
 * Built into a temporary folder and renamed, so two starts at once never serve half a build.
 */
export async function ensureAppBuilt(log: (line: string) => void = () => {}): Promise<string> {
  const hash = appSourceHash();
  const cache = writableCacheDir();
  const dir = join(cache, hash);
  if (existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'inspector.html'))) return dir;
  log('building the web app (first run after a change; a few seconds)…');
  const temporary = join(cache, `.build-${hash}-${process.pid}-${Date.now()}`);
  const [{ build }, { default: vue }] = await Promise.all([import('vite'), import('@vitejs/plugin-vue')]);
  await build({
    root: APP_SOURCE_DIR,
    base: './',
    configFile: false,
    logLevel: 'error',
    plugins: [vue()],
    // The page reuses src/protocol/files.ts (chunk size, window, sanitizeFileName), which imports
    // node:path for a function the page never calls and counts UTF-8 bytes with Node's Buffer.
    resolve: { alias: { 'node:path': join(APP_SOURCE_DIR, 'shims', 'node-path.ts') } },
    define: { 'Buffer.byteLength': '((text) => new TextEncoder().encode(text).length)' },
    build: {
      outDir: temporary,
      emptyOutDir: true,
      reportCompressedSize: false,
      chunkSizeWarningLimit: 2_000,
      // Two pages: the web chat, and the inspector's live diagram (`chatlab inspect --web`).
      rollupOptions: { input: { chat: join(APP_SOURCE_DIR, 'index.html'), inspector: join(APP_SOURCE_DIR, 'inspector.html') } },
    },
  });
  try {
    renameSync(temporary, dir);
  } catch {
    // Another start built the same sources first: use its build.
    rmSync(temporary, { recursive: true, force: true });
  }
  removeOldBuilds(cache, hash);
  return dir;
}

/** {@link APP_CACHE_DIR}, or a folder in the system's temporary directory when node_modules is read-only (a global install). */
function writableCacheDir(): string {
  try {
    mkdirSync(APP_CACHE_DIR, { recursive: true });
    accessSync(APP_CACHE_DIR, constants.W_OK);
    return APP_CACHE_DIR;
  } catch {
    const fallback = join(tmpdir(), 'chatlab-web-cache');
    mkdirSync(fallback, { recursive: true });
    return fallback;
  }
}

/** Builds older than this are removed when a new one is made (a running `chatlab web` may still serve a recent one). */
const STALE_BUILD_MS = 24 * 60 * 60 * 1000;

/** Removes stale builds of other source versions, and temporary folders a killed build left. */
function removeOldBuilds(cache: string, keep: string): void {
  for (const entry of readdirSync(cache)) {
    const path = join(cache, entry);
    if (entry !== keep && Date.now() - statSync(path).mtimeMs > STALE_BUILD_MS) rmSync(path, { recursive: true, force: true });
  }
}
