import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, it } from 'vitest';
import { runStoreConformance } from '@vanish/core/testing';
import { SqliteStore } from '@vanish/adapters/sqlite';

// A real file in a temporary folder; each namespace is a table, and every store opens
// its own connection, as separate processes would.
const dir = mkdtempSync(join(tmpdir(), 'vanish-sqlite-conformance-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

runStoreConformance({
  name: 'SqliteStore (file, WAL)',
  runner: { describe, it },
  createStore: ({ namespace }) =>
    new SqliteStore({
      database: new Database(join(dir, 'conformance.db')),
      tableName: namespace,
      closeClient: true,
      purgeIntervalMs: 0,
    }),
});
