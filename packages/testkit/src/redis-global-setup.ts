import type { TestProject } from 'vitest/node';
import { findRedisServer, startRedis, type RedisProcess } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the real Redis the suite uses; '' when none could be had (local runs only) */
    redisUrl: string;
  }
}

/**
 * Gives the suite a real Redis: `VANISH_TEST_REDIS_URL` if set (`.ci/run` starts one),
 * otherwise a `redis-server` started here on a random loopback port. Without either,
 * CI fails; a local run skips the Redis tests and says so loudly.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env['VANISH_TEST_REDIS_URL'];
  let owned: RedisProcess | undefined;
  let url = given ?? '';
  if (!given) {
    if (findRedisServer()) {
      owned = await startRedis();
      url = owned.url;
    } else if (process.env['CI']) {
      throw new Error('CI needs a real Redis: install redis-server or set VANISH_TEST_REDIS_URL.');
    } else {
      console.warn(
        '\n!!! REDIS TESTS SKIPPED: redis-server is not installed and VANISH_TEST_REDIS_URL is not set. ' +
          'Run `apt-get install -y redis-server` (or bash .ci/run) to run them.\n',
      );
    }
  }
  project.provide('redisUrl', url);
  return async () => {
    await owned?.dispose();
  };
}
