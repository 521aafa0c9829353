import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestRecord } from '@vanish/core/testing';
import { SqliteStore } from '@vanish/adapters/sqlite';
import { MemoryStore } from '@vanish/adapters/memory';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vanish-sqlite-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('SqliteStore setup', () => {
  it('turns on WAL and secure_delete, and creates the table and expiry index', async () => {
    const db = new Database(join(dir, 'v.db'));
    const store = new SqliteStore({ database: db, purgeIntervalMs: 0 });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('secure_delete', { simple: true })).toBe(1);
    const names = db.prepare("SELECT name FROM sqlite_master WHERE tbl_name = 'vanish_secrets'").pluck().all();
    expect(names).toEqual(expect.arrayContaining(['vanish_secrets', 'vanish_secrets_expires_at']));
    await store.close();
    expect(db.open).toBe(true);
    db.close();
  });

  it('closes the database only when it owns it, and refuses calls after close', async () => {
    const db = new Database(join(dir, 'v.db'));
    const store = new SqliteStore({ database: db, closeDatabase: true, purgeIntervalMs: 0 });
    await store.close();
    expect(db.open).toBe(false);
    await expect(store.ping()).rejects.toMatchObject({ code: 'unavailable' });
    await expect(store.reserve(Buffer.alloc(32), 0)).rejects.toMatchObject({ code: 'unavailable' });
  });

  it.each(['bad-name', '1table', 'x"; DROP TABLE y; --', ''])('rejects the table name %j', (tableName) => {
    const db = new Database(':memory:');
    expect(() => new SqliteStore({ database: db, tableName })).toThrow(RangeError);
    db.close();
  });

  it('rejects a negative purge interval', () => {
    const db = new Database(':memory:');
    expect(() => new SqliteStore({ database: db, purgeIntervalMs: -1 })).toThrow(RangeError);
    db.close();
  });

  it('passes non-conflict database errors through', async () => {
    const db = new Database(join(dir, 'v.db'));
    const store = new SqliteStore({ database: db, purgeIntervalMs: 0 });
    db.exec('DROP TABLE vanish_secrets');
    await expect(store.create(makeTestRecord(Date.now()))).rejects.toThrow(/no such table/);
    await store.close();
    db.close();
  });
});

describe('periodic purge', () => {
  it.each([
    ['SqliteStore', (clock: () => number) => new SqliteStore({ database: new Database(join(dir, 'p.db')), closeDatabase: true, purgeIntervalMs: 20, clock })],
    ['MemoryStore', (clock: () => number) => new MemoryStore({ purgeIntervalMs: 20, clock })],
  ])('%s deletes expired records on its own', async (_name, build) => {
    let now = Date.UTC(2030, 0, 1);
    const store = build(() => now);
    const record = makeTestRecord(now, { expiresAt: now + 1000 });
    await store.create(record);
    now += 2000;
    await new Promise((r) => setTimeout(r, 100));
    // The record is expired either way; only a purge makes delete() find nothing.
    expect(await store.delete(record.id)).toBe(false);
    await store.close();
  });

  it('keeps running when a purge fails, and a later purge does the work', async () => {
    const db = new Database(join(dir, 'f.db'));
    const now = Date.UTC(2030, 0, 1);
    let calls = 0;
    const store = new SqliteStore({
      database: db,
      purgeIntervalMs: 10,
      clock: () => {
        calls++;
        if (calls === 1) db.exec('ALTER TABLE vanish_secrets RENAME TO moved');
        if (calls === 2) db.exec('ALTER TABLE moved RENAME TO vanish_secrets');
        return now;
      },
    });
    // Created before the first tick: already expired, so only a purge that runs can remove it.
    const record = makeTestRecord(now, { expiresAt: now - 1 });
    await store.create(record);
    await new Promise((r) => setTimeout(r, 80));
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(await store.delete(record.id)).toBe(false);
    await store.close();
    db.close();
  });
});
