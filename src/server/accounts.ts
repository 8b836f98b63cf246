import { MAX_PASSWORD_CHARS, USER_NAME_PATTERN, codePointLength } from '../protocol/index.ts';
import { MEMORY_DATABASE, openDatabase, type ChatDatabase } from './database.ts';
import { randomBytes } from 'node:crypto';
import { nameSkeleton } from './name-skeleton.ts';
import { DEFAULT_SCRYPT_PARAMS, checkScryptParams, hashPassword, parseHash, verifyPassword, type ScryptParams } from './password.ts';

/** Why an account operation was refused; `code` matches the protocol's error codes where one fits. */
export class AccountError extends Error {
  constructor(
    readonly code: 'user_exists' | 'bad_request' | 'unknown_user',
    message: string,
    /** For `user_exists`: the existing account's name (differs from the one asked for when it is a look-alike). */
    readonly existing?: string,
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
  /** With a path: open only an existing database file, never create one (see {@link openDatabase}). */
  mustExist?: boolean;
}

/** What the protocol rules need of an account store: {@link AccountStore} (SQLite) or a cluster's Redis one. */
export interface AccountBook {
  /** Whether the password is right for this user (false for an unknown user, after the same work). */
  verify(user: string, password: string): Promise<boolean>;
  /** Creates an account; throws {@link AccountError} (`bad_request`, `user_exists`). */
  add(user: string, password: string): Promise<void>;
  /** Whether the account exists (synchronous: a clustered store answers from its copy of the names). */
  has(user: string): boolean;
}

/**
 * User accounts in SQLite. Passwords are only ever kept as salted scrypt hashes; a failed lookup
 * costs the same time as a wrong password, so response times do not tell who has an account.
 * Names are kept exactly as registered and a login must give the exact name, but a name whose
 * {@link nameSkeleton} is taken cannot be registered (a unique index in the database enforces it).
 */
export class AccountStore implements AccountBook {
  /** The underlying database (other stores of the server add their tables to it). */
  readonly db: ChatDatabase;
  private readonly ownsDb: boolean;
  private readonly scrypt: ScryptParams;
  /** A well-formed hash nobody's password matches, checked when the user is unknown; made by {@link decoyHash}. */
  private decoy: { like: string; hash: string } | undefined;
  private readonly statements;

  constructor(options: AccountStoreOptions = {}) {
    const db = options.db ?? MEMORY_DATABASE;
    this.ownsDb = typeof db === 'string';
    this.db = typeof db === 'string' ? openDatabase(db, { mustExist: options.mustExist ?? false }) : db;
    this.scrypt = { ...(options.scrypt ?? DEFAULT_SCRYPT_PARAMS) };
    checkScryptParams(this.scrypt);
    this.statements = {
      insert: this.db.prepare<[string, string, number, string]>('INSERT INTO users (name, password_hash, created_at, skeleton) VALUES (?, ?, ?, ?)'),
      hashOf: this.db.prepare<[string], { password_hash: string }>('SELECT password_hash FROM users WHERE name = ?'),
      bySkeleton: this.db.prepare<[string], string>('SELECT name FROM users WHERE skeleton = ?').pluck(),
      // users is a rowid table: the newest row is the last inserted, found without a scan.
      newestHash: this.db.prepare<[], string>('SELECT password_hash FROM users ORDER BY rowid DESC LIMIT 1').pluck(),
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
    this.checkNameFree(user);
    const hash = await hashPassword(password, this.scrypt);
    try {
      this.statements.insert.run(user, hash, Date.now(), nameSkeleton(user));
    } catch (error) {
      // Two registrations of one name (or of look-alikes) can race through the hashing; the
      // primary key and the unique skeleton index settle it.
      const code = (error as { code?: string }).code;
      if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') this.checkNameFree(user);
      throw error;
    }
  }

  /** @throws AccountError `user_exists` when `user`, or a name with the same skeleton, is taken. */
  private checkNameFree(user: string): void {
    if (this.has(user)) throw new AccountError('user_exists', `the user "${user}" already exists`, user);
    const similar = this.statements.bySkeleton.get(nameSkeleton(user));
    if (similar !== undefined) {
      throw new AccountError('user_exists', `the name "${user}" is too similar to the existing user "${similar}"`, similar);
    }
  }

  /**
   * Creates many accounts whose passwords were hashed with {@link hash} (a bulk import hashes in
   * parallel, then inserts a batch at once): one transaction, so a batch costs one commit. Names
   * already taken (or too similar to a taken one, earlier in the batch included) are left out, not
   * fatal; returns them with the reason. Names and hashes must be checked by the caller
   * ({@link checkNewAccount}).
   */
  insertHashed(accounts: readonly { user: string; hash: string }[]): { user: string; message: string }[] {
    const refused: { user: string; message: string }[] = [];
    const now = Date.now();
    this.db.transaction(() => {
      for (const { user, hash } of accounts) {
        try {
          this.checkNameFree(user);
        } catch (error) {
          if (!(error instanceof AccountError)) throw error;
          refused.push({ user, message: error.message });
          continue;
        }
        this.statements.insert.run(user, hash, now, nameSkeleton(user));
      }
    })();
    return refused;
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
      await verifyPassword(String(password), this.decoyHash());
      return false;
    }
    return verifyPassword(password, row.password_hash);
  }

  /**
   * The hash an unknown user's password is checked against: random, with the cost parameters and
   * key length of the newest stored hash (the store's own parameters while there is none), so
   * checking it costs what checking a real account's password costs.
   */
  decoyHash(): string {
    const newest = this.statements.newestHash.get();
    let model: { params: ScryptParams; keyBytes: number } = { params: this.scrypt, keyBytes: 32 };
    if (newest !== undefined) {
      try {
        const parsed = parseHash(newest);
        model = { params: parsed.params, keyBytes: parsed.key.length };
      } catch {
        // A malformed stored hash is checked as a mismatch at no cost: keep our own parameters.
      }
    }
    const { N, r, p } = model.params;
    const like = `${N},${r},${p},${model.keyBytes}`;
    if (this.decoy?.like !== like) {
      this.decoy = { like, hash: `scrypt$N=${N},r=${r},p=${p}$${randomBytes(16).toString('base64')}$${randomBytes(model.keyBytes).toString('base64')}` };
    }
    return this.decoy.hash;
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
