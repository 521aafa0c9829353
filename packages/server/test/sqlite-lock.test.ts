import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';

// Another connection holding SQLite's write lock (a backup tool, a second process, an operator's
// shell) must not freeze the server: the event loop keeps answering, and a write that cannot get
// the lock answers 503 within VANISH_STORE_TIMEOUT_MS.
describe('another connection holds the SQLite write lock', () => {
  let t: TestServer;
  let other: Database.Database;
  beforeAll(async () => {
    t = await startTestServer({ VANISH_STORE_TIMEOUT_MS: '800' });
    other = new Database(t.dbPath);
  });
  afterAll(async () => {
    if (other.inTransaction) other.exec('ROLLBACK');
    other.close();
    await t.close();
  });

  const post = (path: string, body: unknown) =>
    fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('healthz answers within 100 ms, a create answers 503 within the store timeout, and works once released', async () => {
    other.exec('BEGIN IMMEDIATE');
    const started = performance.now();
    const create = post('/generate', { secret: 'lock test', passphrase: 'correct horse battery' });
    // While the create waits for the lock, the event loop is free.
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 3; i++) {
      const before = performance.now();
      const health = await fetch(`${t.url}/healthz`);
      expect(health.status).toBe(200);
      expect(performance.now() - before).toBeLessThan(100);
    }
    const res = await create;
    const elapsed = performance.now() - started;
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unavailable');
    expect(elapsed).toBeGreaterThanOrEqual(700);
    expect(elapsed).toBeLessThan(800 + 1500);
    other.exec('ROLLBACK');
    expect((await post('/generate', { secret: 'lock test', passphrase: 'correct horse battery' })).status).toBe(201);
  });
});
