// In-process create latency and the longest event-loop block on a large SQLite file:
//   node scripts/bench/sqlite-latency.mjs [rows=300000] [seconds=5]
// Preloads `rows` records through SqliteStore (32 concurrent creates per step), then runs 32
// concurrent create loops for `seconds` and prints the count, p50/p99/max latency and the
// longest event-loop block (monitorEventLoopDelay). Run it pinned (taskset -c 0) after `npm run build`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { makeTestRecord } from '../../packages/core/dist/testing/index.js';
import { SqliteStore } from '../../packages/adapters/dist/sqlite.js';

const rows = Number(process.argv[2] ?? 3e5);
const seconds = Number(process.argv[3] ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'vanish-sqlite-latency-'));
const store = new SqliteStore({ database: new Database(join(dir, 'l.db')), closeClient: true, purgeIntervalMs: 0 });
const now = Date.now();
for (let have = 0; have < rows; have += 1000) await Promise.all(Array.from({ length: 1000 }, () => store.create(makeTestRecord(now))));
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const latencies = [];
const end = performance.now() + seconds * 1000;
await Promise.all(
  Array.from({ length: 32 }, async () => {
    while (performance.now() < end) {
      const t = performance.now();
      await store.create(makeTestRecord(now));
      latencies.push(performance.now() - t);
    }
  }),
);
loop.disable();
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))].toFixed(2);
console.log(
  `${rows.toLocaleString('en-US')} rows: ${latencies.length} creates in ${seconds} s, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${latencies.at(-1).toFixed(1)} ms; longest event-loop block ${(loop.max / 1e6).toFixed(1)} ms`,
);
await store.close();
rmSync(dir, { recursive: true, force: true });
