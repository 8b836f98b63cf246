/**
 * File transfer (extension): the numbers both sides agree on, and the pure helpers a receiver
 * uses to turn an offered name into a safe place in its download folder. No I/O here: whether a
 * path exists is asked through a callback.
 */
import { join } from 'node:path';
import { codePointLength } from './limits.ts';

/** Most raw bytes in one `file_chunk` (its base64 `data` is then at most 43,692 characters). */
export const MAX_FILE_CHUNK_BYTES = 32 * 1024;

/** Longest base64 `data` of a chunk: 4 characters per 3 bytes, padded. */
export const MAX_FILE_CHUNK_BASE64 = 4 * Math.ceil(MAX_FILE_CHUNK_BYTES / 3);

/** Most chunks a sender may have sent to a receiver that the receiver has not acknowledged yet. */
export const FILE_WINDOW_CHUNKS = 8;

/** Longest offered file name, in code points (before sanitizing). */
export const MAX_FILE_NAME_CHARS = 255;

/** A SHA-256 digest as the protocol writes it: 64 lower-case hex digits. */
export const SHA256_PATTERN = /^[0-9a-f]{64}$/;

/** Longest sanitized file name, in UTF-8 bytes (what most file systems allow). */
export const MAX_SAFE_NAME_BYTES = 255;

const BASE64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The number of bytes a standard (padded) base64 string decodes to, or `null` when the string is
 * not canonical base64 (wrong alphabet, length not a multiple of 4, padding in the middle).
 */
export function base64DecodedLength(data: string): number | null {
  if (data.length % 4 !== 0 || !BASE64_PATTERN.test(data)) return null;
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  return (data.length / 4) * 3 - padding;
}

// Control characters (C0, DEL, C1), characters Windows forbids in names, and the path separators.
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f<>:"/\\|?*]/g;
// Invisible characters that can make a name look like another one (bidi overrides, zero-width).
const DECEPTIVE_CHARACTERS = /[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
/** Device names Windows reserves whatever the extension (`CON`, `nul.txt`, `COM1.log`, …). */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\.|$)/i;

/**
 * Turns a name offered by someone else into a safe file name: the base name only (whatever follows
 * the last `/` or `\`), without control characters, invisible direction marks, the characters
 * Windows forbids (`< > : " / \ | ? *`), leading dots or spaces (no hidden files, no `..`), trailing
 * dots or spaces (Windows drops them), never a Windows device name (`CON`, `nul.txt` get a `_`
 * prefix), at most {@link MAX_SAFE_NAME_BYTES} UTF-8 bytes (the extension is kept when it is
 * short). An empty result becomes `"file"`.
 *
 * ```ts
 * sanitizeFileName('../../etc/passwd') // 'passwd'
 * sanitizeFileName('C:\\Users\\x\\cat.png') // 'cat.png'
 * sanitizeFileName('..') // 'file'
 * ```
 */
export function sanitizeFileName(offered: string): string {
  const base = String(offered).split(/[/\\]/).pop() ?? '';
  let name = base.normalize('NFC').replace(UNSAFE_CHARACTERS, '').replace(DECEPTIVE_CHARACTERS, '');
  name = name.replace(/^[.\s]+/, '').replace(/[.\s]+$/, '');
  if (WINDOWS_RESERVED.test(name)) name = `_${name}`;
  name = truncateName(name, MAX_SAFE_NAME_BYTES);
  return name === '' ? 'file' : name;
}

/**
 * The path in `directory` where a file called `name` (already sanitized) can be written without
 * replacing anything: `name` itself, or `stem (1).ext`, `stem (2).ext`, … — the first one for
 * which `exists` says no. `exists` is the only contact with the file system (pass `existsSync`).
 * The suffix never pushes the name past {@link MAX_SAFE_NAME_BYTES}.
 * @throws RangeError after `maxAttempts` taken names (a full folder or a lying `exists`).
 */
export function uniqueDownloadPath(directory: string, name: string, exists: (path: string) => boolean, maxAttempts = 10_000): string {
  const safe = sanitizeFileName(name);
  const first = join(directory, safe);
  if (!exists(first)) return first;
  const { stem, extension } = splitExtension(safe);
  for (let n = 1; n <= maxAttempts; n++) {
    const suffix = ` (${n})`;
    const room = MAX_SAFE_NAME_BYTES - utf8Length(suffix) - utf8Length(extension);
    const candidate = join(directory, `${truncateBytes(stem, Math.max(room, 1))}${suffix}${extension}`);
    if (!exists(candidate)) return candidate;
  }
  throw new RangeError(`no free name for "${safe}" in ${directory} after ${maxAttempts} attempts`);
}

/** `cat.tar.gz` → stem `cat.tar`, extension `.gz`; a name without a dot has no extension. */
function splitExtension(name: string): { stem: string; extension: string } {
  const dot = name.lastIndexOf('.');
  // An extension is short and follows a non-empty stem; `file.` or `.` are not extensions.
  if (dot <= 0 || dot === name.length - 1 || name.length - dot > 16) return { stem: name, extension: '' };
  return { stem: name.slice(0, dot), extension: name.slice(dot) };
}

function truncateName(name: string, maxBytes: number): string {
  if (utf8Length(name) <= maxBytes) return name;
  const { stem, extension } = splitExtension(name);
  const kept = truncateBytes(stem, maxBytes - utf8Length(extension));
  return (kept + extension).replace(/[.\s]+$/, '');
}

/** The longest prefix of `text` of at most `maxBytes` UTF-8 bytes, never cutting a code point. */
function truncateBytes(text: string, maxBytes: number): string {
  let bytes = 0;
  let out = '';
  for (const character of text) {
    const size = utf8Length(character);
    if (bytes + size > maxBytes) break;
    bytes += size;
    out += character;
  }
  return out;
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Whether an offered name is acceptable on the wire: 1–{@link MAX_FILE_NAME_CHARS} code points. */
export function isOfferableFileName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && codePointLength(name) <= MAX_FILE_NAME_CHARS;
}
