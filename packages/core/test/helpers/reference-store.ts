import { ConflictError, UnavailableError, type SecretRecord, type SecretStore } from '../../src/index.js';

function copy(record: SecretRecord): SecretRecord {
  return {
    ...record,
    kdf: { N: record.kdf.N, r: record.kdf.r, p: record.kdf.p },
    id: Buffer.from(record.id),
    salt: Buffer.from(record.salt),
    iv: Buffer.from(record.iv),
    ciphertext: Buffer.from(record.ciphertext),
  };
}

/**
 * The reference {@link SecretStore}: the contract written out as plainly as possible
 * over a `Map`, for core's own tests (core never imports `@vanish/adapters`).
 *
 * @remarks
 * Every method finishes inside one event-loop turn, which makes it atomic. Records are
 * copied in and out. `peek` and `tamper` are test hooks outside the contract: they read
 * a record without counting an attempt and change a stored record in place, so tests
 * can check attempt counts and simulate a tampered or legacy database row.
 */
export class ReferenceStore implements SecretStore {
  readonly #records = new Map<string, SecretRecord>();
  #closed = false;

  #open(): void {
    if (this.#closed) throw new UnavailableError('The reference store is closed.');
  }

  #live(id: Buffer, now: number): SecretRecord | undefined {
    this.#open();
    const record = this.#records.get(id.toString('hex'));
    return record && record.expiresAt > now ? record : undefined;
  }

  /** Records held, expired ones included. */
  get size(): number {
    return this.#records.size;
  }

  /** `true` once {@link ReferenceStore.close} ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Test hook: a copy of the stored record (no attempt counted), or `undefined`. */
  peek(id: Buffer): SecretRecord | undefined {
    const record = this.#records.get(id.toString('hex'));
    return record && copy(record);
  }

  /** Test hook: the ids of all stored records. */
  ids(): Buffer[] {
    return [...this.#records.values()].map((r) => Buffer.from(r.id));
  }

  /** Test hook: changes the stored record with `id` in place (as a tampered database would). */
  tamper(id: Buffer, change: (record: SecretRecord) => void): void {
    const record = this.#records.get(id.toString('hex'));
    if (!record) throw new Error('no such record');
    change(record);
  }

  /** {@inheritDoc SecretStore.create} */
  async create(record: SecretRecord): Promise<void> {
    this.#open();
    const key = record.id.toString('hex');
    if (this.#records.has(key)) throw new ConflictError();
    this.#records.set(key, copy(record));
  }

  /** {@inheritDoc SecretStore.reserve} */
  async reserve(id: Buffer, now: number): Promise<SecretRecord | null> {
    const record = this.#live(id, now);
    if (!record || record.attempts >= record.maxAttempts) return null;
    record.attempts += 1;
    return copy(record);
  }

  /** {@inheritDoc SecretStore.claim} */
  async claim(id: Buffer, iv: Buffer, now: number): Promise<boolean> {
    const record = this.#live(id, now);
    if (!record?.iv.equals(iv)) return false;
    return this.#records.delete(id.toString('hex'));
  }

  /** {@inheritDoc SecretStore.burnIfExhausted} */
  async burnIfExhausted(id: Buffer): Promise<boolean> {
    this.#open();
    const key = id.toString('hex');
    const record = this.#records.get(key);
    return record !== undefined && record.attempts >= record.maxAttempts && this.#records.delete(key);
  }

  /** {@inheritDoc SecretStore.delete} */
  async delete(id: Buffer): Promise<boolean> {
    this.#open();
    return this.#records.delete(id.toString('hex'));
  }

  /** {@inheritDoc SecretStore.purgeExpired} */
  async purgeExpired(now: number): Promise<number> {
    this.#open();
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
    this.#open();
  }

  /** Drops every record. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#records.clear();
  }
}
