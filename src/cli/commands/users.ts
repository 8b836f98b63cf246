import type { Command } from 'commander';
import { MAX_PASSWORD_CHARS, MIN_NEW_PASSWORD_CHARS, USER_NAME_PATTERN, codePointLength } from '../../protocol/index.ts';
import { readFile } from 'node:fs/promises';
import { AccountError, AccountStore, importAccounts, type ImportProgress } from '../../server/index.ts';
import { CliError } from '../errors.ts';

const DEFAULT_DB = 'chatlab.db';

/** Registers `chatlab users add|import|list|remove`: manage the server's accounts database. */
export function registerUsersCommand(program: Command): void {
  const users = program.command('users').description("manage the server's accounts (scrypt hashes in SQLite)");
  users
    .command('add <user>')
    .description('create an account (password from --password, a hidden prompt, or the first line of stdin)')
    .option('--password <password>', 'the password (visible in your shell history: prefer the prompt or stdin)')
    .option('--db <file>', 'accounts database file', DEFAULT_DB)
    .action(async (user: string, options: { password?: string; db: string }) => {
      if (!USER_NAME_PATTERN.test(user)) throw new CliError(`"${user}" is not a user name: 1–32 characters of A–Z a–z 0–9 _ -`);
      const password = options.password ?? (await readPassword(user));
      const length = codePointLength(password);
      if (length < MIN_NEW_PASSWORD_CHARS || length > MAX_PASSWORD_CHARS) {
        throw new CliError(`a password is ${MIN_NEW_PASSWORD_CHARS}–${MAX_PASSWORD_CHARS} characters (got ${length})`);
      }
      await withStore(options.db, async (store) => {
        try {
          await store.add(user, password);
        } catch (error) {
          if (error instanceof AccountError) throw new CliError(error.code === 'user_exists' ? existsMessage(user, error.existing, options.db) : error.message);
          throw error;
        }
        process.stdout.write(`added user ${user} to ${options.db}\n`);
      });
    });
  users
    .command('import <file>')
    .description('create many accounts at once from lines "name:password" (- reads stdin); bad lines are reported and skipped')
    .option('--db <file>', 'accounts database file', DEFAULT_DB)
    .action(async (file: string, options: { db: string }) => {
      const text = await readAccountsFile(file);
      await withStore(options.db, async (store) => {
        const result = await importAccounts(store, text, { onProgress: reportProgress });
        for (const failure of result.failures) process.stderr.write(`line ${failure.line}: ${failure.message}\n`);
        const seconds = (result.elapsedMs / 1000).toFixed(1);
        const failed = result.failures.length;
        process.stdout.write(
          `imported ${result.added} account${result.added === 1 ? '' : 's'} into ${options.db} in ${seconds} s${failed ? `; ${failed} line${failed === 1 ? '' : 's'} failed` : ''}\n`,
        );
        if (failed) throw new CliError(`${failed} line${failed === 1 ? '' : 's'} of ${file === '-' ? 'stdin' : file} failed (see above); the other accounts were added`);
      });
    });
  users
    .command('list')
    .description('print every account name, one per line')
    .option('--db <file>', 'accounts database file', DEFAULT_DB)
    .action((options: { db: string }) =>
      withExistingStore(options.db, (store) => {
        const names = store.list();
        if (names.length === 0) process.stderr.write(`no accounts in ${options.db}\n`);
        for (const name of names) process.stdout.write(`${name}\n`);
      }),
    );
  users
    .command('remove <user>')
    .description('delete an account')
    .option('--db <file>', 'accounts database file', DEFAULT_DB)
    .action((user: string, options: { db: string }) =>
      withExistingStore(options.db, (store) => {
        if (!store.remove(user)) throw new CliError(`no user "${user}" in ${options.db}`);
        process.stdout.write(`removed user ${user} from ${options.db}\n`);
      }),
    );
}

/** Why `user` cannot be added: it exists, or it looks like `existing` (case, 1/l/i, 0/o, -/_). */
function existsMessage(user: string, existing: string | undefined, db: string): string {
  if (existing === undefined || existing === user) return `user "${user}" already exists in ${db}`;
  return `user "${user}" is too similar to the existing user "${existing}" in ${db} (names may not differ only by case, 1/l/i, 0/o or -/_)`;
}

/** The text of an import file, or of stdin for `-`. */
async function readAccountsFile(file: string): Promise<string> {
  if (file === '-') {
    let input = '';
    process.stdin.setEncoding('utf8');
    for await (const chunk of process.stdin) input += chunk as string;
    return input;
  }
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `no file ${file}` : `cannot read ${file}: ${(error as Error).message}`);
  }
}

/** One progress line per batch on stderr: the import of 10,000 accounts takes a while at the default scrypt cost. */
function reportProgress({ done, total, added, elapsedMs }: ImportProgress): void {
  const rate = elapsedMs > 0 ? Math.round((done * 1000) / elapsedMs) : 0;
  process.stderr.write(`${done}/${total} accounts hashed, ${added} added (${rate}/s)\n`);
}

/** Runs `work` on the accounts in `db`, creating the database if needed (commands that add). */
async function withStore(db: string, work: (store: AccountStore) => void | Promise<void>): Promise<void> {
  return useStore(new AccountStore({ db }), work);
}

/** Runs `work` on the accounts in an existing `db`: a mistyped name must not leave an empty database behind. */
async function withExistingStore(db: string, work: (store: AccountStore) => void | Promise<void>): Promise<void> {
  return useStore(new AccountStore({ db, mustExist: true }), work);
}

// A bad or missing database throws in the AccountStore constructor; main.ts prints it as one line.
async function useStore(store: AccountStore, work: (store: AccountStore) => void | Promise<void>): Promise<void> {
  try {
    await work(store);
  } finally {
    store.close();
  }
}

/** The password: a hidden prompt (typed twice) on a terminal, else the first line of stdin. */
async function readPassword(user: string): Promise<string> {
  if (process.stdin.isTTY) {
    const first = await promptHidden(`password for ${user}: `);
    const again = await promptHidden('again: ');
    if (first !== again) throw new CliError('the two passwords differ; nothing was changed');
    return first;
  }
  let input = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) {
    input += chunk as string;
    if (input.includes('\n')) break;
  }
  const line = input.split('\n')[0]?.replace(/\r$/, '') ?? '';
  if (line === '') throw new CliError('no password: pass --password, type it at the prompt, or pipe it on stdin');
  return line;
}

/** Reads one line from the terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.resume();
    let typed = '';
    const done = (error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return done();
        if (char === '\u0003' || char === '\u0004') return done(new CliError('cancelled; nothing was changed'));
        if (char === '\u007f' || char === '\b') typed = [...typed].slice(0, -1).join('');
        else if (char >= ' ') typed += char;
      }
    };
    stdin.on('data', onData);
  });
}
