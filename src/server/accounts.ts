import { MAX_PASSWORD_CHARS, USER_NAME_PATTERN, codePointLength } from '../protocol/index.ts';
import { MEMORY_DATABASE, openDatabase, type ChatDatabase } from './database.ts';
import { randomBytes } from 'node:crypto';
import { DEFAULT_SCRYPT_PARAMS, checkScryptParams, hashPassword, verifyPassword, type ScryptParams } from './password.ts';

/** Why an account operation was refused; `code` matches the protocol's error codes where one fits. */
export class AccountError extends Error {
  constructor(
    readonly code: 'user_exists' | 'bad_request' | 'unknown_user',
    message: string,
  ) {
    super(message);
    this.name = 'AccountError';
  }
}

/** Options of {@link AccountStore}. */
export interface AccountStoreOptions {
  /** An open database (shared with other stores), or a path / ':memory:' to open. Default ':memory:'. */
  db?: ChatDatabase | string;
  /** scrypt cost for new hashes (existing hashes keep the cost they were made with). */
  scrypt?: ScryptParams;
}

/**
 * User accounts in SQLite. Passwords are only ever kept as salted scrypt hashes; a failed lookup
 * costs the same time as a wrong password, so response times do not tell who has an account.
 */
export class AccountStore {
  /** The underlying database (other stores of the server add their tables to it). */
  readonly db: ChatDatabase;
  private readonly ownsDb: boolean;
  private readonly scrypt: ScryptParams;
  /** A well-formed hash nobody's password matches: checked against when the user is unknown. */
  private readonly decoyHash: string;
  private readonly statements;

  constructor(options: AccountStoreOptions = {}) {
    const db = options.db ?? MEMORY_DATABASE;
    this.ownsDb = typeof db === 'string';
    this.db = typeof db === 'string' ? openDatabase(db) : db;
    this.scrypt = { ...(options.scrypt ?? DEFAULT_SCRYPT_PARAMS) };
    checkScryptParams(this.scrypt);
    const { N, r, p } = this.scrypt;
    this.decoyHash = `scrypt$N=${N},r=${r},p=${p}$${randomBytes(16).toString('base64')}$${randomBytes(32).toString('base64')}`;
    this.statements = {
      insert: this.db.prepare<[string, string, number]>('INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)'),
      hashOf: this.db.prepare<[string], { password_hash: string }>('SELECT password_hash FROM users WHERE name = ?'),
      list: this.db.prepare<[], { name: string }>('SELECT name FROM users ORDER BY name'),
      remove: this.db.prepare<[string]>('DELETE FROM users WHERE name = ?'),
    };
  }

  /**
   * Creates an account.
   * @throws AccountError `bad_request` for a malformed name or password, `user_exists` when taken.
   */
  async add(user: string, password: string): Promise<void> {
    checkNewAccount(user, password);
    if (this.has(user)) throw new AccountError('user_exists', `the user "${user}" already exists`);
    const hash = await hashPassword(password, this.scrypt);
    try {
      this.statements.insert.run(user, hash, Date.now());
    } catch (error) {
      // Two registrations of one name can race through the hashing; the primary key settles it.
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new AccountError('user_exists', `the user "${user}" already exists`);
      }
      throw error;
    }
  }

  /**
   * Creates many accounts whose passwords were hashed with {@link hash} (a bulk import hashes in
   * parallel, then inserts a batch at once): one transaction, so a batch costs one commit. Names
   * already taken are left out, not fatal; returns them. Names and hashes must be checked by the
   * caller ({@link checkNewAccount}).
   */
  insertHashed(accounts: readonly { user: string; hash: string }[]): string[] {
    const taken: string[] = [];
    const now = Date.now();
    this.db.transaction(() => {
      for (const { user, hash } of accounts) {
        if (this.has(user)) {
          taken.push(user);
          continue;
        }
        this.statements.insert.run(user, hash, now);
      }
    })();
    return taken;
  }

  /** Hashes a password with this store's scrypt cost, as {@link add} does (on libuv's thread pool). */
  hash(password: string): Promise<string> {
    return hashPassword(password, this.scrypt);
  }

  /** Whether the password is right for this user. False for an unknown user, after the same work. */
  async verify(user: string, password: string): Promise<boolean> {
    const row = typeof user === 'string' ? this.statements.hashOf.get(user) : undefined;
    if (!row) {
      // Spend the time a real check takes, so an unknown name is not faster than a wrong password.
      await verifyPassword(String(password), this.decoyHash);
      return false;
    }
    return verifyPassword(password, row.password_hash);
  }

  /** Whether an account of that name exists. */
  has(user: string): boolean {
    return this.statements.hashOf.get(user) !== undefined;
  }

  /** Every account name, sorted. */
  list(): string[] {
    return this.statements.list.all().map((row) => row.name);
  }

  /** Deletes an account; returns whether it existed. */
  remove(user: string): boolean {
    return this.statements.remove.run(user).changes > 0;
  }

  /** The stored hash of a user (for tests and audits: proves no clear text is kept). */
  storedHash(user: string): string | undefined {
    return this.statements.hashOf.get(user)?.password_hash;
  }

  /** Closes the database if this store opened it. Safe to call twice. */
  close(): void {
    if (this.ownsDb && this.db.open) this.db.close();
  }
}

/**
 * Checks a name and password for a new account as {@link AccountStore.add} does.
 * @throws AccountError `bad_request` saying what is wrong.
 */
export function checkNewAccount(user: string, password: string): void {
  checkUserName(user);
  if (typeof password !== 'string' || password.length === 0 || codePointLength(password) > MAX_PASSWORD_CHARS) {
    throw new AccountError('bad_request', `a password is 1–${MAX_PASSWORD_CHARS} characters`);
  }
}

function checkUserName(user: string): void {
  if (typeof user !== 'string' || !USER_NAME_PATTERN.test(user)) {
    throw new AccountError('bad_request', `"${user}" is not a user name: 1–32 characters of A–Z a–z 0–9 _ -`);
  }
}
