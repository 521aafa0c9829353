import { MongoServerError, type Collection, type Db, type MongoClient } from 'mongodb';
import { ConfigurationError, ConflictError, UnavailableError, type SecretRecord, type SecretStore } from '@vanish/core';
import { fromMongoDocument, mongoQueries, toMongoDocument, type MongoSecretDocument } from './internal/mongo-mapping.js';
import { checkCloseClient, checkMs } from './internal/options.js';

/** What {@link MongoStoreOptions.onConnectionChange} reports. */
export type MongoConnectionState = 'connected' | 'disconnected';

/** Options of {@link MongoStore}. */
export interface MongoStoreOptions {
  /** the database holding the collection, from a `MongoClient` built by the caller */
  db: Db;
  /**
   * The `MongoClient` behind `db`, for `closeClient` and `connect`; default `db.client`.
   */
  client?: MongoClient;
  /** collection of the records: letters, digits, `_ - .`; default `"vanish_secrets"` */
  collectionName?: string;
  /**
   * Extra life of a document after `expiresAt` before the TTL index removes it, ms (rounded
   * up to whole seconds for the index); default 60 000. Expiry is decided by the caller's
   * clock inside every query; the TTL monitor (about once a minute) is cleanup only.
   */
  expiryGraceMs?: number;
  /** The store owns `client` and closes it in {@link MongoStore.close}; default `false`. */
  closeClient?: boolean;
  /**
   * Dial `client` now and, while the first connection fails, again with back-off (driver 7
   * never redials a failed first connect by itself), creating the TTL index once connected;
   * stops on close. Default `false` (the caller connects, or the driver connects on first use).
   */
  connect?: boolean;
  /** longest pause between two dials with `connect`, ms; default 5000 */
  connectRetryMaxMs?: number;
  /**
   * Told when the connection goes up or down: the first-connect dials, and afterwards the
   * client's server heartbeats. Called once per change, never twice in a row with the same
   * state, so a server can log an outage and its recovery once. `cause` is the driver's error.
   */
  onConnectionChange?: (state: MongoConnectionState, cause?: unknown) => void;
}

/**
 * Whether `name` is a valid {@link MongoStoreOptions.collectionName}: letters, digits and
 * `_ - .`, 1 to 100 characters, not a `system.` collection.
 *
 * @param name - candidate collection name
 * @returns `true` when {@link MongoStore} accepts it
 */
export function isValidCollectionName(name: string): boolean {
  return /^[A-Za-z0-9_.-]{1,100}$/.test(name) && !name.startsWith('system.');
}

/**
 * A {@link SecretStore} in MongoDB through the official driver (standalone, replica set
 * or sharded by `_id`).
 *
 * @remarks
 * One document per record, `_id` the lookup id. Reserve is `findOneAndUpdate` with `$inc`
 * conditioned on expiry and attempts left; claim and burn are `deleteOne` with the full
 * condition; all writes use majority write concern, so an acknowledged claim survives a
 * failover. A TTL index on `expiresAt` (created idempotently before the first operation)
 * cleans up. Driver errors reject; they are never turned into `null` or `false`. Bound the
 * wait with the client's `serverSelectionTimeoutMS` and `connectTimeoutMS`. With `connect`
 * the store dials its client until the first connection succeeds (driver 7 does not redial a
 * failed first connect by itself) and reports outages through `onConnectionChange`.
 */
export class MongoStore implements SecretStore {
  readonly #db: Db;
  readonly #collection: Collection<MongoSecretDocument>;
  readonly #graceSeconds: number;
  readonly #client: MongoClient | undefined;
  readonly #closeClient: boolean;
  readonly #connectRetryMaxMs: number;
  readonly #onConnectionChange: ((state: MongoConnectionState, cause?: unknown) => void) | undefined;
  readonly #firstDial: Promise<boolean> | undefined;
  #state: MongoConnectionState | undefined;
  #retry: NodeJS.Timeout | undefined;
  #unlisten: (() => void) | undefined;
  #indexes: Promise<void> | undefined;
  #closed = false;

  /**
   * @param options - database, client, collection name, TTL grace, connection handling
   * @throws {@link ConfigurationError} when an option is invalid
   */
  constructor(options: MongoStoreOptions) {
    const name = options.collectionName ?? 'vanish_secrets';
    if (!isValidCollectionName(name)) {
      throw new ConfigurationError('collectionName may hold only letters, digits and _ - . (1–100), and not start with "system.".');
    }
    const graceMs = checkMs(options.expiryGraceMs, 60_000, 'expiryGraceMs', 0);
    this.#closeClient = checkCloseClient(options.closeClient);
    this.#connectRetryMaxMs = checkMs(options.connectRetryMaxMs, 5000, 'connectRetryMaxMs', 1);
    if (options.connect !== undefined && typeof options.connect !== 'boolean') {
      throw new ConfigurationError('connect must be true or false.');
    }
    const client = options.client ?? (options.db as { client?: MongoClient }).client;
    if ((this.#closeClient || options.connect) && !client) {
      throw new ConfigurationError('closeClient and connect need the MongoClient: pass it as client.');
    }
    this.#db = options.db;
    this.#collection = options.db.collection<MongoSecretDocument>(name, { writeConcern: { w: 'majority' } });
    this.#graceSeconds = Math.ceil(graceMs / 1000);
    this.#client = client;
    this.#onConnectionChange = options.onConnectionChange;
    if (client && this.#onConnectionChange) {
      const failed = (event: { failure: unknown }) => this.#report('disconnected', event.failure);
      const succeeded = () => this.#report('connected');
      client.on('serverHeartbeatFailed', failed);
      client.on('serverHeartbeatSucceeded', succeeded);
      this.#unlisten = () => {
        client.off('serverHeartbeatFailed', failed);
        client.off('serverHeartbeatSucceeded', succeeded);
      };
    }
    if (options.connect && client) this.#firstDial = this.#dial(client, 1);
  }

  #report(state: MongoConnectionState, cause?: unknown): void {
    if (this.#closed || this.#state === state) return;
    this.#state = state;
    try {
      this.#onConnectionChange?.(state, cause);
    } catch {
      // a failing listener must not break the store
    }
  }

  /** One dial; on failure schedules the next. Never rejects. */
  async #dial(client: MongoClient, attempt: number): Promise<boolean> {
    if (this.#closed) return false;
    try {
      await client.connect();
      await this.ensureIndexes();
      this.#report('connected');
      return true;
    } catch (err) {
      if (this.#closed) return false;
      this.#report('disconnected', err);
      this.#retry = setTimeout(() => void this.#dial(client, attempt + 1), Math.min(250 * attempt, this.#connectRetryMaxMs));
      this.#retry.unref();
      return false;
    }
  }

  /**
   * With `connect`, waits for the first dial (bounded by the client's
   * `serverSelectionTimeoutMS`); later dials continue in the background.
   *
   * @returns `true` if the first dial connected; `false` if it failed or `connect` is off
   */
  async firstConnectAttempt(): Promise<boolean> {
    return (await this.#firstDial) ?? false;
  }

  /**
   * Creates the TTL index on `expiresAt` if it is missing (idempotent). Every other method
   * waits for it, so a store never runs without cleanup; a failure is retried by the next call.
   *
   * @throws the driver's error, e.g. when an index with the same key but another TTL exists
   */
  async ensureIndexes(): Promise<void> {
    this.#assertOpen();
    this.#indexes ??= this.#collection.createIndex({ expiresAt: 1 }, { name: 'vanish_ttl', expireAfterSeconds: this.#graceSeconds }).then(
      () => undefined,
      (err: unknown) => {
        this.#indexes = undefined;
        throw err;
      },
    );
    return this.#indexes;
  }

  #assertOpen(): void {
    if (this.#closed) throw new UnavailableError('The MongoDB store is closed.');
  }

  async #ready(): Promise<Collection<MongoSecretDocument>> {
    await this.ensureIndexes();
    return this.#collection;
  }

  /** {@inheritDoc SecretStore.create} */
  async create(record: SecretRecord): Promise<void> {
    const collection = await this.#ready();
    try {
      await collection.insertOne(toMongoDocument(record));
    } catch (err) {
      if (err instanceof MongoServerError && err.code === 11000) {
        throw new ConflictError('A record with this id already exists.', { cause: err });
      }
      throw err;
    }
  }

  /** {@inheritDoc SecretStore.reserve} */
  async reserve(id: Buffer, now: number): Promise<SecretRecord | null> {
    const { filter, update } = mongoQueries.reserve(id, now);
    const doc = await (await this.#ready()).findOneAndUpdate(filter, update, { returnDocument: 'after' });
    return doc ? fromMongoDocument(doc) : null;
  }

  /** {@inheritDoc SecretStore.claim} */
  async claim(id: Buffer, iv: Buffer, now: number): Promise<boolean> {
    return (await (await this.#ready()).deleteOne(mongoQueries.claim(id, iv, now))).deletedCount === 1;
  }

  /** {@inheritDoc SecretStore.burnIfExhausted} */
  async burnIfExhausted(id: Buffer): Promise<boolean> {
    return (await (await this.#ready()).deleteOne(mongoQueries.burn(id))).deletedCount === 1;
  }

  /** {@inheritDoc SecretStore.delete} */
  async delete(id: Buffer): Promise<boolean> {
    return (await (await this.#ready()).deleteOne(mongoQueries.delete(id))).deletedCount === 1;
  }

  /** {@inheritDoc SecretStore.purgeExpired} */
  async purgeExpired(now: number): Promise<number> {
    return (await (await this.#ready()).deleteMany(mongoQueries.purge(now))).deletedCount;
  }

  /** {@inheritDoc SecretStore.ping} */
  async ping(): Promise<void> {
    await this.#ready();
    await this.#db.command({ ping: 1 });
  }

  /** Marks the store closed, stops dialling and, with `closeClient`, closes the client. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#unlisten?.();
    if (this.#closeClient) await this.#client?.close();
  }
}
