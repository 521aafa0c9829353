import { availableParallelism } from 'node:os';
import { isValidRedisPrefix } from '@vanish/adapters/redis';
import { KDF_PROFILES, VANISH_DEFAULTS, type KdfProfileName } from '@vanish/core';

/** Backends the server can be configured with. */
export type StoreKind = 'sqlite' | 'redis' | 'mongodb' | 'memory';
/** HTTP engines: hyper-express (uWebSockets.js) or `node:http`; `auto` picks hyper-express when its native binding loads. */
export type EngineChoice = 'auto' | 'hyper-express' | 'node';
/** pino log levels. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * The validated server configuration; each field comes from one row of {@link SETTINGS}
 * (environment variable and `vanish serve` flag).
 */
export interface ServerConfig {
  /** `PORT`: listen port, 0 for any free one */
  port: number;
  /** `HOST`: listen address */
  host: string;
  /** `VANISH_STORE`: backend */
  store: StoreKind;
  /** `VANISH_SQLITE_PATH`: SQLite file */
  sqlitePath: string;
  /** `REDIS_URL` */
  redisUrl: string;
  /** `MONGODB_URL` */
  mongodbUrl: string;
  /** `VANISH_REDIS_PREFIX`: key prefix in Redis */
  redisPrefix: string;
  /** `VANISH_REDIS_MIN_REPLICAS`: replicas that must acknowledge each Redis write */
  redisMinReplicas: number;
  /** `VANISH_MONGODB_COLLECTION`: collection in MongoDB */
  mongodbCollection: string;
  /** `VANISH_STORE_TIMEOUT_MS`: how long any store call may take before it fails with 503 */
  storeTimeoutMs: number;
  /** `VANISH_DEFAULT_TTL`: seconds */
  defaultTtlSeconds: number;
  /** `VANISH_MIN_TTL`: seconds */
  minTtlSeconds: number;
  /** `VANISH_MAX_TTL`: seconds */
  maxTtlSeconds: number;
  /** `VANISH_MAX_SECRET_BYTES`: UTF-8 bytes */
  maxSecretBytes: number;
  /** `VANISH_MAX_ATTEMPTS`: wrong passphrases before destruction */
  maxAttempts: number;
  /** `VANISH_LEGACY_QUERY_API`: serve the query-string forms */
  legacyQueryApi: boolean;
  /** `VANISH_KDF`: scrypt profile */
  kdf: KdfProfileName;
  /** `VANISH_ALLOW_INSECURE_KDF`: the acknowledgement `insecure-test` needs */
  allowInsecureKdf: boolean;
  /** `VANISH_KDF_CONCURRENCY`: scrypt calls in flight */
  kdfConcurrency: number;
  /** `VANISH_KDF_QUEUE`: calls waiting before 503 */
  kdfMaxQueue: number;
  /** `LOG_LEVEL` */
  logLevel: LogLevel;
  /** `VANISH_ENGINE` */
  engine: EngineChoice;
  /** `VANISH_SHUTDOWN_TIMEOUT_MS`: how long shutdown waits for in-flight requests */
  shutdownTimeoutMs: number;
  /** `VANISH_RATE_LIMIT`: requests per minute per client, 0 = off */
  rateLimitPerMinute: number;
  /** `VANISH_TRUST_PROXY`: identify clients by the proxy-appended `X-Forwarded-For` address */
  trustProxy: boolean;
  /** `VANISH_RATE_LIMIT_IPV6_PREFIX`: IPv6 clients are counted per prefix of this many bits */
  rateLimitIpv6PrefixBits: number;
  /** `VANISH_WEB`: serve the web page (`GET /`, `GET /s`, `/assets/…`) */
  web: boolean;
  /** `VANISH_WORKERS`: processes serving the one port (node:cluster); `auto` is the CPU count */
  workers: number;
}

interface Setting<K extends keyof ServerConfig> {
  key: K;
  env: string;
  flag: string;
  boolean?: true;
  default: () => ServerConfig[K];
  parse: (raw: string) => ServerConfig[K] | undefined;
  accepted: string;
}

function wholeNumber(min: number, max: number) {
  return (raw: string): number | undefined => {
    if (!/^\d{1,15}$/.test(raw)) return undefined;
    const n = Number(raw);
    return n >= min && n <= max ? n : undefined;
  };
}
function oneOf<T extends string>(values: readonly T[]) {
  return (raw: string): T | undefined => ((values as readonly string[]).includes(raw) ? (raw as T) : undefined);
}
function workerCount(raw: string): number | undefined {
  return raw === 'auto' ? availableParallelism() : wholeNumber(1, 256)(raw);
}
function bool(raw: string): boolean | undefined {
  const v = raw.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off', ''].includes(v)) return false;
  return undefined;
}
function nonEmpty(raw: string): string | undefined {
  return raw.trim() === '' ? undefined : raw;
}
function setting<K extends keyof ServerConfig>(s: Setting<K>): Setting<K> {
  return s;
}

const STORES = ['sqlite', 'redis', 'mongodb', 'memory'] as const;
const KDFS = Object.keys(KDF_PROFILES) as KdfProfileName[];
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const DAY = 24 * 3600;

/**
 * Every setting: environment variable, `vanish serve` flag, default, parser.
 * The README's configuration table is this list.
 */
export const SETTINGS = [
  setting({
    key: 'port',
    env: 'PORT',
    flag: 'port',
    default: () => 8000,
    parse: wholeNumber(0, 65535),
    accepted: 'a port from 0 to 65535',
  }),
  setting({ key: 'host', env: 'HOST', flag: 'host', default: () => '0.0.0.0', parse: nonEmpty, accepted: 'an address to listen on' }),
  setting({
    key: 'store',
    env: 'VANISH_STORE',
    flag: 'store',
    default: () => 'sqlite' as StoreKind,
    parse: oneOf(STORES),
    accepted: STORES.join(', '),
  }),
  setting({
    key: 'sqlitePath',
    env: 'VANISH_SQLITE_PATH',
    flag: 'sqlite-path',
    default: () => './data/vanish.db',
    parse: nonEmpty,
    accepted: 'a file path',
  }),
  setting({
    key: 'redisUrl',
    env: 'REDIS_URL',
    flag: 'redis-url',
    default: () => 'redis://127.0.0.1:6379',
    parse: nonEmpty,
    accepted: 'a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL',
  }),
  setting({
    key: 'mongodbUrl',
    env: 'MONGODB_URL',
    flag: 'mongodb-url',
    default: () => 'mongodb://127.0.0.1:27017/vanish',
    parse: nonEmpty,
    accepted: 'a mongodb:// or mongodb+srv:// URL',
  }),
  setting({
    key: 'redisPrefix',
    env: 'VANISH_REDIS_PREFIX',
    flag: 'redis-prefix',
    default: () => 'vanish:',
    parse: (raw) => (isValidRedisPrefix(raw) ? raw : undefined),
    accepted: 'letters, digits and _ : . - { }, at most 100',
  }),
  setting({
    key: 'redisMinReplicas',
    env: 'VANISH_REDIS_MIN_REPLICAS',
    flag: 'redis-min-replicas',
    default: () => 0,
    parse: wholeNumber(0, 16),
    accepted: 'a whole number from 0 to 16',
  }),
  setting({
    key: 'mongodbCollection',
    env: 'VANISH_MONGODB_COLLECTION',
    flag: 'mongodb-collection',
    default: () => 'vanish_secrets',
    parse: nonEmpty,
    accepted: 'letters, digits and _ - . (1 to 100), not starting with "system." (checked when the store opens)',
  }),
  setting({
    key: 'storeTimeoutMs',
    env: 'VANISH_STORE_TIMEOUT_MS',
    flag: 'store-timeout-ms',
    default: () => 2000,
    parse: wholeNumber(100, 60_000),
    accepted: 'milliseconds from 100 to 60000',
  }),
  setting({
    key: 'defaultTtlSeconds',
    env: 'VANISH_DEFAULT_TTL',
    flag: 'default-ttl',
    default: () => 7 * DAY,
    parse: wholeNumber(1, 10 * 365 * DAY),
    accepted: 'whole seconds',
  }),
  setting({
    key: 'minTtlSeconds',
    env: 'VANISH_MIN_TTL',
    flag: 'min-ttl',
    default: () => 60,
    parse: wholeNumber(1, 10 * 365 * DAY),
    accepted: 'whole seconds',
  }),
  setting({
    key: 'maxTtlSeconds',
    env: 'VANISH_MAX_TTL',
    flag: 'max-ttl',
    default: () => 30 * DAY,
    parse: wholeNumber(1, 10 * 365 * DAY),
    accepted: 'whole seconds',
  }),
  setting({
    key: 'maxSecretBytes',
    env: 'VANISH_MAX_SECRET_BYTES',
    flag: 'max-secret-bytes',
    default: () => VANISH_DEFAULTS.maxSecretBytes,
    parse: wholeNumber(1, 16 * 1024 * 1024),
    accepted: 'bytes from 1 to 16777216',
  }),
  setting({
    key: 'maxAttempts',
    env: 'VANISH_MAX_ATTEMPTS',
    flag: 'max-attempts',
    default: () => VANISH_DEFAULTS.maxAttempts,
    parse: wholeNumber(1, 100),
    accepted: 'a whole number from 1 to 100',
  }),
  setting({
    key: 'legacyQueryApi',
    env: 'VANISH_LEGACY_QUERY_API',
    flag: 'legacy-query-api',
    boolean: true,
    default: () => false,
    parse: bool,
    accepted: 'true or false',
  }),
  setting({
    key: 'kdf',
    env: 'VANISH_KDF',
    flag: 'kdf',
    default: () => 'default' as KdfProfileName,
    parse: oneOf(KDFS),
    accepted: KDFS.join(', '),
  }),
  setting({
    key: 'allowInsecureKdf',
    env: 'VANISH_ALLOW_INSECURE_KDF',
    flag: 'allow-insecure-kdf',
    boolean: true,
    default: () => false,
    parse: bool,
    accepted: 'true or false',
  }),
  setting({
    key: 'kdfConcurrency',
    env: 'VANISH_KDF_CONCURRENCY',
    flag: 'kdf-concurrency',
    default: () => availableParallelism(),
    parse: wholeNumber(1, 1024),
    accepted: 'a whole number from 1 to 1024',
  }),
  setting({
    key: 'kdfMaxQueue',
    env: 'VANISH_KDF_QUEUE',
    flag: 'kdf-queue',
    default: () => VANISH_DEFAULTS.kdfMaxQueue,
    parse: wholeNumber(0, 100_000),
    accepted: 'a whole number from 0 to 100000',
  }),
  setting({
    key: 'logLevel',
    env: 'LOG_LEVEL',
    flag: 'log-level',
    default: () => 'info' as LogLevel,
    parse: oneOf(LEVELS),
    accepted: LEVELS.join(', '),
  }),
  setting({
    key: 'engine',
    env: 'VANISH_ENGINE',
    flag: 'engine',
    default: () => 'auto' as EngineChoice,
    parse: oneOf(['auto', 'hyper-express', 'node'] as const),
    accepted: 'auto, hyper-express, node',
  }),
  setting({
    key: 'shutdownTimeoutMs',
    env: 'VANISH_SHUTDOWN_TIMEOUT_MS',
    flag: 'shutdown-timeout-ms',
    default: () => 10_000,
    parse: wholeNumber(0, 600_000),
    accepted: 'milliseconds from 0 to 600000',
  }),
  setting({
    key: 'rateLimitPerMinute',
    env: 'VANISH_RATE_LIMIT',
    flag: 'rate-limit',
    default: () => 60,
    parse: wholeNumber(0, 1_000_000),
    accepted: 'requests per minute per client from 0 (off) to 1000000',
  }),
  setting({
    key: 'rateLimitIpv6PrefixBits',
    env: 'VANISH_RATE_LIMIT_IPV6_PREFIX',
    flag: 'rate-limit-ipv6-prefix',
    default: () => 64,
    parse: wholeNumber(16, 128),
    accepted: 'prefix bits from 16 to 128 (64: one client per /64)',
  }),
  setting({
    key: 'trustProxy',
    env: 'VANISH_TRUST_PROXY',
    flag: 'trust-proxy',
    boolean: true,
    default: () => false,
    parse: bool,
    accepted: 'true or false',
  }),
  setting({
    key: 'workers',
    env: 'VANISH_WORKERS',
    flag: 'workers',
    default: () => 1,
    parse: workerCount,
    accepted: 'a whole number from 1 to 256, or auto (the CPU count)',
  }),
  setting({ key: 'web', env: 'VANISH_WEB', flag: 'web', boolean: true, default: () => true, parse: bool, accepted: 'true or false' }),
] as const;
