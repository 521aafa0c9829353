import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Clock, SecretStore } from '@vanish/core';
import type { ServerConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import { openMongoStore } from './mongodb.js';
import { createRateLimiter } from './rate-limiter.js';
import { openRedisStore } from './redis.js';
import { openSqliteStore } from './sqlite.js';

/** Hooks of {@link createBackendFromConfig}. */
export interface StoreFromConfigOptions {
  /** time source for the memory and SQLite expiry sweeps */
  clock?: Clock;
  /** where connection trouble of Redis and MongoDB is reported (never with credentials) */
  logger?: Logger;
}

/** What {@link createBackendFromConfig} builds. */
export interface Backend {
  /** the store; it owns its client and closes it */
  store: SecretStore;
  /** the per-client request limiter, or `undefined` when `VANISH_RATE_LIMIT=0` (see {@link createRateLimiter}) */
  rateLimiter: RateLimiterAbstract | undefined;
}

/**
 * The only place a configuration becomes clients: the store and the rate limiter.
 *
 * @remarks Each store's driver is loaded only when that store is chosen; a missing optional
 * driver stops startup with a message naming the package to install. Redis and MongoDB
 * return their store even while the backend is down (requests get 503 until it is back).
 * @param config - validated configuration
 * @param options - clock for the sweeps, logger for connection trouble
 * @returns the store and the limiter
 * @throws {@link ConfigurationError} when the store cannot be opened (the message names the setting)
 */
export async function createBackendFromConfig(config: ServerConfig, options: StoreFromConfigOptions = {}): Promise<Backend> {
  const { clock, logger } = options;
  switch (config.store) {
    case 'memory': {
      const { MemoryStore } = await import('@vanish/adapters/memory');
      return { store: new MemoryStore(clock ? { clock } : {}), rateLimiter: createRateLimiter(config) };
    }
    case 'sqlite':
      return { store: await openSqliteStore(config, clock), rateLimiter: createRateLimiter(config) };
    case 'redis': {
      const { store, client } = await openRedisStore(config, logger);
      return { store, rateLimiter: createRateLimiter(config, client) };
    }
    case 'mongodb':
      return { store: await openMongoStore(config, logger), rateLimiter: createRateLimiter(config) };
  }
}

/**
 * The store alone (see {@link createBackendFromConfig}).
 *
 * @param config - validated configuration
 * @param options - clock, logger
 * @returns the store
 */
export async function createStoreFromConfig(config: ServerConfig, options: StoreFromConfigOptions = {}): Promise<SecretStore> {
  const { store, rateLimiter } = await createBackendFromConfig(config, options);
  void rateLimiter;
  return store;
}
