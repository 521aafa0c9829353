import { ConflictError, systemClock, UnavailableError, type Clock, type SecretRecord, type SecretStore } from '@vanish/core';
import { cloneRecord } from '@vanish/core/internal';
import { startPurgeTimer, type PurgeTimer } from './internal/purge-timer.js';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** how often expired records are dropped, ms; 0 disables; default 60 000 */
  purgeIntervalMs?: number;
  /** time source for the periodic purge; default `Date.now` */
  clock?: Clock;
}

/**
 * A {@link SecretStore} in a `Map`, for one process: embedding, tests, development.
 *
 * @remarks
 * Every method runs synchronously inside one event-loop turn, which makes each one
 * atomic. Records are copied in and out. Nothing survives a restart, and several
 * processes cannot share it — use SQLite, Redis or MongoDB for that.
 */
export class MemoryStore implements SecretStore {
  readonly #records = new Map<string, SecretRecord>();
  readonly #purgeTimer: PurgeTimer;
  #closed = false;

  /** @param options - purge interval and clock */
  constructor(options: MemoryStoreOptions = {}) {
    this.#purgeTimer = startPurgeTimer((now) => this.purgeExpired(now), options.purgeIntervalMs ?? 60_000, options.clock ?? systemClock);
  }

  #live(id: Buffer, now: number): SecretRecord | undefined {
    this.#assertOpen();
    const record = this.#records.get(id.toString('hex'));
    return record && record.expiresAt > now ? record : undefined;
  }

  #assertOpen(): void {
    if (this.#closed) throw new UnavailableError('The memory store is closed.');
  }

  /** {@inheritDoc SecretStore.create} */
  async create(record: SecretRecord): Promise<void> {
    this.#assertOpen();
    const key = record.id.toString('hex');
    if (this.#records.has(key)) throw new ConflictError();
    this.#records.set(key, cloneRecord(record));
  }

  /** {@inheritDoc SecretStore.reserve} */
  async reserve(id: Buffer, now: number): Promise<SecretRecord | null> {
    const record = this.#live(id, now);
    if (!record || record.attempts >= record.maxAttempts) return null;
    record.attempts += 1;
    return cloneRecord(record);
  }

  /** {@inheritDoc SecretStore.claim} */
  async claim(id: Buffer, iv: Buffer, now: number): Promise<boolean> {
    const record = this.#live(id, now);
    if (!record?.iv.equals(iv)) return false;
    return this.#records.delete(id.toString('hex'));
  }

  /** {@inheritDoc SecretStore.burnIfExhausted} */
  async burnIfExhausted(id: Buffer): Promise<boolean> {
    this.#assertOpen();
    const key = id.toString('hex');
    const record = this.#records.get(key);
    return record !== undefined && record.attempts >= record.maxAttempts && this.#records.delete(key);
  }

  /** {@inheritDoc SecretStore.delete} */
  async delete(id: Buffer): Promise<boolean> {
    this.#assertOpen();
    return this.#records.delete(id.toString('hex'));
  }

  /** {@inheritDoc SecretStore.purgeExpired} */
  async purgeExpired(now: number): Promise<number> {
    this.#assertOpen();
    let count = 0;
    for (const [key, record] of this.#records) {
      if (record.expiresAt <= now) {
        this.#records.delete(key);
        count++;
      }
    }
    return count;
  }

  /** {@inheritDoc SecretStore.ping} */
  async ping(): Promise<void> {
    this.#assertOpen();
  }

  /** Stops the purge timer and drops every record. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#purgeTimer.stop();
    for (const record of this.#records.values()) record.ciphertext.fill(0);
    this.#records.clear();
  }
}
