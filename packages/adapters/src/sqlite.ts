import { closeSync, fdatasync, fstatSync, openSync } from 'node:fs';
import type { Database, Statement } from 'better-sqlite3';
import {
  ConfigurationError,
  ConflictError,
  systemClock,
  UnavailableError,
  type Clock,
  type SecretRecord,
  type SecretStore,
} from '@vanish/core';
import { startPurgeTimer, type PurgeTimer } from './internal/purge-timer.js';
import { startCheckpointer, type Checkpointer, type CheckpointMode } from './internal/checkpointer.js';
import { checkCloseClient, checkMs } from './internal/options.js';
import { sqliteStatements } from './internal/sqlite-statements.js';

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
  /**
   * The store owns its database handle and closes it in {@link SqliteStore.close};
   * default `false` (the caller owns it).
   */
  closeClient?: boolean;
  /**
   * How long an operation may wait for another connection's write lock, ms; default 2000.
   * The wait never blocks the event loop (short tries with asynchronous back-off); past it
   * the operation rejects with `UnavailableError`.
   */
  lockTimeoutMs?: number;
  /**
   * After a commit that removed records (claim, burn, delete, purge), the write-ahead log is
   * checkpointed and truncated (`wal_checkpoint(TRUNCATE)`) so the removed rows' old
   * versions do not linger in the `-wal` file: at most once per this many ms; default 1000.
   * 0 checkpoints right after every such commit.
   */
  checkpointIntervalMs?: number;
}

/** Counters of {@link SqliteStore.stats}. */
export interface SqliteStoreStats {
  /**
   * Write transactions of create, reserve, claim, burn and delete (purge steps, which need no
   * sync, are not counted).
   */
  commits: number;
  /** write operations carried by those commits (create, reserve, claim, burnIfExhausted, delete) */
  operations: number;
  /**
   * Syncs that made those commits durable: `fdatasync` calls on the write-ahead log in WAL
   * mode (one covers every commit made before it started), else one per commit
   * (`synchronous=FULL`). `syncs / operations` is the syncs paid per write.
   */
  syncs: number;
  /** completed `wal_checkpoint(TRUNCATE)` runs (the `-wal` file emptied) */
  checkpoints: number;
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

/** One queued write: run inside the group transaction, settled after the commit. */
interface Op {
  run(): unknown;
  /** whether the operation's result says it removed a record (makes a checkpoint due) */
  removed: (value: unknown) => boolean;
  /** a purge step: runs in a transaction of its own, committed without a sync */
  purge: boolean;
  /** when waiting for another connection's write lock ends; set at the first busy try */
  deadline: number | undefined;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** A committed operation and its outcome, settled once the commit is durable. */
interface Committed {
  op: Op;
  outcome: Outcome;
}

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** busy_timeout of every statement: SQLite's busy handler sleeps synchronously, so keep it tiny */
const BUSY_TIMEOUT_MS = 2;
/**
 * busy_timeout of the checkpoint worker's connection: a pending TRUNCATE checkpoint holds off
 * new writers, so it must not wait long
 */
const WORKER_BUSY_TIMEOUT_MS = 20;
/** most operations in one transaction (bounds how long one commit blocks the event loop) */
const MAX_BATCH = 256;
/** rows per purge statement; a purge step runs such statements until its budget is spent */
const PURGE_CHUNK = 50;
/** time budget of one purge step (one transaction), ms */
const PURGE_STEP_MS = 2;
/** most rows of one purge step (each row dirties a page the commit writes) */
const PURGE_STEP_ROWS = 100;
/** rows deleted between two passive checkpoints of a long purge */
const PURGE_CHECKPOINT_ROWS = 500;
const never = () => false;
const wasTrue = (value: unknown) => value === true;
/** longest pause between two tries for a busy write lock, ms */
const MAX_BACKOFF_MS = 25;

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

function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Every database handle and statement a store made, kept for the life of the process. On Node 22
 * and later, better-sqlite3 12 can abort the process when the garbage collector finalizes one of
 * its statement objects ("RemoveEnvironmentCleanupHook … (env) != nullptr" in
 * Statement::~Statement, seen on Node 24). Nothing of a store is ever collected, so nothing is
 * finalized; a store holds one handle and a dozen statements, closed on `close()`.
 */
const RETAINED = new Set<object>();

/**
 * The database's file as SQLite itself names it: absolute and with symlinks resolved, fixed
 * when the connection opened (a relative name given to better-sqlite3 would follow a later
 * `chdir`); its `-wal` file is this name plus `-wal`. `undefined` for an in-memory or temporary
 * database.
 */
function mainFile(db: Database): string | undefined {
  const list = db.prepare('PRAGMA database_list');
  RETAINED.add(list);
  const row = (list.all() as { name: string; file: string }[]).find((r) => r.name === 'main');
  return row?.file || undefined;
}

/**
 * Opens the `-wal` file of a WAL database for syncing. It exists once a WAL connection has
 * read the file (the store's setup does), and SQLite removes it only when the last connection
 * closes (an open connection keeps a shared lock that stops the closing one), so the
 * descriptor names it for the store's whole life.
 *
 * @returns the descriptor, or `undefined` when there is no such regular, linked file
 */
function openWal(file: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(`${file}-wal`, 'r');
    const st = fstatSync(fd);
    if (st.isFile() && st.nlink > 0) return fd;
  } catch {
    // no -wal file: the caller keeps synchronous=FULL
  }
  if (fd !== undefined) closeSync(fd);
  return undefined;
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/**
 * A {@link SecretStore} in an SQLite file through better-sqlite3.
 *
 * @remarks
 * Sets, on its connection, WAL mode, `secure_delete=ON` (deleted rows are overwritten with
 * zeros) and a 2 ms busy timeout, and creates its table and expiry index if missing.
 *
 * Durability: a write's promise resolves only once the write is on disk, so a resolved write
 * survives a power cut. In WAL mode the connection runs `synchronous=NORMAL` and the store
 * itself `fdatasync`s the `-wal` file after each commit, on libuv's thread pool, before it
 * settles the commit's promises: the sync `synchronous=FULL` would make inside the commit,
 * without blocking the event loop for it. Outside WAL mode (an in-memory database, or a file
 * system without shared memory) it runs `synchronous=FULL`. A failed sync fails the store
 * closed: that commit's calls, the queued ones and every later one reject with
 * `UnavailableError` (the commit may be in the file without being durable) until the store is
 * built again. A connection the caller keeps (`closeClient: false`) gets `synchronous=FULL`
 * back on `close()`.
 *
 * Group commit: create, reserve, claim, burn and delete are queued and run together, in
 * call order, in one `BEGIN IMMEDIATE` transaction, on the next event-loop turn; writes
 * issued while a commit's sync, an earlier commit or a lock wait is under way join the next
 * one, so one sync covers every write that arrived during the last. Each operation is one
 * statement, which SQLite undoes alone when it fails, so one failing operation (a duplicate id)
 * rejects alone.
 * {@link SqliteStore.stats} counts commits, operations and syncs.
 *
 * Atomicity: reserve is one `UPDATE … RETURNING` conditioned on existence, expiry and
 * attempts left; claim is one `DELETE` conditioned on id, IV and expiry. SQLite serialises
 * writers, so this holds across processes sharing the file.
 *
 * Locks: when another connection holds the write lock, the store retries with asynchronous
 * back-off (never blocking the event loop more than the 2 ms busy timeout per try) until
 * `lockTimeoutMs`, then rejects with `UnavailableError`.
 *
 * Removal: after commits that removed records the WAL is checkpointed and truncated (at most
 * every `checkpointIntervalMs`, and on close), so a read secret's bytes are gone from both
 * files. Checkpoints run on a second connection in a worker thread, so their writes and syncs
 * do not block the event loop. The expiry sweep deletes in short transactions (at most 100 rows,
 * about 2 ms) and yields between them.
 */
export class SqliteStore implements SecretStore {
  readonly #db: Database;
  readonly #closeClient: boolean;
  readonly #lockTimeoutMs: number;
  readonly #checkpointIntervalMs: number;
  readonly #wal: boolean;
  readonly #purgeTimer: PurgeTimer;
  readonly #sql: {
    insert: Statement<[Buffer, number, number, number, number, Buffer, Buffer, Buffer, number, number, number, number]>;
    reserve: Statement<[Buffer, number], Row>;
    claim: Statement<[Buffer, Buffer, number]>;
    burn: Statement<[Buffer]>;
    delete: Statement<[Buffer]>;
    purge: Statement<[number, number]>;
    ping: Statement<[], unknown>;
    checkpointTruncate: Statement<[], unknown>;
    checkpointPassive: Statement<[], unknown>;
  };
  readonly #batch: { immediate(ops: Op[], out: Outcome[]): void };
  #queue: Op[] = [];
  #flushTimer: NodeJS.Immediate | NodeJS.Timeout | undefined;
  #busyTries = 0;
  #drainWaiters: (() => void)[] = [];
  #checkpointDue = false;
  /** counts commits that removed records, so a checkpoint knows whether one came in meanwhile */
  #removals = 0;
  #checkpointTimer: NodeJS.Timeout | undefined;
  #checkpointRunning: Promise<void> | undefined;
  #checkpointer: Checkpointer | undefined;
  #truncateStarved = false;
  /** purges under way: they checkpoint (passively, in the worker) as they go; TRUNCATE waits for their end */
  #purging = 0;
  #lastCheckpoint = Number.NEGATIVE_INFINITY;
  #stats: SqliteStoreStats = { commits: 0, operations: 0, syncs: 0, checkpoints: 0 };
  #closed = false;
  /** the `-wal` file, opened for `fdatasync`; `undefined` outside WAL mode (then `synchronous=FULL`) */
  #walFd: number | undefined;
  /** a sync of the WAL is under way; commits wait for its end */
  #syncing = false;
  /** the database file, absolute and resolved (`PRAGMA database_list`); `undefined` in memory */
  readonly #file: string | undefined;
  /** set by a failed sync: every later write is refused (see #sync) */
  #failed: UnavailableError | undefined;

  /**
   * @param options - database handle, table and timings
   * @throws {@link ConfigurationError} when an option is invalid
   */
  constructor(options: SqliteStoreOptions) {
    const table = options.tableName ?? 'vanish_secrets';
    if (!TABLE_NAME.test(table)) {
      throw new ConfigurationError('tableName must start with a letter or "_" and hold only letters, digits and "_".');
    }
    this.#closeClient = checkCloseClient(options.closeClient);
    this.#lockTimeoutMs = checkMs(options.lockTimeoutMs, 2000, 'lockTimeoutMs', 1);
    this.#checkpointIntervalMs = checkMs(options.checkpointIntervalMs, 1000, 'checkpointIntervalMs', 0);
    const purgeIntervalMs = checkMs(options.purgeIntervalMs, 60_000, 'purgeIntervalMs', 0);
    const db = options.database;
    this.#db = db;
    RETAINED.add(db);
    // Setup runs once at startup and may wait for another process (synchronously) up to the lock timeout.
    // Pragmas are set through exec(), which leaves no statement object behind for the GC.
    db.exec(`PRAGMA busy_timeout = ${this.#lockTimeoutMs}`);
    if (!db.memory) {
      // Switching to WAL needs a moment alone with the file: several processes opening it at once
      // (vanish serve --workers) can get SQLITE_BUSY here without the busy handler, so retry.
      const deadline = Date.now() + this.#lockTimeoutMs;
      for (;;) {
        try {
          db.exec('PRAGMA journal_mode = WAL');
          break;
        } catch (err) {
          if (!isBusy(err) || Date.now() > deadline) throw err;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        }
      }
    }
    const journalMode = db.prepare('PRAGMA journal_mode');
    RETAINED.add(journalMode);
    this.#wal = journalMode.pluck().get() === 'wal';
    // FULL: the sync inside each commit, until the -wal file is open below.
    db.exec('PRAGMA synchronous = FULL');
    db.exec('PRAGMA secure_delete = ON');
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
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.#file = mainFile(db);
    this.#walFd = this.#wal && this.#file ? openWal(this.#file) : undefined;
    // WAL: NORMAL commits without a sync and #sync() adds the one FULL would make, off the
    // event loop. Without the -wal file's descriptor it stays FULL.
    if (this.#walFd !== undefined) db.exec('PRAGMA synchronous = NORMAL');
    const sql = sqliteStatements(table);
    this.#sql = {
      insert: db.prepare(sql.insert),
      reserve: db.prepare(sql.reserve),
      claim: db.prepare(sql.claim),
      burn: db.prepare(sql.burn),
      delete: db.prepare(sql.delete),
      purge: db.prepare(sql.purge),
      ping: db.prepare('SELECT 1'),
      checkpointTruncate: db.prepare('PRAGMA wal_checkpoint(TRUNCATE)'),
      checkpointPassive: db.prepare('PRAGMA wal_checkpoint(PASSIVE)'),
    };
    for (const statement of Object.values(this.#sql)) RETAINED.add(statement);
    // Each operation is one statement (a purge step runs alone), and SQLite undoes a failing
    // statement's own changes (a duplicate id: ABORT) while the transaction goes on, so a failing
    // operation fails alone without a savepoint of its own.
    this.#batch = db.transaction((ops: Op[], out: Outcome[]) => {
      for (const op of ops) {
        try {
          out.push({ ok: true, value: op.run() });
        } catch (error) {
          // Some errors (disk full, I/O) end the whole transaction: then nothing of the batch holds.
          if (!db.inTransaction) throw error;
          out.push({ ok: false, error });
        }
      }
    });
    this.#purgeTimer = startPurgeTimer((now) => this.purgeExpired(now), purgeIntervalMs, options.clock ?? systemClock);
  }

  #open(): void {
    if (this.#closed) throw new UnavailableError('The SQLite store is closed.');
    if (this.#failed) throw this.#failed;
  }

  /** Queues a write for the next group commit; settles after that commit. */
  #write<T>(run: () => T, removed: (value: unknown) => boolean = never, purge = false): Promise<T> {
    this.#open();
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ run, removed, purge, deadline: undefined, resolve: resolve as (v: unknown) => void, reject });
      this.#scheduleFlush(0);
    });
  }

  #scheduleFlush(delayMs: number): void {
    if (this.#flushTimer !== undefined) return;
    this.#flushTimer = delayMs === 0 ? setImmediate(() => this.#flush()) : setTimeout(() => this.#flush(), delayMs);
  }

  #flush(): void {
    this.#flushTimer = undefined;
    // While the WAL syncs, writes gather for the next commit; the sync's end flushes them.
    if (this.#syncing) return;
    const now = performance.now();
    // Deadlines start at an operation's first busy try (a slow event loop is not a lock).
    const overdue = this.#queue.filter((op) => op.deadline !== undefined && op.deadline <= now);
    if (overdue.length > 0) {
      this.#queue = this.#queue.filter((op) => !overdue.includes(op));
      for (const op of overdue) {
        op.reject(new UnavailableError(`The SQLite database stayed locked by another connection for ${this.#lockTimeoutMs} ms.`));
      }
    }
    if (this.#queue.length === 0) {
      this.#busyTries = 0;
      this.#drained();
      return;
    }
    const purge = this.#queue[0]!.purge;
    let count = 1;
    if (!purge) while (count < this.#queue.length && count < MAX_BATCH && !this.#queue[count]!.purge) count++;
    const ops = this.#queue.splice(0, count);
    const out: Outcome[] = [];
    // A purge step needs no sync: if a power cut loses it, the rows are still expired
    // (invisible to reserve and claim) and the next sweep deletes them again.
    const fullSync = purge && this.#walFd === undefined;
    try {
      if (fullSync) this.#db.exec('PRAGMA synchronous = NORMAL');
      try {
        this.#batch.immediate(ops, out);
      } finally {
        if (fullSync) this.#db.exec('PRAGMA synchronous = FULL');
      }
    } catch (err) {
      if (isBusy(err)) {
        // Another connection holds the write lock: try again later, without blocking the loop.
        this.#queue.unshift(...ops);
        this.#busyTries++;
        for (const op of ops) op.deadline ??= now + this.#lockTimeoutMs;
        const earliest = Math.min(...ops.map((op) => op.deadline!));
        const wait = Math.min(2 ** Math.min(this.#busyTries, 5), MAX_BACKOFF_MS, Math.max(1, Math.ceil(earliest - now)));
        this.#scheduleFlush(wait);
        return;
      }
      for (const op of ops) op.reject(err);
      this.#afterBatch();
      return;
    }
    this.#busyTries = 0;
    const committed = ops.map((op, i) => ({ op, outcome: out[i]! }));
    if (purge) {
      this.#settle(committed);
    } else {
      this.#stats.commits++;
      this.#stats.operations += ops.length;
      if (this.#walFd === undefined) {
        this.#stats.syncs++; // synchronous=FULL synced inside the commit
        this.#settle(committed);
      } else {
        this.#sync(this.#walFd, committed);
        return;
      }
    }
    this.#afterBatch();
  }

  /**
   * Makes a commit durable: `fdatasync` of the `-wal` file on the thread pool (Linux syncs
   * the file, whichever descriptor wrote it), then settles the commit's operations. Nothing
   * commits meanwhile.
   *
   * A failed sync fails the store closed: the commit's operations and every queued one reject,
   * and so does every later call until the store is built again. The commit is in the log but
   * may not survive a power cut, and Linux reports a writeback error once and may drop the
   * pages, so a later sync that succeeds would not vouch for it; a log that loses this commit
   * in recovery also loses every later one.
   */
  #sync(fd: number, committed: Committed[]): void {
    this.#syncing = true;
    fdatasync(fd, (err) => {
      this.#syncing = false;
      this.#stats.syncs++;
      if (err) {
        const error = new UnavailableError(
          'The SQLite write-ahead log could not be synced to disk; the store refuses every call until it is opened again.',
          { cause: err },
        );
        this.#failed = error;
        for (const { op, outcome } of committed) {
          // removed rows may still sit in the log: the next checkpoint (or close) tries to clear them
          if (outcome.ok && op.removed(outcome.value)) this.#checkpointDue = true;
          op.reject(error);
        }
        for (const op of this.#queue.splice(0)) op.reject(error);
      } else {
        this.#settle(committed);
      }
      this.#afterBatch();
    });
  }

  /** Settles committed operations: rejects the failed ones, resolves the rest, notes removals. */
  #settle(committed: Committed[]): void {
    for (const { op, outcome } of committed) {
      if (!outcome.ok) {
        op.reject(outcome.error);
        continue;
      }
      if (op.removed(outcome.value)) {
        this.#checkpointDue = true;
        this.#removals++;
      }
      op.resolve(outcome.value);
    }
    if (this.#checkpointDue) this.#scheduleCheckpoint();
  }

  #afterBatch(): void {
    if (this.#syncing) return; // the sync's end comes back here
    if (this.#queue.length > 0) this.#scheduleFlush(0);
    else this.#drained();
  }

  #drained(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }

  #scheduleCheckpoint(): void {
    if (!this.#wal || this.#checkpointTimer !== undefined || this.#checkpointRunning || this.#purging > 0 || this.#closed) return;
    const wait = Math.max(0, this.#lastCheckpoint + this.#checkpointIntervalMs - performance.now());
    this.#checkpointTimer = setTimeout(() => {
      this.#checkpointTimer = undefined;
      if (this.#closed) return;
      this.#checkpointRunning = this.#truncate().finally(() => {
        this.#checkpointRunning = undefined;
        if (this.#checkpointDue) this.#scheduleCheckpoint();
      });
    }, wait);
    this.#checkpointTimer.unref();
  }

  /** `wal_checkpoint(TRUNCATE)`; when readers or a writer elsewhere keep it from finishing, the next one tries again. */
  async #truncate(): Promise<void> {
    this.#lastCheckpoint = performance.now();
    const removals = this.#removals;
    // A worker checkpoint can lose every race against a steady stream of writes; after a busy
    // one, the next runs on this thread between two commits (blocking the loop for its length).
    const here = this.#truncateStarved;
    const done = await this.#walCheckpoint('TRUNCATE', here);
    this.#truncateStarved = !done && !here;
    if (done) {
      this.#stats.checkpoints++;
      // Records removed while it ran may still sit in the new log: then another one is due.
      if (this.#removals === removals) this.#checkpointDue = false;
    }
  }

  /**
   * Runs a checkpoint on a second connection in a worker thread, so its writes and syncs do
   * not block the event loop; on this thread when asked to, when no worker can run it, or on close.
   *
   * @returns whether it completed
   */
  async #walCheckpoint(mode: CheckpointMode, onThisThread = false): Promise<boolean> {
    if (!this.#closed && !onThisThread) {
      this.#checkpointer ??= startCheckpointer(this.#file ?? this.#db.name, WORKER_BUSY_TIMEOUT_MS);
      const result = await this.#checkpointer.run(mode);
      if (result !== 'unavailable') return result === 'done';
    }
    try {
      const row = (mode === 'TRUNCATE' ? this.#sql.checkpointTruncate : this.#sql.checkpointPassive).get() as { busy: number } | undefined;
      return row?.busy === 0;
    } catch {
      return false; // busy or I/O trouble: the next try (or close) does it
    }
  }

  /** {@inheritDoc SecretStore.create} */
  async create(r: SecretRecord): Promise<void> {
    const record = {
      ...r,
      kdf: { ...r.kdf },
      id: Buffer.from(r.id),
      salt: Buffer.from(r.salt),
      iv: Buffer.from(r.iv),
      ciphertext: Buffer.from(r.ciphertext),
    };
    try {
      await this.#write(() => {
        this.#sql.insert.run(
          record.id,
          record.v,
          record.kdf.N,
          record.kdf.r,
          record.kdf.p,
          record.salt,
          record.iv,
          record.ciphertext,
          record.createdAt,
          record.expiresAt,
          record.maxAttempts,
          record.attempts,
        );
      });
    } catch (err) {
      if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new ConflictError('A record with this id already exists.', { cause: err });
      }
      throw err;
    } finally {
      record.ciphertext.fill(0);
    }
  }

  /** {@inheritDoc SecretStore.reserve} */
  async reserve(id: Buffer, now: number): Promise<SecretRecord | null> {
    const key = Buffer.from(id);
    const row = await this.#write(() => this.#sql.reserve.get(key, now));
    return row ? toRecord(row) : null;
  }

  /** {@inheritDoc SecretStore.claim} */
  async claim(id: Buffer, iv: Buffer, now: number): Promise<boolean> {
    const [key, nonce] = [Buffer.from(id), Buffer.from(iv)];
    return this.#write(() => this.#sql.claim.run(key, nonce, now).changes === 1, wasTrue);
  }

  /** {@inheritDoc SecretStore.burnIfExhausted} */
  async burnIfExhausted(id: Buffer): Promise<boolean> {
    const key = Buffer.from(id);
    return this.#write(() => this.#sql.burn.run(key).changes === 1, wasTrue);
  }

  /** {@inheritDoc SecretStore.delete} */
  async delete(id: Buffer): Promise<boolean> {
    const key = Buffer.from(id);
    return this.#write(() => this.#sql.delete.run(key).changes === 1, wasTrue);
  }

  /**
   * {@inheritDoc SecretStore.purgeExpired}
   *
   * @remarks Deletes in steps: each step is one transaction that deletes 50 rows at a time,
   * at most 100 rows and about 2 ms (a slow or crowded machine gets smaller steps), committed
   * without a sync (a lost purge is redone by the next sweep). Between steps it yields to the
   * event loop, and every 500 rows or so a passive checkpoint runs in the worker thread so the
   * write-ahead log stays small, so a large backlog never blocks the event loop for long.
   */
  async purgeExpired(now: number): Promise<number> {
    this.#purging++;
    try {
      return await this.#purge(now);
    } finally {
      this.#purging--;
      if (this.#checkpointDue) this.#scheduleCheckpoint();
    }
  }

  async #purge(now: number): Promise<number> {
    let total = 0;
    let sinceCheckpoint = 0;
    const step = () => {
      const started = performance.now();
      let deleted = 0;
      let chunk: number;
      do {
        chunk = this.#sql.purge.run(now, PURGE_CHUNK).changes;
        deleted += chunk;
      } while (chunk === PURGE_CHUNK && deleted < PURGE_STEP_ROWS && performance.now() - started < PURGE_STEP_MS);
      return { deleted, more: chunk === PURGE_CHUNK };
    };
    for (;;) {
      const { deleted, more } = await this.#write(step, (v) => (v as { deleted: number }).deleted > 0, true);
      total += deleted;
      sinceCheckpoint += deleted;
      if (!more) return total;
      await yieldToLoop();
      if (this.#wal && !this.#closed && sinceCheckpoint >= PURGE_CHECKPOINT_ROWS) {
        sinceCheckpoint = 0;
        // Keeps the log short; a busy checkpoint only leaves it longer (the TRUNCATE policy follows).
        await this.#walCheckpoint('PASSIVE');
      }
    }
  }

  /** {@inheritDoc SecretStore.ping} */
  async ping(): Promise<void> {
    this.#open();
    this.#sql.ping.get();
  }

  /**
   * Write counters since the store was built, e.g. for a benchmark's syncs per request.
   *
   * @returns a snapshot of the counters
   */
  stats(): SqliteStoreStats {
    return { ...this.#stats };
  }

  /**
   * Refuses new calls, waits for queued writes to commit (or time out), stops the sweep,
   * checkpoints the WAL if records were removed since the last checkpoint and, with
   * `closeClient`, closes the database. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#purgeTimer.stop();
    if (this.#queue.length > 0 || this.#flushTimer !== undefined || this.#syncing) {
      await new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
    }
    clearTimeout(this.#checkpointTimer);
    this.#checkpointTimer = undefined;
    await this.#checkpointRunning;
    await this.#checkpointer?.close();
    if (this.#checkpointDue && this.#wal && this.#db.open && (await this.#walCheckpoint('TRUNCATE'))) {
      this.#checkpointDue = false;
      this.#stats.checkpoints++;
    }
    if (this.#walFd !== undefined) {
      try {
        closeSync(this.#walFd);
      } catch {
        // already gone (EBADF): nothing to release
      }
      this.#walFd = undefined;
      // A connection the caller keeps syncs its own commits again.
      if (!this.#closeClient && this.#db.open) this.#db.exec('PRAGMA synchronous = FULL');
    }
    if (this.#closeClient && this.#db.open) this.#db.close();
  }
}
