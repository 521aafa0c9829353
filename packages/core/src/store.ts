import type { SecretRecord } from './record.js';

/**
 * The storage contract every vanish backend implements.
 *
 * @remarks
 * A store holds opaque {@link SecretRecord}s keyed by their 32-byte `id`. It never
 * sees a secret, a passphrase or a `secret_key`. Every method is asynchronous and
 * atomic per record, also when several processes share one backend. Times are
 * absolute epoch milliseconds; `now` is always passed in (never read from the
 * store's own clock) so expiry is decided by the caller's clock.
 *
 * Expiry is part of the semantics: a record with `expiresAt <= now` must behave as
 * absent in {@link SecretStore.reserve} and {@link SecretStore.claim} even if the
 * backend has not cleaned it up yet. Native expiry (key TTLs, TTL indexes, sweeps)
 * is cleanup only.
 *
 * Errors: a store throws (or rejects) when it cannot answer — it never swallows a
 * failure and returns `false` or `null`, because the caller must be able to tell
 * "no" from "don't know". Duplicate ids reject with `ConflictError`.
 *
 * Deliberately not in the contract: listing, reading without counting an attempt,
 * updating a record. A store has no way to reveal a secret on its own.
 *
 * Run `runStoreConformance` from `@vanish/core/testing` against any implementation.
 */
export interface SecretStore {
  /**
   * Inserts a new record.
   *
   * @param record - the record; the store keeps its own copy
   * @throws `ConflictError` when a record with the same id exists (it is not overwritten)
   */
  create(record: SecretRecord): Promise<void>;

  /**
   * Counts one reveal attempt, atomically.
   *
   * @remarks
   * In one atomic step: if a record with `id` exists, `expiresAt > now` and
   * `attempts < maxAttempts`, increment `attempts` and return the record as it is
   * after the increment. Otherwise change nothing and return `null`.
   * Concurrent callers on one record never get more than `maxAttempts` non-null answers.
   *
   * @param id - 32-byte lookup id
   * @param now - current time, epoch ms
   * @returns the record (a copy) or `null`
   */
  reserve(id: Buffer, now: number): Promise<SecretRecord | null>;

  /**
   * Consumes a record: a conditional, atomic delete.
   *
   * @remarks
   * Deletes the record only if it exists, its `iv` equals `iv` (so a record that was
   * replaced is never consumed by mistake) and `expiresAt > now`. Among any number of
   * concurrent callers, exactly one gets `true`.
   *
   * @param id - 32-byte lookup id
   * @param iv - the IV of the record the caller decrypted
   * @param now - current time, epoch ms
   * @returns `true` if this call deleted the record
   */
  claim(id: Buffer, iv: Buffer, now: number): Promise<boolean>;

  /**
   * Destroys a record whose attempts are used up.
   *
   * @param id - 32-byte lookup id
   * @returns `true` if a record with `attempts >= maxAttempts` was deleted
   */
  burnIfExhausted(id: Buffer): Promise<boolean>;

  /**
   * Destroys a record unconditionally.
   *
   * @param id - 32-byte lookup id
   * @returns `true` if something was deleted
   */
  delete(id: Buffer): Promise<boolean>;

  /**
   * Deletes every record with `expiresAt <= now`.
   *
   * @remarks Cleanup for backends without native expiry; correctness never depends on it.
   * @param now - current time, epoch ms
   * @returns how many records were deleted
   */
  purgeExpired(now: number): Promise<number>;

  /**
   * Checks that the backend answers (for readiness probes).
   *
   * @throws when it does not
   */
  ping(): Promise<void>;

  /**
   * Releases timers and, where the store owns it, the client. Idempotent:
   * calling it again resolves without doing anything.
   */
  close(): Promise<void>;
}
