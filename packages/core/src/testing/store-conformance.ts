import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { KDF_PROFILES } from '../kdf.js';
import type { SecretRecord } from '../record.js';
import type { SecretStore } from '../store.js';

/** The test-runner functions the suite needs (vitest, jest, mocha and `node:test` all fit). */
export interface ConformanceRunner {
  /** groups cases */
  describe(name: string, body: () => void): void;
  /** one case; `timeoutMs` is passed through as the runner's third argument */
  it(name: string, body: () => Promise<void>, timeoutMs?: number): void;
  /** a skipped case; required only when {@link StoreConformanceOptions.skip} names a case */
  skip?(name: string, body: () => Promise<void>): void;
}

/** Names of the conformance cases, for {@link StoreConformanceOptions.skip}. */
export type ConformanceCase =
  | 'round-trip'
  | 'reserve-unknown'
  | 'duplicate-create'
  | 'attempt-counting'
  | 'expiry-before-cleanup'
  | 'claim-once'
  | 'burn-if-exhausted'
  | 'delete'
  | 'purge-expired'
  | 'concurrent-claims'
  | 'concurrent-reserves'
  | 'namespace-isolation'
  | 'ping-and-close';

/** Options of {@link runStoreConformance}. */
export interface StoreConformanceOptions {
  /** shown in the test names, e.g. `"SqliteStore"` */
  name: string;
  /** the runner's `describe`/`it` */
  runner: ConformanceRunner;
  /**
   * Builds a fresh store. Stores built with the same `namespace` must see the same
   * records; stores with different namespaces on the same backend must not (key
   * prefix, table or collection name). The suite closes every store it builds.
   */
  createStore(options: { namespace: string }): SecretStore | Promise<SecretStore>;
  /** parallel callers in the race cases; default 50 */
  concurrentCallers?: number;
  /** rounds of the race cases; default 20 */
  rounds?: number;
  /** per-case timeout in ms, handed to the runner; default 30 000 */
  timeoutMs?: number;
  /** cases this implementation cannot run, each with the reason (shown in the skipped test's name) */
  skip?: Partial<Record<ConformanceCase, string>>;
}

/**
 * Builds a syntactically valid v1 record with random binary fields.
 *
 * @remarks The ciphertext contains every byte value 0–255 so stores that mangle binary
 * (text columns, UTF-8 conversions) fail the round trip.
 * @param now - creation time, epoch ms
 * @param overrides - fields to replace
 * @returns a new record
 */
export function makeTestRecord(now: number, overrides: Partial<SecretRecord> = {}): SecretRecord {
  const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  return {
    id: randomBytes(32),
    v: 1,
    kdf: { ...KDF_PROFILES.default },
    salt: randomBytes(16),
    iv: randomBytes(12),
    ciphertext: Buffer.concat([everyByte, randomBytes(64), Buffer.from([0, 0, 0xff, 0x00])]),
    createdAt: now,
    expiresAt: now + 60_000,
    maxAttempts: 3,
    attempts: 0,
    ...overrides,
  };
}

/**
 * Registers the `SecretStore` conformance suite with a test runner.
 *
 * @remarks
 * Every adapter runs it unchanged. It proves: binary round trip of every byte value,
 * reserve/claim semantics, duplicate create, expiry before native cleanup, attempt
 * counting, many concurrent claims with exactly one winner, concurrent reserves
 * capped at `maxAttempts`, namespace (prefix) isolation, and an idempotent close.
 * Assertions use `node:assert`, so the runner only schedules.
 *
 * The race cases issue their calls concurrently; against a store whose methods complete
 * synchronously (a `Map`, better-sqlite3) they cannot interleave inside one process, so
 * prove cross-process atomicity of such a store with several processes on one backend too
 * (vanish's server tests run two server processes on one SQLite file).
 *
 * @param options - runner, store factory and tuning
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * runStoreConformance({ name: 'MemoryStore', runner: { describe, it }, createStore: () => new MemoryStore() });
 * ```
 */
export function runStoreConformance(options: StoreConformanceOptions): void {
  const { runner } = options;
  const callers = options.concurrentCallers ?? 50;
  const rounds = options.rounds ?? 20;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const now = Date.UTC(2030, 0, 1);

  /** Runs `body` with a fresh store; `another(namespace)` builds more. Closes them all. */
  async function withStore(
    body: (store: SecretStore, another: (namespace: string) => Promise<SecretStore>) => Promise<void>,
  ): Promise<void> {
    const stores: SecretStore[] = [];
    const another = async (namespace: string) => {
      const store = await options.createStore({ namespace });
      stores.push(store);
      return store;
    };
    try {
      await body(await another(`conformance_${randomUUID().replaceAll('-', '')}`), another);
    } finally {
      for (const s of stores) await s.close();
    }
  }

  function test(
    id: ConformanceCase,
    title: string,
    body: (store: SecretStore, another: (namespace: string) => Promise<SecretStore>) => Promise<void>,
  ): void {
    const reason = options.skip?.[id];
    const run = () => withStore(body);
    if (reason !== undefined) {
      if (!runner.skip) throw new Error(`runStoreConformance: skipping "${id}" needs runner.skip`);
      runner.skip(`${title} — skipped: ${reason}`, run);
    } else {
      runner.it(title, run, timeoutMs);
    }
  }

  runner.describe(`SecretStore conformance: ${options.name}`, () => {
    test('round-trip', 'create then reserve returns every field intact, every byte value included', async (store) => {
      const record = makeTestRecord(now);
      await store.create(record);
      const got = await store.reserve(record.id, now);
      assert.ok(got, 'reserve found the record');
      assert.deepEqual(got, { ...record, attempts: 1 });
      got.ciphertext.fill(0);
      got.kdf = { N: 1, r: 1, p: 1 };
      const again = await store.reserve(record.id, now);
      assert.ok(again);
      assert.deepEqual(again.ciphertext, record.ciphertext, 'the store keeps its own copy');
      assert.deepEqual(again.kdf, record.kdf);
      assert.equal(again.attempts, 2);
    });

    test('reserve-unknown', 'reserve, claim, burn and delete of an unknown id find nothing', async (store) => {
      const id = randomBytes(32);
      assert.equal(await store.reserve(id, now), null);
      assert.equal(await store.claim(id, randomBytes(12), now), false);
      assert.equal(await store.burnIfExhausted(id), false);
      assert.equal(await store.delete(id), false);
    });

    test('duplicate-create', 'a duplicate id rejects with a conflict and never overwrites', async (store) => {
      const record = makeTestRecord(now);
      await store.create(record);
      const intruder = makeTestRecord(now, { id: Buffer.from(record.id), ciphertext: randomBytes(40) });
      await assert.rejects(store.create(intruder), (err: unknown) => {
        assert.equal((err as { code?: unknown }).code, 'conflict');
        return true;
      });
      const got = await store.reserve(record.id, now);
      assert.ok(got);
      assert.deepEqual(got.ciphertext, record.ciphertext);
      assert.deepEqual(got.iv, record.iv);
    });

    test('attempt-counting', 'reserve counts attempts and stops at maxAttempts without deleting', async (store) => {
      const record = makeTestRecord(now, { maxAttempts: 3 });
      await store.create(record);
      for (let i = 1; i <= 3; i++) {
        const got = await store.reserve(record.id, now);
        assert.equal(got?.attempts, i);
      }
      assert.equal(await store.reserve(record.id, now), null, 'no attempts left');
      assert.equal(await store.claim(record.id, record.iv, now), true, 'still claimable by a reveal already under way');
    });

    test('expiry-before-cleanup', 'an expired record is invisible to reserve and claim before any cleanup', async (store) => {
      const record = makeTestRecord(now, { expiresAt: now + 1000 });
      await store.create(record);
      assert.equal(await store.reserve(record.id, now + 1000), null, 'expiresAt == now is expired');
      assert.equal(await store.claim(record.id, record.iv, now + 1000), false);
      assert.equal(await store.reserve(record.id, now + 5000), null);
      const live = await store.reserve(record.id, now + 999);
      assert.equal(live?.attempts, 1, 'the expired reserves counted nothing');
      assert.equal(await store.claim(record.id, record.iv, now + 999), true);
    });

    test('claim-once', 'claim deletes once, only with the matching IV', async (store) => {
      const record = makeTestRecord(now);
      await store.create(record);
      assert.equal(await store.claim(record.id, randomBytes(12), now), false, 'wrong IV');
      assert.ok(await store.reserve(record.id, now), 'a wrong-IV claim left the record');
      assert.equal(await store.claim(record.id, record.iv, now), true);
      assert.equal(await store.claim(record.id, record.iv, now), false);
      assert.equal(await store.reserve(record.id, now), null);
    });

    test('burn-if-exhausted', 'burnIfExhausted deletes only when attempts are used up', async (store) => {
      const record = makeTestRecord(now, { maxAttempts: 2 });
      await store.create(record);
      await store.reserve(record.id, now);
      assert.equal(await store.burnIfExhausted(record.id), false, 'one attempt left');
      assert.ok(await store.reserve(record.id, now));
      assert.equal(await store.burnIfExhausted(record.id), true);
      assert.equal(await store.burnIfExhausted(record.id), false);
      assert.equal(await store.claim(record.id, record.iv, now), false, 'burned records are gone');
    });

    test('delete', 'delete destroys unconditionally, once', async (store) => {
      const record = makeTestRecord(now);
      await store.create(record);
      assert.equal(await store.delete(record.id), true);
      assert.equal(await store.delete(record.id), false);
      assert.equal(await store.reserve(record.id, now), null);
    });

    test('purge-expired', 'purgeExpired removes exactly the expired records and counts them', async (store) => {
      const expired = [0, 1, 2].map((i) => makeTestRecord(now - 10_000, { expiresAt: now - i }));
      const live = [1, 2].map((i) => makeTestRecord(now, { expiresAt: now + i }));
      for (const r of [...expired, ...live]) await store.create(r);
      assert.equal(await store.purgeExpired(now), 3);
      assert.equal(await store.purgeExpired(now), 0);
      for (const r of expired) assert.equal(await store.delete(r.id), false);
      for (const r of live) assert.ok(await store.reserve(r.id, now));
    });

    test('concurrent-claims', `${callers} concurrent claims, ${rounds} rounds: exactly one winner each`, async (store) => {
      for (let round = 0; round < rounds; round++) {
        const record = makeTestRecord(now);
        await store.create(record);
        const results = await Promise.all(Array.from({ length: callers }, () => store.claim(record.id, record.iv, now)));
        assert.equal(results.filter(Boolean).length, 1, `round ${round}: one winner`);
        assert.equal(await store.reserve(record.id, now), null);
      }
    });

    test('concurrent-reserves', `${callers} concurrent reserves never exceed maxAttempts`, async (store) => {
      for (let round = 0; round < Math.max(1, Math.floor(rounds / 4)); round++) {
        const record = makeTestRecord(now, { maxAttempts: 5 });
        await store.create(record);
        const results = await Promise.all(Array.from({ length: callers }, () => store.reserve(record.id, now)));
        const attempts = results.flatMap((r) => (r ? [r.attempts] : [])).sort((a, b) => a - b);
        assert.deepEqual(attempts, [1, 2, 3, 4, 5]);
      }
    });

    test('namespace-isolation', 'stores in different namespaces never see each other', async (_store, another) => {
      const suffix = randomUUID().replaceAll('-', '').slice(0, 12);
      const a = await another(`conformance_a_${suffix}`);
      const b = await another(`conformance_b_${suffix}`);
      const expired = makeTestRecord(now, { expiresAt: now - 1 });
      const live = makeTestRecord(now);
      await a.create(expired);
      await a.create(live);
      assert.equal(await b.reserve(live.id, now), null);
      assert.equal(await b.claim(live.id, live.iv, now), false);
      assert.equal(await b.burnIfExhausted(live.id), false);
      assert.equal(await b.delete(live.id), false);
      assert.equal(await b.purgeExpired(now), 0, 'b cannot purge a');
      await b.create(makeTestRecord(now, { id: Buffer.from(live.id) }));
      assert.ok(await a.reserve(live.id, now), 'a still has its record');
      assert.equal(await a.purgeExpired(now), 1);
      const shared = await another(`conformance_a_${suffix}`);
      assert.ok(await shared.reserve(live.id, now), 'the same namespace sees the same records');
    });

    test('ping-and-close', 'ping answers; close is idempotent', async (store) => {
      await store.ping();
      await store.close();
      await store.close();
    });
  });
}
