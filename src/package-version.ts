import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * chatlab's version, from the package.json of the checkout or install this module runs from.
 * Found by walking up from this module rather than by a fixed relative path, so the same code
 * works from src/ (through tsx) and from the prebuilt CLI bundle under node_modules/.cache
 * (see bin/prebuilt-cli.js).
 */
export const PACKAGE_VERSION: string = readPackageVersion();

function readPackageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'chatlab' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json here (or not ours): keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) return '0.0.0';
    dir = parent;
  }
}
