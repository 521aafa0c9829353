import { Redis } from 'ioredis';
import { describe, inject, it } from 'vitest';
import { runStoreConformance } from '@vanish/core/testing';
import { RedisStore } from '@vanish/adapters/redis';

// A real redis-server (see @vanish/testkit's redis-global-setup.ts). Every store opens its own
// connection, as separate server processes would; each namespace is a key prefix.
const url = inject('redisUrl');

if (url) {
  runStoreConformance({
    name: 'RedisStore (redis-server)',
    runner: { describe, it },
    createStore: ({ namespace }) =>
      new RedisStore({ client: new Redis(url, { lazyConnect: false }), prefix: `vanish-test:${namespace}:`, closeClient: true }),
  });
} else {
  describe('SecretStore conformance: RedisStore', () => {
    it.skip('skipped: no redis-server here and VANISH_TEST_REDIS_URL unset (CI always runs it)', () => {});
  });
}
