import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { ConfigurationError, type SecretStore } from '@vanish/core';
import { parseRedisUrl, type ServerConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import { loadDriver } from './drivers.js';
import { outageReporter } from './outage.js';

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
 * @throws {@link ConfigurationError} when the URL is invalid or ioredis is not installed
 */
export async function createRedisClient(url: string, timeoutMs: number): Promise<Redis | Cluster> {
  const target = parseRedisUrl(url);
  const ioredis = await loadDriver('ioredis', () => import('ioredis'));
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
  if (target.kind === 'standalone') return new ioredis.Redis(target.url, common);
  const auth = {
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
  };
  if (target.kind === 'sentinel') {
    return new ioredis.Redis({
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
  return new ioredis.Cluster(target.hosts, options);
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

/**
 * Opens the Redis store: builds the client, waits up to `VANISH_STORE_TIMEOUT_MS` for a first
 * connection and returns the store either way (while Redis is down, requests get 503 and the
 * client reconnects by itself). The store owns the client.
 *
 * @param config - the Redis settings are read
 * @param logger - where an outage and its end are logged, once each
 * @returns the store, and its client for the shared rate limiter
 * @throws {@link ConfigurationError} naming the setting that is wrong
 */
export async function openRedisStore(
  config: ServerConfig,
  logger: Logger | undefined,
): Promise<{ store: SecretStore; client: Redis | Cluster }> {
  const { RedisStore } = await import('@vanish/adapters/redis');
  const client = await createRedisClient(config.redisUrl, config.storeTimeoutMs);
  const report = outageReporter(logger, 'redis');
  client.on('error', (err: unknown) => report.down(err));
  client.on('ready', () => report.up());
  let store: SecretStore;
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
  return { store, client };
}
