import type { Cluster, Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RLWrapperTimeouts, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { ServerConfig } from '../config/index.js';

/** How long one rate-limit call may wait for Redis before this process counts on its own. */
const LIMITER_TIMEOUT_MS = 250;

/**
 * A rate limiter that counts in this process.
 *
 * @param config - `rateLimitPerMinute` is read
 * @returns the limiter, or `undefined` when the limit is off (0)
 */
export function createMemoryRateLimiter(config: ServerConfig): RateLimiterMemory | undefined {
  return config.rateLimitPerMinute > 0 ? new RateLimiterMemory({ points: config.rateLimitPerMinute, duration: 60 }) : undefined;
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
