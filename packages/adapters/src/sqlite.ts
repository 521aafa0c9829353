import type { Database, Statement } from 'better-sqlite3';
import { ConflictError, systemClock, UnavailableError, type Clock, type SecretRecord, type SecretStore } from '@vanish/core';
import { startPurgeTimer, type PurgeTimer } from './internal/purge-timer.js';

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** an open better-sqlite3 database (version 12) */
  database: Database;
  /** table holding the records; letters, digits and `_`; default `"vanish_secrets"` */
  tableName?: string;
  /** how often expired rows are deleted, ms; 0 disables; default 60 000 */
  purgeIntervalMs?: number;
  /** time source for the periodic purge; default `Date.now` */
  clock?: Clock;
  /** close `database` in {@link SqliteStore.close}; default `false` (the caller owns it) */
  closeDatabase?: boolean;
}

interface Row {
  id: Buffer;
  v: number;
  kdf_n: number;
  kdf_r: number;
  kdf_p: number;
  salt: Buffer;
  iv: Buffer;
  ciphertext: Buffer;
  created_at: number;
  expires_at: number;
  max_attempts: number;
  attempts: number;
}

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

function toRecord(row: Row): SecretRecord {
  return {
    id: row.id,
    v: row.v,
    kdf: { N: row.kdf_n, r: row.kdf_r, p: row.kdf_p },
    salt: row.salt,
    iv: row.iv,
    ciphertext: row.ciphertext,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    maxAttempts: row.max_attempts,
    attempts: row.attempts,
  };
}

/**
 * A {@link SecretStore} in an SQLite file through better-sqlite3.
 *
 * @remarks
 * Sets WAL mode, `secure_delete` (deleted rows are overwritten with zeros, not just
 * unlinked) and a busy timeout, and creates its table and expiry index if missing.
 * Atomicity: reserve is one `UPDATE … RETURNING` conditioned on existence, expiry
 * and attempts left; claim is one `DELETE … RETURNING` conditioned on id, IV and
 * expiry. SQLite serialises writers, so this holds across processes sharing the file.
 * A periodic sweep deletes expired rows; correctness never depends on it.
 *
 * better-sqlite3 is synchronous: each call blocks the event loop for the statement's
 * duration (microseconds for these point queries).
 */
export class SqliteStore implements SecretStore {
  readonly #db: Database;
  readonly #closeDatabase: boolean;
  readonly #purgeTimer: PurgeTimer;
  readonly #sql: {
    insert: Statement<[Buffer, number, number, number, number, Buffer, Buffer, Buffer, number, number, number, number]>;
    reserve: Statement<[Buffer, number], Row>;
    claim: Statement<[Buffer, Buffer, number]>;
    burn: Statement<[Buffer]>;
    delete: Statement<[Buffer]>;
    purge: Statement<[number]>;
    ping: Statement<[], unknown>;
  };
  #closed = false;

  /**
   * @param options - database handle and table
   * @throws {@link RangeError} when `tableName` or `purgeIntervalMs` is invalid
   */
  constructor(options: SqliteStoreOptions) {
    const table = options.tableName ?? 'vanish_secrets';
    if (!TABLE_NAME.test(table)) {
      throw new RangeError('tableName must start with a letter or "_" and hold only letters, digits and "_".');
    }
    const db = options.database;
    this.#db = db;
    this.#closeDatabase = options.closeDatabase ?? false;
    db.pragma('busy_timeout = 5000');
    if (!db.memory) db.pragma('journal_mode = WAL');
    db.pragma('secure_delete = ON');
    db.exec(`
      CREATE TABLE IF NOT EXISTS "${table}" (
        id BLOB PRIMARY KEY NOT NULL,
        v INTEGER NOT NULL,
        kdf_n INTEGER NOT NULL,
        kdf_r INTEGER NOT NULL,
        kdf_p INTEGER NOT NULL,
        salt BLOB NOT NULL,
        iv BLOB NOT NULL,
        ciphertext BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        max_attempts INTEGER NOT NULL,
        attempts INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS "${table}_expires_at" ON "${table}" (expires_at);
    `);
    this.#sql = {
      insert: db.prepare(`INSERT INTO "${table}" (id, v, kdf_n, kdf_r, kdf_p, salt, iv, ciphertext, created_at, expires_at, max_attempts, attempts)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      reserve: db.prepare(`UPDATE "${table}" SET attempts = attempts + 1
        WHERE id = ? AND expires_at > ? AND attempts < max_attempts RETURNING *`),
      claim: db.prepare(`DELETE FROM "${table}" WHERE id = ? AND iv = ? AND expires_at > ?`),
      burn: db.prepare(`DELETE FROM "${table}" WHERE id = ? AND attempts >= max_attempts`),
      delete: db.prepare(`DELETE FROM "${table}" WHERE id = ?`),
      purge: db.prepare(`DELETE FROM "${table}" WHERE expires_at <= ?`),
      ping: db.prepare('SELECT 1'),
    };
    this.#purgeTimer = startPurgeTimer(
      (now) => this.purgeExpired(now),
      options.purgeIntervalMs ?? 60_000,
      options.clock ?? systemClock,
    );
  }

  #open(): void {
    if (this.#closed) throw new UnavailableError('The SQLite store is closed.');
  }

  /** {@inheritDoc SecretStore.create} */
  async create(r: SecretRecord): Promise<void> {
    this.#open();
    try {
      this.#sql.insert.run(
        r.id, r.v, r.kdf.N, r.kdf.r, r.kdf.p, r.salt, r.iv, r.ciphertext, r.createdAt, r.expiresAt, r.maxAttempts, r.attempts,
      );
    } catch (err) {
      if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new ConflictError('A record with this id already exists.', { cause: err });
      }
      throw err;
    }
  }

  /** {@inheritDoc SecretStore.reserve} */
  async reserve(id: Buffer, now: number): Promise<SecretRecord | null> {
    this.#open();
    const row = this.#sql.reserve.get(id, now);
    return row ? toRecord(row) : null;
  }

  /** {@inheritDoc SecretStore.claim} */
  async claim(id: Buffer, iv: Buffer, now: number): Promise<boolean> {
    this.#open();
    return this.#sql.claim.run(id, iv, now).changes === 1;
  }

  /** {@inheritDoc SecretStore.burnIfExhausted} */
  async burnIfExhausted(id: Buffer): Promise<boolean> {
    this.#open();
    return this.#sql.burn.run(id).changes === 1;
  }

  /** {@inheritDoc SecretStore.delete} */
  async delete(id: Buffer): Promise<boolean> {
    this.#open();
    return this.#sql.delete.run(id).changes === 1;
  }

  /** {@inheritDoc SecretStore.purgeExpired} */
  async purgeExpired(now: number): Promise<number> {
    this.#open();
    return this.#sql.purge.run(now).changes;
  }

  /** {@inheritDoc SecretStore.ping} */
  async ping(): Promise<void> {
    this.#open();
    this.#sql.ping.get();
  }

  /** Stops the sweep and, with `closeDatabase`, closes the database. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#purgeTimer.stop();
    if (this.#closeDatabase && this.#db.open) this.#db.close();
  }
}
