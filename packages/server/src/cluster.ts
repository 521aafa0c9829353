import cluster, { type Worker } from 'node:cluster';
import { RateLimiterClusterMaster } from 'rate-limiter-flexible';
import type { ServerConfig } from './config/index.js';
import type { Logger } from './logger.js';

/** Environment variable that tells a worker its place (0-based) among the `VANISH_WORKERS`. */
const WORKER_INDEX = 'VANISH_WORKER_INDEX';

/**
 * Whether this process should start the workers instead of serving: `VANISH_WORKERS` above 1
 * and this is not already a worker.
 *
 * @param config - `workers` is read
 * @returns `true` in the primary of a multi-worker server
 */
export function isClusterPrimary(config: ServerConfig): boolean {
  return config.workers > 1 && cluster.isPrimary;
}

/**
 * The fields every log line of this process carries: `worker` (0 for the primary, the
 * cluster's worker id in a worker) when `VANISH_WORKERS` is above 1; none otherwise.
 *
 * @param config - `workers` is read
 * @returns fields for `createLogger`
 */
export function workerLogFields(config: ServerConfig): Record<string, number> {
  if (config.workers <= 1) return {};
  return cluster.isWorker ? { worker: cluster.worker!.id, pid: process.pid } : { worker: 0, pid: process.pid };
}

/** `total` split over `parts`: part `index` gets the quotient, the first `total % parts` one more. */
function share(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

/**
 * A worker's part of the settings the operator gave for the whole server.
 *
 * @remarks `VANISH_KDF_CONCURRENCY` and `VANISH_KDF_QUEUE` are totals: each worker gets its
 * share (the first ones one more when they do not divide evenly), so the server as a whole
 * never runs more scrypt calls, nor queues more, than set. (`loadConfig` refuses more workers
 * than KDF slots.) The rate limit is not split: in a worker the memory limiter counts in the
 * primary (see `createMemoryRateLimiter`), and with Redis every worker counts in Redis.
 * @param config - the whole server's settings
 * @returns the settings for this worker (unchanged outside a multi-worker cluster)
 */
export function workerConfig(config: ServerConfig): ServerConfig {
  if (config.workers <= 1 || !cluster.isWorker) return config;
  const index = Number(process.env[WORKER_INDEX] ?? '0');
  return {
    ...config,
    kdfConcurrency: Math.max(1, share(config.kdfConcurrency, config.workers, index)),
    kdfMaxQueue: share(config.kdfMaxQueue, config.workers, index),
  };
}

/**
 * Runs the primary of `vanish serve --workers N`: forks N workers that serve one port.
 *
 * @remarks
 * - The workers listen through node:cluster: the primary holds the one listening socket and
 *   hands out connections round-robin, so an address in use fails every worker's listen (each
 *   says so) and the primary exits 1 without having served.
 * - Each worker opens its own store client; the memory rate limiter counts in the primary.
 * - A worker that fails during startup stops the others; the exit code is the worker's (1
 *   could not start, 2 configuration). One that dies later is started again after a second.
 * - SIGTERM or SIGINT: every worker gets SIGTERM and drains (finishes its in-flight requests,
 *   closes its store); the primary exits 0 once all have exited 0, 1 otherwise or when they
 *   are not gone within `VANISH_SHUTDOWN_TIMEOUT_MS` plus 5 s (then they are killed). A second
 *   signal kills the workers at once.
 * @param config - validated settings with `workers` above 1
 * @param logger - the primary's logger
 * @returns the exit code, once every worker is gone
 */
export function runPrimary(config: ServerConfig, logger: Logger): Promise<number> {
  if (config.rateLimitPerMinute > 0) new RateLimiterClusterMaster();
  const workers = new Map<number, Worker>();
  const listening = new Set<number>();
  let ready = false;
  let stopping = false;
  let code = 0;
  return new Promise<number>((resolve) => {
    const finishIfDone = () => {
      if (stopping && workers.size === 0) resolve(code);
    };
    const stopAll = (signal: NodeJS.Signals) => {
      for (const w of workers.values()) w.process.kill(signal);
    };
    const fork = (index: number) => {
      const worker = cluster.fork({ [WORKER_INDEX]: String(index) });
      workers.set(index, worker);
      worker.on('listening', (address) => {
        listening.add(index);
        if (!ready && listening.size === config.workers) {
          ready = true;
          logger.info({ workers: config.workers, port: address.port, host: config.host, engine: 'node' }, 'all workers listening');
        }
      });
      worker.on('exit', (exitCode, signal) => {
        if (workers.get(index) === worker) workers.delete(index);
        listening.delete(index);
        const failed = exitCode !== 0;
        if (stopping) {
          if (failed) code = 1;
          return finishIfDone();
        }
        if (!ready) {
          // Startup failed (an address in use, a store that would not open): stop the rest.
          logger.fatal({ exitCode, signal }, 'a worker could not start; stopping the others');
          code = exitCode && exitCode > 0 ? exitCode : 1;
          stopping = true;
          stopAll('SIGTERM');
          return finishIfDone();
        }
        logger.error({ exitCode, signal, index }, 'a worker exited; starting it again in 1 s');
        setTimeout(() => {
          if (!stopping) fork(index);
        }, 1000).unref();
      });
    };
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        logger.warn({ signal }, 'second signal: killing the workers now');
        code = 1;
        stopping = true;
        stopAll('SIGKILL');
        return;
      }
      logger.info({ signal, workers: workers.size }, 'signal received: draining every worker');
      stopping = true;
      stopAll('SIGTERM');
      const force = setTimeout(() => {
        logger.error('workers did not stop in time; killing them');
        code = 1;
        stopAll('SIGKILL');
      }, config.shutdownTimeoutMs + 5000);
      force.unref();
      finishIfDone();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    for (let i = 0; i < config.workers; i++) fork(i);
  });
}
