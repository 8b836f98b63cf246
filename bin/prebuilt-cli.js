// `chatlab` from a prebuilt JavaScript bundle, so no command carries tsx's module-loader thread
// (a second V8 isolate: ~30 MiB of an idle server's ~85 MiB) or compiles TypeScript on every
// start (~0.5 s of CPU per `chatlab client`, `inspect`, `verify` …). The bundle is built on first
// use with esbuild (what tsx itself compiles with) into node_modules/.cache/chatlab/, keyed by a
// hash of the sources, so an edited src/ is rebuilt on the next start and `npm install && npx
// chatlab …` still needs no build step. Each module keeps its source file's import.meta.url, so
// the paths it finds from it are the repository's. Anything that goes wrong here (a read-only
// node_modules, a build error) returns undefined and the caller runs from source instead, which
// then reports real errors the usual way.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SOURCE_BUNDLE_OPTIONS } from './source-bundle.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const SOURCES = join(ROOT, 'src');
const CACHE = join(ROOT, 'node_modules', '.cache', 'chatlab');
/** Builds older than this are removed when a new one is made (a running server may still use a recent one). */
const STALE_BUILD_MS = 24 * 60 * 60 * 1000;

/**
 * The file URL of the prebuilt CLI entry, building it first if needed; undefined when
 * CHATLAB_FROM_SOURCE is set or when no build can be had.
 * @returns {Promise<string | undefined>}
 */
export async function prebuiltCliEntry() {
  if (process.env.CHATLAB_FROM_SOURCE) return undefined;
  try {
    const dir = join(CACHE, `cli-${sourceHash()}`);
    // Built in a child process, so the server itself never loads esbuild (its memory stays the server's).
    if (!existsSync(join(dir, 'main.js'))) spawnSync(process.execPath, [fileURLToPath(import.meta.url), dir], { stdio: 'ignore' });
    return existsSync(join(dir, 'main.js')) ? pathToFileURL(join(dir, 'main.js')).href : undefined;
  } catch {
    return undefined;
  }
}

/** A hash of every TypeScript source (tests left out), of package.json and of how they are bundled. */
function sourceHash() {
  const hash = createHash('sha256');
  hash.update(readFileSync(join(ROOT, 'package.json')));
  hash.update(readFileSync(join(ROOT, 'bin', 'source-bundle.js')));
  for (const file of sourceFiles(SOURCES).sort()) {
    hash.update(file);
    hash.update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}

/** @returns {string[]} */
function sourceFiles(dir) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) files.push(path);
  }
  return files;
}

/**
 * Bundles src/cli/main.ts with code splitting (each command stays its own lazily loaded chunk;
 * npm packages stay external) into a fresh folder, then renames it into place: processes that
 * build at the same time each finish whole, and the first rename wins.
 */
async function build(dir) {
  mkdirSync(CACHE, { recursive: true });
  const staging = mkdtempSync(join(CACHE, 'building-'));
  const esbuild = await import('esbuild');
  try {
    await esbuild.build({
      entryPoints: [join(SOURCES, 'cli', 'main.ts')],
      outdir: staging,
      ...SOURCE_BUNDLE_OPTIONS,
    });
    try {
      renameSync(staging, dir);
    } catch (error) {
      if (!existsSync(join(dir, 'main.js'))) throw error; // another process's build won: use it
      rmSync(staging, { recursive: true, force: true });
    }
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  } finally {
    await esbuild.stop();
  }
  removeStaleBuilds(dir);
}

function removeStaleBuilds(current) {
  for (const name of readdirSync(CACHE)) {
    const path = join(CACHE, name);
    if (path === current) continue;
    try {
      if (Date.now() - statSync(path).mtimeMs > STALE_BUILD_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // gone meanwhile, or not ours to remove: leave it
    }
  }
}

// `node prebuilt-cli.js DIR`: the child process that builds into DIR.
if (process.argv[1] === fileURLToPath(import.meta.url)) await build(process.argv[2]);
