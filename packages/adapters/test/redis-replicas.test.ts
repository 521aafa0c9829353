import type {} from '@vanish/testkit/redis-global-setup';
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConfigurationError } from '@vanish/core';
import { makeTestRecord, runStoreConformance } from '@vanish/core/testing';
import { RedisStore } from '@vanish/adapters/redis';
import { startRedis, type RedisProcess } from './helpers/redis-server.js';

// A real master with a real replica: with minReplicas every write waits for the replica, so
// a claim the master acknowledged is on the replica too before anyone is told about it.
const available = inject('redisUrl') !== '';

if (available) {
  let master: RedisProcess;
  let replica: RedisProcess;
  beforeAll(async () => {
    master = await startRedis();
    replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
    for (let i = 0; i < 200; i++) {
      const info = spawnSync('redis-cli', ['-p', String(replica.port), 'info', 'replication'], { encoding: 'utf8' }).stdout;
      if (info.includes('master_link_status:up')) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the replica did not sync');
  }, 30_000);
  afterAll(async () => {
    await replica?.dispose();
    await master?.dispose();
  });

  runStoreConformance({
    name: 'RedisStore (master + replica, minReplicas 1)',
    runner: { describe, it },
    rounds: 5,
    createStore: ({ namespace }) =>
      new RedisStore({ client: new Redis(master.url), prefix: `vanish-test:${namespace}:`, minReplicas: 1, closeClient: true }),
  });

  describe('RedisStore with minReplicas', () => {
    it('every acknowledged write is already on the replica', async () => {
      const store = new RedisStore({ client: new Redis(master.url), prefix: 'acked:', minReplicas: 1, closeClient: true });
      const onReplica = new Redis(replica.url);
      const record = makeTestRecord(Date.now());
      await store.create(record);
      expect(await onReplica.exists(`acked:${record.id.toString('hex')}`)).toBe(1);
      await store.reserve(record.id, Date.now());
      expect(await onReplica.hget(`acked:${record.id.toString('hex')}`, 'a')).toBe('1');
      expect(await store.claim(record.id, record.iv, Date.now())).toBe(true);
      expect(await onReplica.exists(`acked:${record.id.toString('hex')}`)).toBe(0);
      await onReplica.quit();
      await store.close();
    });

    it('too few replicas: writes reject with unavailable within the replica timeout, never answer', async () => {
      const store = new RedisStore({
        client: new Redis(master.url),
        prefix: 'short:',
        minReplicas: 2,
        replicaTimeoutMs: 200,
        closeClient: true,
      });
      const record = makeTestRecord(Date.now());
      const started = Date.now();
      await expect(store.create(record)).rejects.toMatchObject({ code: 'unavailable' });
      await expect(store.reserve(record.id, Date.now())).rejects.toMatchObject({ code: 'unavailable' });
      await expect(store.claim(record.id, record.iv, Date.now())).rejects.toMatchObject({ code: 'unavailable' });
      await expect(store.delete(record.id)).rejects.toMatchObject({ code: 'unavailable' });
      expect(Date.now() - started).toBeLessThan(3000);
      await store.close();
      expect(() => new RedisStore({ client: new Redis(master.url, { lazyConnect: true }), minReplicas: -1 })).toThrow(ConfigurationError);
      expect(() => new RedisStore({ client: new Redis(master.url, { lazyConnect: true }), replicaTimeoutMs: 0 })).toThrow(
        ConfigurationError,
      );
    });

    it('works again after the server forgets its scripts', async () => {
      const store = new RedisStore({ client: new Redis(master.url), prefix: 'flushed:', minReplicas: 1, closeClient: true });
      const admin = new Redis(master.url);
      await admin.script('FLUSH');
      const record = makeTestRecord(Date.now());
      await store.create(record);
      await admin.script('FLUSH');
      expect(await store.claim(record.id, record.iv, Date.now())).toBe(true);
      await admin.quit();
      await store.close();
    });
  });
} else {
  describe('RedisStore with replicas', () => {
    it.skip('skipped: no redis-server here (CI always runs it)', () => {});
  });
}
