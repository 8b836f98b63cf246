import { MAX_PASSWORD_CHARS, MIN_NEW_PASSWORD_CHARS, USER_NAME_PATTERN, codePointLength } from '../protocol/index.ts';
import type { AccountStore } from './accounts.ts';

/** One account to create, with the line of the input it came from. */
export interface ImportEntry {
  line: number;
  user: string;
  password: string;
}

/** A line that did not become an account, and why. */
export interface ImportFailure {
  line: number;
  user?: string;
  message: string;
}

/** How far an import is, reported after each batch. */
export interface ImportProgress {
  /** Well-formed lines handled so far (added or refused). */
  done: number;
  /** Well-formed lines in all. */
  total: number;
  added: number;
  elapsedMs: number;
}

/** Options of {@link importAccounts}. */
export interface ImportOptions {
  /** Accounts inserted per transaction. Default 500. */
  batchSize?: number;
  /**
   * Passwords hashed at once. Default: libuv's thread-pool size (`UV_THREADPOOL_SIZE`, 4 unless
   * set), where the asynchronous scrypt runs: more would only queue.
   */
  concurrency?: number;
  /** Called after each batch is committed. */
  onProgress?: (progress: ImportProgress) => void;
}

/** What an import did. */
export interface ImportResult {
  added: number;
  /** Bad lines and refused accounts (name taken), in line order. */
  failures: ImportFailure[];
  elapsedMs: number;
}

/**
 * Reads `name:password` lines (the password is everything after the first colon, so it may hold
 * colons; a trailing `\r` is dropped). Blank lines and lines starting with `#` are skipped. A bad
 * line (no colon, a bad name or password, a name already on an earlier line) becomes a failure
 * with its line number; the other lines still count.
 */
export function parseAccountLines(text: string): { entries: ImportEntry[]; failures: ImportFailure[] } {
  const entries: ImportEntry[] = [];
  const failures: ImportFailure[] = [];
  const firstLine = new Map<string, number>();
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const [index, raw] of lines.entries()) {
    const line = index + 1;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '' || text.startsWith('#')) continue;
    const colon = text.indexOf(':');
    if (colon === -1) {
      failures.push({ line, message: 'expected name:password (no colon)' });
      continue;
    }
    const user = text.slice(0, colon);
    const password = text.slice(colon + 1);
    const problem = accountProblem(user, password);
    if (problem) {
      failures.push({ line, ...(USER_NAME_PATTERN.test(user) && { user }), message: problem });
      continue;
    }
    const earlier = firstLine.get(user);
    if (earlier !== undefined) {
      failures.push({ line, user, message: `user "${user}" is already on line ${earlier}` });
      continue;
    }
    firstLine.set(user, line);
    entries.push({ line, user, password });
  }
  return { entries, failures };
}

/** Why a name and password cannot make a new account (as `register` would say), or null. */
function accountProblem(user: string, password: string): string | null {
  if (!USER_NAME_PATTERN.test(user)) return `${JSON.stringify(user)} is not a user name: 1–32 characters of A–Z a–z 0–9 _ -`;
  const length = codePointLength(password);
  if (length < MIN_NEW_PASSWORD_CHARS || length > MAX_PASSWORD_CHARS) {
    return `the password of "${user}" is ${length} characters; a password is ${MIN_NEW_PASSWORD_CHARS}–${MAX_PASSWORD_CHARS}`;
  }
  return null;
}

/**
 * Creates every account of `text` (see {@link parseAccountLines}) in one process: passwords are
 * hashed in parallel on libuv's thread pool, and each batch is inserted in one transaction. Lines
 * that fail (malformed, or a name already taken) are reported and skipped; the others are added.
 */
export async function importAccounts(store: AccountStore, text: string, options: ImportOptions = {}): Promise<ImportResult> {
  const started = performance.now();
  const batchSize = Math.max(1, options.batchSize ?? 500);
  const concurrency = Math.max(1, options.concurrency ?? (Number(process.env.UV_THREADPOOL_SIZE) || 4));
  const { entries, failures } = parseAccountLines(text);
  let added = 0;
  for (let start = 0; start < entries.length; start += batchSize) {
    const batch = entries.slice(start, start + batchSize);
    const hashes = await mapLimit(batch, concurrency, (entry) => store.hash(entry.password));
    const lineOf = new Map(batch.map((entry) => [entry.user, entry.line]));
    const refused = store.insertHashed(batch.map((entry, i) => ({ user: entry.user, hash: hashes[i] as string })));
    for (const { user, message } of refused) failures.push({ line: lineOf.get(user) as number, user, message });
    added += batch.length - refused.length;
    options.onProgress?.({ done: start + batch.length, total: entries.length, added, elapsedMs: performance.now() - started });
  }
  failures.sort((a, b) => a.line - b.line);
  return { added, failures, elapsedMs: performance.now() - started };
}

/** `work` over `items` with at most `limit` promises pending at once; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
