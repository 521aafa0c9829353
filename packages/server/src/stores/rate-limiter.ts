import cluster from 'node:cluster';
import type { Cluster, Redis } from 'ioredis';
import {
  RateLimiterCluster,
  RateLimiterMemory,
  RateLimiterRedis,
  RLWrapperTimeouts,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { ServerConfig } from '../config/index.js';

/** How long one rate-limit call may wait for Redis before this process counts on its own. */
const LIMITER_TIMEOUT_MS = 250;

/**
 * A rate limiter that counts in this process, or, in a worker of `VANISH_WORKERS` above 1, in
 * the cluster's primary (over IPC, so every worker counts against the one budget the operator set).
 *
 * @param config - `rateLimitPerMinute` and `workers` are read
 * @returns the limiter, or `undefined` when the limit is off (0)
 */
export function createMemoryRateLimiter(config: ServerConfig): RateLimiterAbstract | undefined {
  if (config.rateLimitPerMinute <= 0) return undefined;
  if (config.workers > 1 && cluster.isWorker) {
    return new RateLimiterCluster({ keyPrefix: 'vanish', points: config.rateLimitPerMinute, duration: 60, timeoutMs: LIMITER_TIMEOUT_MS });
  }
  return new RateLimiterMemory({ points: config.rateLimitPerMinute, duration: 60 });
}

/**
 * The per-client request limiter for a configuration.
 *
 * @remarks With a Redis client it counts in Redis (keys `VANISH_REDIS_PREFIX + "ratelimit:" +
 * client`, each expiring after its minute), shared by every instance; a Redis that is slow or
 * down costs a request at most {@link LIMITER_TIMEOUT_MS}, and then this process counts on its own.
 * @param config - `rateLimitPerMinute` and `redisPrefix` are read
 * @param redisClient - the Redis store's client, when the store is Redis
 * @returns the limiter, or `undefined` when the limit is off
 */
export function createRateLimiter(config: ServerConfig, redisClient?: Redis | Cluster): RateLimiterAbstract | undefined {
  const insurance = createMemoryRateLimiter(config);
  if (!insurance || !redisClient) return insurance;
  return new RLWrapperTimeouts({
    limiter: new RateLimiterRedis({
      storeClient: redisClient,
      keyPrefix: `${config.redisPrefix}ratelimit`,
      points: config.rateLimitPerMinute,
      duration: 60,
      rejectIfRedisNotReady: true,
    }),
    timeoutMs: LIMITER_TIMEOUT_MS,
    insuranceLimiter: insurance,
  });
}
