import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SessionModel } from '../session-model.ts';
import { exportMermaid } from './mermaid.ts';
import { exportSvg } from './svg.ts';
import { exportText } from './text.ts';

/**
 * Where the inspector's `e` key writes when no `--export-dir` is given, relative to the current
 * directory. A folder of its own (ignored by this repository's .gitignore), so exports never
 * litter the folder the inspector was started from.
 */
export const DEFAULT_EXPORT_DIR = 'chatlab-exports';

/** `20261206-061503`: local time, sortable, safe in a file name (the e key's files and the web page's downloads). */
export function exportStamp(date: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}-${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
}

/**
 * Writes the session as `chatlab-session-<stamp>.mmd`, `.svg` and `.txt` into `dir` (created if
 * missing) and returns the absolute paths written, to be shown to the user.
 * @throws the file system's error when the folder or a file cannot be written.
 */
export function writeSessionExports(model: SessionModel, dir = DEFAULT_EXPORT_DIR, date = new Date()): string[] {
  const folder = resolve(dir);
  mkdirSync(folder, { recursive: true });
  const base = join(folder, `chatlab-session-${exportStamp(date)}`);
  const files: [string, string][] = [
    [`${base}.mmd`, exportMermaid(model)],
    [`${base}.svg`, exportSvg(model)],
    [`${base}.txt`, exportText(model)],
  ];
  for (const [path, text] of files) writeFileSync(path, text);
  return files.map(([path]) => path);
}
