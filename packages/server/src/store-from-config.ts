import { chmodSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { MongoClient } from 'mongodb';
import { RateLimiterMemory, RateLimiterRedis, RLWrapperTimeouts, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { MemoryStore } from '@vanish/adapters/memory';
import { MongoStore } from '@vanish/adapters/mongodb';
import { RedisStore } from '@vanish/adapters/redis';
import { SqliteStore } from '@vanish/adapters/sqlite';
import { ConfigurationError, type Clock, type SecretStore } from '@vanish/core';
import { parseRedisUrl, type ServerConfig } from './config.js';
import type { Logger } from './logger.js';

/** Hooks of {@link createStoreFromConfig}. */
export interface StoreFromConfigOptions {
  /** time source for the memory and SQLite expiry sweeps */
  clock?: Clock;
  /** where connection trouble of Redis and MongoDB is reported (never with credentials) */
  logger?: Logger;
}

/**
 * Builds the ioredis client for `REDIS_URL` with bounded waits and no replays.
 *
 * @remarks
 * - No offline queue: while disconnected a command fails at once, so nothing runs late after
 *   the caller was already answered 503.
 * - No retries and no resending of unanswered commands after a reconnect
 *   (`maxRetriesPerRequest: 0`, `autoResendUnfulfilledCommands: false`): a reserve or claim
 *   that may have run is reported as a failure (503), never run a second time.
 * - `commandTimeout` and `socketTimeout` bound every call and detect a hung server; the client
 *   then reconnects by itself, forever, with a capped backoff; a `READONLY` reply (a demoted
 *   master) also makes it reconnect. Sentinel mode follows failovers (`failoverDetector`).
 * - `rediss+sentinel://` uses TLS to the Sentinels and to the master.
 *
 * @param url - `REDIS_URL`
 * @param timeoutMs - connect, command and socket timeout
 * @returns a connecting client
 * @throws {@link ConfigurationError} when the URL is invalid
 */
export function createRedisClient(url: string, timeoutMs: number): Redis | Cluster {
  const target = parseRedisUrl(url);
  const common: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    socketTimeout: Math.max(timeoutMs, 1000) * 5,
    retryStrategy: (times) => Math.min(100 * times, 2000),
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
    connectionName: 'vanish',
  };
  if (target.kind === 'standalone') return new Redis(target.url, common);
  const auth = {
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
  };
  if (target.kind === 'sentinel') {
    return new Redis({
      ...common,
      ...auth,
      sentinels: target.hosts,
      name: target.name!,
      db: target.db ?? 0,
      failoverDetector: true,
      ...(target.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
    });
  }
  const options: ClusterOptions = {
    enableOfflineQueue: false,
    maxRedirections: 16,
    clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
    redisOptions: { ...common, ...auth },
  };
  return new Cluster(target.hosts, options);
}

/** Waits for the client's first `ready`, at most `ms`; never rejects (the store reports readiness itself). */
function firstReady(client: Redis | Cluster, ms: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), ms);
    const onReady = () => done(true);
    function done(ok: boolean) {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ok);
    }
    client.on('ready', onReady);
  });
}

/** Logs a driver's connection trouble once per outage, and its recovery. */
function outageReporter(logger: Logger | undefined, store: string) {
  let down = false;
  return {
    down(err: unknown) {
      if (down) return;
      down = true;
      logger?.warn({ store, reason: err instanceof Error ? err.message : String(err) }, 'store connection lost; answering 503 until it is back');
    },
    up() {
      if (!down) return;
      down = false;
      logger?.info({ store }, 'store connection restored');
    },
  };
}

/** What {@link createBackendFromConfig} builds. */
export interface Backend {
  /** the store; it owns its client and closes it */
  store: SecretStore;
  /**
   * The per-client request limiter, or `undefined` when `VANISH_RATE_LIMIT=0`. With the Redis
   * store it counts in Redis, shared by every instance, and falls back to counting in this
   * process while Redis is unreachable; otherwise it counts in this process.
   */
  rateLimiter: RateLimiterAbstract | undefined;
}

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
 * The only place a configuration becomes clients: the store and the rate limiter.
 *
 * @remarks See {@link createStoreFromConfig} for the stores. The rate limiter shares the Redis
 * store's client (keys `VANISH_REDIS_PREFIX + "ratelimit:" + client address`, each expiring
 * after its minute).
 * @param config - validated configuration
 * @param options - clock for the sweeps, logger for connection trouble
 * @returns the store and the limiter
 * @throws {@link ConfigurationError} as {@link createStoreFromConfig}
 */
export async function createBackendFromConfig(config: ServerConfig, options: StoreFromConfigOptions = {}): Promise<Backend> {
  const { store, redisClient: client } = await openStore(config, options);
  const insurance = createMemoryRateLimiter(config);
  // A Redis that is slow or hung costs a request at most LIMITER_TIMEOUT_MS here; then (as
  // while Redis is down) this process counts on its own.
  const rateLimiter =
    insurance && client
      ? new RLWrapperTimeouts({
          limiter: new RateLimiterRedis({
            storeClient: client,
            keyPrefix: `${config.redisPrefix}ratelimit`,
            points: config.rateLimitPerMinute,
            duration: 60,
            rejectIfRedisNotReady: true,
          }),
          timeoutMs: LIMITER_TIMEOUT_MS,
          insuranceLimiter: insurance,
        })
      : insurance;
  return { store, rateLimiter };
}

/** The database named in a MongoDB URL's path, or `"vanish"` when it names none. */
export function mongoDatabaseName(url: string): string {
  const name = /^mongodb(?:\+srv)?:\/\/[^/?#]*\/([^?#]*)/.exec(url)?.[1];
  return name ? decodeURIComponent(name) : 'vanish';
}

/**
 * The only place a configuration becomes a store client.
 *
 * @remarks
 * - SQLite: creates the file's folder (mode 0700) and the file (mode 0600); the store owns
 *   the handle and closes it on {@link SecretStore.close}.
 * - Redis and MongoDB: builds the client from `REDIS_URL` / `MONGODB_URL` with bounded
 *   timeouts (`VANISH_STORE_TIMEOUT_MS`), waits up to that long for a first connection,
 *   and returns the store either way: while the backend is down, requests get 503
 *   `unavailable` and `/readyz` says so, and the clients reconnect by themselves. The
 *   store owns the client and closes it.
 * @param config - validated configuration
 * @param options - clock for the sweeps, logger for connection trouble
 * @returns the store
 * @throws {@link ConfigurationError} when the store cannot be opened or its URL is invalid (the message names the setting)
 */
export async function createStoreFromConfig(config: ServerConfig, options: StoreFromConfigOptions = {}): Promise<SecretStore> {
  return (await openStore(config, options)).store;
}

/** The store, and the Redis client it was built on (which the rate limiter shares). */
async function openStore(config: ServerConfig, options: StoreFromConfigOptions): Promise<{ store: SecretStore; redisClient?: Redis | Cluster }> {
  const { clock, logger } = options;
  switch (config.store) {
    case 'memory':
      return { store: new MemoryStore(clock ? { clock } : {}) };
    case 'sqlite': {
      const path = resolve(config.sqlitePath);
      let database: Database.Database;
      try {
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        database = new Database(path);
        chmodSync(path, 0o600);
      } catch (err) {
        throw new ConfigurationError(
          `Invalid VANISH_SQLITE_PATH: cannot open an SQLite file at ${path} (${(err as Error).message}).`,
        );
      }
      return { store: new SqliteStore({ database, closeClient: true, ...(clock ? { clock } : {}) }) };
    }
    case 'redis': {
      const client = createRedisClient(config.redisUrl, config.storeTimeoutMs);
      const report = outageReporter(logger, 'redis');
      client.on('error', (err: unknown) => report.down(err));
      client.on('ready', () => report.up());
      let store: RedisStore;
      try {
        store = new RedisStore({
          client,
          prefix: config.redisPrefix,
          minReplicas: config.redisMinReplicas,
          replicaTimeoutMs: Math.min(500, Math.floor(config.storeTimeoutMs / 2)),
          closeClient: true,
        });
      } catch (err) {
        client.disconnect();
        throw new ConfigurationError(`Invalid Redis store settings: ${(err as Error).message}`);
      }
      if (!(await firstReady(client, config.storeTimeoutMs))) report.down(new Error('no connection yet'));
      return { store, redisClient: client };
    }
    case 'mongodb': {
      let client: MongoClient;
      try {
        client = new MongoClient(config.mongodbUrl, {
          appName: 'vanish',
          serverSelectionTimeoutMS: config.storeTimeoutMs,
          connectTimeoutMS: config.storeTimeoutMs,
        });
      } catch (err) {
        // The driver's messages can quote parts of the URL (option values), so none is repeated.
        throw new ConfigurationError(`Invalid MONGODB_URL: it is not a valid MongoDB connection string (${(err as Error).name}).`);
      }
      const report = outageReporter(logger, 'mongodb');
      let store: MongoStore;
      try {
        // The store owns the client and keeps dialling until the first connection succeeds.
        store = new MongoStore({
          db: client.db(mongoDatabaseName(config.mongodbUrl)),
          client,
          collectionName: config.mongodbCollection,
          closeClient: true,
          connect: true,
          connectRetryMaxMs: config.storeTimeoutMs,
          onConnectionChange: (state, cause) => (state === 'connected' ? report.up() : report.down(cause)),
        });
      } catch (err) {
        await client.close();
        throw new ConfigurationError(`Invalid MongoDB store settings: ${(err as Error).message}`);
      }
      await store.firstConnectAttempt();
      return { store };
    }
  }
}
