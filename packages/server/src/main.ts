import { ConfigurationError, Vanish, type Clock, type SecretStore } from '@vanish/core';
import type { ServerConfig } from './config/index.js';
import {
  checkNativeUws,
  startHyperExpress,
  startNodeHttp,
  type EngineName,
  type HttpEngine,
  type NativeCheck,
} from './http/engines/index.js';
import { createApiHandler, describeError } from './http/pipeline.js';
import { createLogger, type Logger } from './logger.js';
import { createBackendFromConfig, type Backend } from './stores/index.js';
import { createRateLimiter } from './stores/rate-limiter.js';
import { createWebHandler, loadWebSite } from './http/web.js';

/** Test and embedding hooks for {@link startServer}. */
export interface StartOptions {
  /** logger; default: JSON lines on stdout at `config.logLevel` */
  logger?: Logger;
  /** time source for expiry; default `Date.now` */
  clock?: Clock;
  /** a store to use instead of building one from the configuration (it is closed on shutdown) */
  store?: SecretStore;
  /** how to tell whether hyper-express can run; default {@link checkNativeUws} */
  nativeCheck?: () => NativeCheck;
}

/** A running vanish server. */
export interface RunningServer {
  /** the bound port */
  readonly port: number;
  /** which HTTP engine serves */
  readonly engine: EngineName;
  /** the engine-independent core, for embedding and tests */
  readonly vanish: Vanish;
  /** the store in use */
  readonly store: SecretStore;
  /**
   * Graceful shutdown: stop accepting, finish in-flight requests (at most
   * `shutdownTimeoutMs`), then close the store. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Starts the vanish HTTP server.
 *
 * @remarks
 * Picks the engine (`auto`: hyper-express when uWebSockets.js's native binding loads,
 * otherwise `node:http`, saying why in the log), builds the store, and logs one
 * `listening` line with the engine, address, store and KDF profile. Warns loudly when
 * the insecure test KDF or the legacy query API is on.
 * @param config - validated configuration (see `loadConfig`)
 * @param options - logger, clock or store overrides
 * @returns the running server
 * @throws {@link ConfigurationError} when the engine or store cannot start; the store is closed again
 */
export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const backend: Backend = options.store
    ? { store: options.store, rateLimiter: createRateLimiter(config) }
    : await createBackendFromConfig(config, { logger, ...(options.clock ? { clock: options.clock } : {}) });
  const { store } = backend;
  let engine: HttpEngine;
  let engineChoice: { name: EngineName; reason: string };
  let vanish: Vanish;
  try {
    engineChoice = chooseEngine(config, logger, options.nativeCheck ?? checkNativeUws);
    vanish = new Vanish({
      store,
      kdf: config.kdf,
      // Records written with the insecure test profile are readable only where it was acknowledged.
      allowInsecureKdf: config.allowInsecureKdf,
      kdfConcurrency: config.kdfConcurrency,
      kdfMaxQueue: config.kdfMaxQueue,
      defaultTtlSeconds: config.defaultTtlSeconds,
      minTtlSeconds: config.minTtlSeconds,
      maxTtlSeconds: config.maxTtlSeconds,
      maxSecretBytes: config.maxSecretBytes,
      maxAttempts: config.maxAttempts,
      storeTimeoutMs: config.storeTimeoutMs,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    const handle = createApiHandler({
      vanish,
      logger,
      legacyQueryApi: config.legacyQueryApi,
      rateLimiter: backend.rateLimiter,
      trustProxy: config.trustProxy,
      ipv6PrefixBits: config.rateLimitIpv6PrefixBits,
      ...(config.web ? { web: createWebHandler(loadWebSite(), logger) } : {}),
    });
    const start = engineChoice.name === 'hyper-express' ? startHyperExpress : startNodeHttp;
    engine = await start(handle, config.port, config.host);
  } catch (err) {
    await store.close();
    throw err;
  }
  if (config.kdf === 'insecure-test') {
    logger.warn(
      'INSECURE: VANISH_KDF=insecure-test stretches passphrases with N=16; anyone with the database and a link can brute-force them. Never use it for real secrets.',
    );
  }
  if (config.store === 'memory' && !options.store) {
    logger.warn(
      'VANISH_STORE=memory keeps secrets in this one process only: they are lost on restart and not shared with other instances.',
    );
  }
  if (config.legacyQueryApi) {
    logger.warn('VANISH_LEGACY_QUERY_API=true: secrets and passphrases in query strings reach proxy and access logs.');
  }
  logger.info(
    {
      engine: engine.name,
      engineReason: engineChoice.reason,
      host: config.host,
      port: engine.port,
      store: config.store,
      kdf: config.kdf,
      node: process.versions.node,
    },
    'listening',
  );
  let closing: Promise<void> | undefined;
  return {
    port: engine.port,
    engine: engine.name,
    vanish,
    store,
    close() {
      closing ??= (async () => {
        logger.info('shutting down: no new connections, finishing in-flight requests');
        await engine.close(config.shutdownTimeoutMs);
        try {
          await store.close();
        } catch (err) {
          logger.error({ error: describeError(err) }, 'closing the store failed');
        }
        logger.info('shut down');
      })();
      return closing;
    },
  };
}

/** Picks the engine and says why (the reason goes on the `listening` line). */
function chooseEngine(config: ServerConfig, logger: Logger, nativeCheck: () => NativeCheck): { name: EngineName; reason: string } {
  if (config.engine === 'node') return { name: 'node', reason: 'VANISH_ENGINE=node' };
  if (config.workers > 1) {
    // uWebSockets.js binds its own socket and cannot take node:cluster's shared handle.
    return {
      name: 'node',
      reason: `VANISH_WORKERS=${config.workers}: the workers share node:cluster's listening socket, which only node:http can use`,
    };
  }
  const native = nativeCheck();
  if (native.ok) return { name: 'hyper-express', reason: native.reason };
  if (config.engine === 'hyper-express') {
    throw new ConfigurationError(`Invalid VANISH_ENGINE: hyper-express cannot start: ${native.reason}. Use auto or node.`);
  }
  logger.warn({ reason: native.reason }, 'hyper-express unavailable; serving with node:http');
  return { name: 'node', reason: native.reason };
}
