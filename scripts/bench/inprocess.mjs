// In-process baselines of `npm run bench`, run as a child (pinned like the server):
//   node inprocess.mjs vanish <sqlite|redis> <seconds> <concurrency>  — vanish.create()/reveal() on the store
//   node inprocess.mjs scrypt <N> <seconds> <concurrency>            — raw crypto.scrypt calls
//   node inprocess.mjs sweep <records>                                — expiry sweep of that many expired records
// Prints one JSON line. Store settings come from the environment (BENCH_SQLITE_PATH, BENCH_REDIS_URL, BENCH_REDIS_PREFIX).
import { randomBytes, scrypt } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { Vanish } from '../../packages/core/dist/index.js';
import { makeTestRecord } from '../../packages/core/dist/testing/index.js';
import { SqliteStore } from '../../packages/adapters/dist/sqlite.js';
import { RedisStore } from '../../packages/adapters/dist/redis.js';

const [mode, arg, secondsArg, concurrencyArg] = process.argv.slice(2);
const seconds = Number(secondsArg);
const concurrency = Number(concurrencyArg);
const PASSPHRASE = 'benchmark passphrase';

// The store exactly as the server opens it (see packages/server/src/stores/).
function openStore(kind) {
  if (kind === 'sqlite') return new SqliteStore({ database: new Database(process.env.BENCH_SQLITE_PATH), closeClient: true });
  return new RedisStore({
    client: new Redis(process.env.BENCH_REDIS_URL),
    prefix: process.env.BENCH_REDIS_PREFIX ?? 'vanish-bench:',
    closeClient: true,
  });
}

const stats = (store) => (typeof store.stats === 'function' ? { ...store.stats() } : null);
const delta = (a, b) => (a && b ? Object.fromEntries(Object.keys(b).map((k) => [k, b[k] - (a[k] ?? 0)])) : null);

/** Runs `concurrency` loops of `op` until the deadline or until `op` returns false. */
async function loops(op) {
  let ok = 0;
  let failed = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let stop = false;
  const loop = async () => {
    while (!stop && performance.now() < deadline) {
      try {
        if ((await op()) === false) stop = true;
        else ok++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { ok, failed, perSecond: ok / ((performance.now() - started) / 1000) };
}

if (mode === 'vanish') {
  const store = openStore(arg);
  const vanish = new Vanish({ store, kdf: 'insecure-test', kdfConcurrency: concurrency, kdfMaxQueue: 100_000, storeTimeoutMs: 2000 });
  const keys = [];
  const s0 = stats(store);
  const create = await loops(async () => {
    keys.push((await vanish.create({ secret: 'benchmark secret value', passphrase: PASSPHRASE })).secretKey);
  });
  const s1 = stats(store);
  let next = 0;
  const reveal = await loops(async () => {
    if (next >= keys.length) return false;
    await vanish.reveal({ secretKey: keys[next++], passphrase: PASSPHRASE });
  });
  const s2 = stats(store);
  await vanish.close();
  console.log(JSON.stringify({ create, reveal, createStats: delta(s0, s1), revealStats: delta(s1, s2), keysLeft: keys.length - next }));
} else if (mode === 'scrypt') {
  const N = Number(arg);
  const salt = randomBytes(16);
  const params = { N, r: 8, p: 1, maxmem: 256 * N * 8 + 2 ** 20 };
  const r = await loops(() => new Promise((res, rej) => scrypt(PASSPHRASE, salt, 32, params, (e) => (e ? rej(e) : res()))));
  console.log(JSON.stringify(r));
} else if (mode === 'sweep') {
  const records = Number(arg);
  const store = new SqliteStore({ database: new Database(process.env.BENCH_SQLITE_PATH), closeClient: true, purgeIntervalMs: 0 });
  const now = Date.now();
  const insertStarted = performance.now();
  const first = Math.min(records, 1000);
  await Promise.all(Array.from({ length: first }, () => store.create(makeTestRecord(now - 120_000, { expiresAt: now - 60_000 }))));
  // The rest by copying those rows with fresh ids in one statement per doubling (a second
  // connection, so the store's own statements stay untouched); through the store when the
  // table's columns are not the ones this knows.
  try {
    const db = new Database(process.env.BENCH_SQLITE_PATH);
    const cols = 'v, kdf_n, kdf_r, kdf_p, salt, iv, ciphertext, created_at, expires_at, max_attempts, attempts';
    let have = first;
    while (have < records) {
      have += db
        .prepare(`INSERT INTO vanish_secrets (id, ${cols}) SELECT randomblob(32), ${cols} FROM vanish_secrets LIMIT ?`)
        .run(Math.min(have, records - have)).changes;
    }
    db.close();
  } catch {
    for (let i = first; i < records; i += 1000) {
      const batch = [];
      for (let j = i; j < Math.min(records, i + 1000); j++)
        batch.push(store.create(makeTestRecord(now - 120_000, { expiresAt: now - 60_000 })));
      await Promise.all(batch);
    }
  }
  const insertSeconds = (performance.now() - insertStarted) / 1000;
  const h = monitorEventLoopDelay({ resolution: 1 });
  // A ticker alongside, so a block shows up as the gap between two ticks too.
  let last = performance.now();
  let longestGap = 0;
  const ticker = setInterval(() => {
    const t = performance.now();
    longestGap = Math.max(longestGap, t - last);
    last = t;
  }, 1);
  h.enable();
  await new Promise((r) => setTimeout(r, 20));
  const started = performance.now();
  last = performance.now();
  const deleted = await store.purgeExpired(Date.now());
  const sweepMs = performance.now() - started;
  await new Promise((r) => setTimeout(r, 20));
  h.disable();
  clearInterval(ticker);
  await store.close();
  console.log(JSON.stringify({ records, deleted, insertSeconds, sweepMs, maxDelayMs: h.max / 1e6, longestGapMs: longestGap }));
}
