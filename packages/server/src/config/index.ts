import { parseArgs } from 'node:util';
import { ConfigurationError } from '@vanish/core';
import { SETTINGS, type ServerConfig } from './settings.js';

export { parseRedisUrl, type RedisTarget } from './redis-url.js';
export { SETTINGS, type EngineChoice, type LogLevel, type ServerConfig, type StoreKind } from './settings.js';

/**
 * Builds the configuration from environment variables and `vanish serve` flags (flags win).
 *
 * @param env - usually `process.env`
 * @param argv - flags after `serve`, e.g. `['--port', '9000']`
 * @returns the validated configuration
 * @throws {@link ConfigurationError} naming the variable and its flag, with the accepted values
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, argv: readonly string[] = []): ServerConfig {
  // A true/false flag may stand alone (`--legacy-query-api`) or take a value (`--legacy-query-api false`).
  const booleans = new Set(SETTINGS.filter((s) => 'boolean' in s).map((s) => `--${s.flag}`));
  const args = argv.flatMap((arg, i) =>
    booleans.has(arg) && (argv[i + 1] === undefined || argv[i + 1]!.startsWith('--')) ? [arg, 'true'] : [arg],
  );
  let flags: Record<string, string | undefined>;
  try {
    flags = parseArgs({
      args,
      options: Object.fromEntries(SETTINGS.map((s) => [s.flag, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | undefined>;
  } catch (err) {
    throw new ConfigurationError(`${(err as Error).message}. Run "vanish --help" for the flags.`);
  }
  const config: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const flag = flags[s.flag];
    const raw = flag ?? env[s.env];
    if (raw === undefined) {
      config[s.key] = s.default();
      continue;
    }
    const value = s.parse(raw);
    if (value === undefined) {
      throw new ConfigurationError(`Invalid ${s.env} (--${s.flag}): expected ${s.accepted}.`);
    }
    config[s.key] = value;
  }
  const c = config as unknown as ServerConfig;
  if (c.minTtlSeconds > c.maxTtlSeconds) {
    throw new ConfigurationError('Invalid VANISH_MIN_TTL: it is larger than VANISH_MAX_TTL.');
  }
  if (c.defaultTtlSeconds < c.minTtlSeconds || c.defaultTtlSeconds > c.maxTtlSeconds) {
    throw new ConfigurationError('Invalid VANISH_DEFAULT_TTL: it must lie between VANISH_MIN_TTL and VANISH_MAX_TTL.');
  }
  if (c.kdf === 'insecure-test' && !c.allowInsecureKdf) {
    throw new ConfigurationError(
      'Invalid VANISH_KDF: "insecure-test" makes passphrases trivial to brute-force. It starts only with VANISH_ALLOW_INSECURE_KDF=true, for tests and benchmarks.',
    );
  }
  if (c.workers > 1) {
    // See cluster.ts: the workers share one store, one KDF budget and one port.
    if (c.store === 'memory') {
      throw new ConfigurationError(
        'Invalid VANISH_WORKERS: VANISH_STORE=memory keeps secrets in one process; use 1 worker or a shared store.',
      );
    }
    if (c.workers > c.kdfConcurrency) {
      throw new ConfigurationError(
        `Invalid VANISH_WORKERS: ${c.workers} workers share VANISH_KDF_CONCURRENCY=${c.kdfConcurrency} scrypt calls and each needs at least one; lower the workers or raise the concurrency.`,
      );
    }
    if (c.engine === 'hyper-express') {
      throw new ConfigurationError(
        'Invalid VANISH_ENGINE: hyper-express (uWebSockets.js) cannot share the listening socket of node:cluster, so VANISH_WORKERS above 1 serves with node:http; use auto or node.',
      );
    }
  }
  return c;
}
