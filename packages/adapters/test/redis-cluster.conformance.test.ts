import type {} from '@vanish/testkit/redis-global-setup';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeTestRecord, runStoreConformance } from '@vanish/core/testing';
import { RedisStore } from '@vanish/adapters/redis';
import { startRedisCluster, type RedisClusterProcess } from './helpers/redis-server.js';

// The same conformance suite against a real three-master Redis Cluster: every script
// touches one key, so records spread over the masters' slots, and purgeExpired walks
// every master. Runs wherever redis-server is installed (CI always).
const available = inject('redisUrl') !== '';

if (available) {
  let cluster: RedisClusterProcess;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 30_000);
  afterAll(async () => {
    await cluster?.dispose();
  });

  describe('records spread over the cluster', () => {
    it('lands keys on more than one master', async () => {
      const client = new Cluster(cluster.nodes);
      const store = new RedisStore({ client, prefix: 'spread:' });
      for (let i = 0; i < 30; i++) await store.create(makeTestRecord(Date.now()));
      const counts = await Promise.all(client.nodes('master').map((n) => n.dbsize()));
      expect(counts.filter((c) => c > 0).length).toBeGreaterThan(1);
      expect(await store.purgeExpired(Date.now() + 3_600_000)).toBe(30);
      await client.quit();
    });
  });

  runStoreConformance({
    name: 'RedisStore (3-master Redis Cluster)',
    runner: { describe, it },
    rounds: 10,
    createStore: ({ namespace }) =>
      new RedisStore({ client: new Cluster(cluster.nodes), prefix: `vanish-test:${namespace}:`, closeClient: true }),
  });
} else {
  describe('SecretStore conformance: RedisStore on Cluster', () => {
    it.skip('skipped: no redis-server here (CI always runs it)', () => {});
  });
}
