import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '@vanish/core';
import { loadConfig, SETTINGS } from '@vanish/server';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 8000,
      host: '0.0.0.0',
      store: 'sqlite',
      sqlitePath: './data/vanish.db',
      redisUrl: 'redis://127.0.0.1:6379',
      mongodbUrl: 'mongodb://127.0.0.1:27017/vanish',
      defaultTtlSeconds: 604800,
      minTtlSeconds: 60,
      maxTtlSeconds: 2592000,
      maxSecretBytes: 65536,
      maxAttempts: 5,
      legacyQueryApi: false,
      kdf: 'default',
      logLevel: 'info',
      engine: 'auto',
      web: true,
    });
    expect(c.kdfConcurrency).toBeGreaterThanOrEqual(1);
  });

  it('reads every variable, and flags win over the environment', () => {
    const c = loadConfig(
      { PORT: '9000', VANISH_STORE: 'memory', VANISH_LEGACY_QUERY_API: 'true', VANISH_MAX_ATTEMPTS: '9', VANISH_KDF: 'strong' },
      ['--port', '9100', '--legacy-query-api', '--max-ttl', '86400', '--default-ttl', '3600'],
    );
    expect(c).toMatchObject({
      port: 9100,
      store: 'memory',
      legacyQueryApi: true,
      maxAttempts: 9,
      kdf: 'strong',
      maxTtlSeconds: 86400,
      defaultTtlSeconds: 3600,
    });
  });

  it('true/false flags stand alone or take a value', () => {
    expect(loadConfig({}, ['--legacy-query-api']).legacyQueryApi).toBe(true);
    expect(loadConfig({}, ['--legacy-query-api', '--port', '1']).legacyQueryApi).toBe(true);
    expect(loadConfig({ VANISH_LEGACY_QUERY_API: 'true' }, ['--legacy-query-api', 'false']).legacyQueryApi).toBe(false);
    expect(loadConfig({}, ['--trust-proxy=yes']).trustProxy).toBe(true);
    expect(() => loadConfig({}, ['--trust-proxy', 'perhaps'])).toThrow(/Invalid VANISH_TRUST_PROXY/);
  });

  it('every setting has a distinct variable and flag', () => {
    expect(new Set(SETTINGS.map((s) => s.env)).size).toBe(SETTINGS.length);
    expect(new Set(SETTINGS.map((s) => s.flag)).size).toBe(SETTINGS.length);
  });

  const INVALID: [string, string][] = [
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['VANISH_STORE', 'postgres'],
    ['VANISH_MAX_TTL', '-5'],
    ['VANISH_MIN_TTL', '1.5'],
    ['VANISH_DEFAULT_TTL', '1e3'],
    ['VANISH_MAX_SECRET_BYTES', '0'],
    ['VANISH_MAX_ATTEMPTS', ''],
    ['VANISH_LEGACY_QUERY_API', 'maybe'],
    ['VANISH_KDF', 'fast'],
    ['VANISH_KDF_CONCURRENCY', '0'],
    ['LOG_LEVEL', 'verbose'],
    ['VANISH_ENGINE', 'express'],
    ['HOST', '  '],
    ['VANISH_REDIS_PREFIX', 'a*'],
    ['VANISH_REDIS_MIN_REPLICAS', '17'],
    ['VANISH_MONGODB_COLLECTION', ''],
    ['VANISH_STORE_TIMEOUT_MS', '10'],
    ['REDIS_URL', ''],
    ['MONGODB_URL', ' '],
    ['VANISH_SQLITE_PATH', ''],
    ['VANISH_ALLOW_INSECURE_KDF', 'sure'],
    ['VANISH_KDF_QUEUE', '-1'],
    ['VANISH_SHUTDOWN_TIMEOUT_MS', '600001'],
    ['VANISH_RATE_LIMIT', 'lots'],
    ['VANISH_TRUST_PROXY', '2'],
    ['VANISH_RATE_LIMIT_IPV6_PREFIX', '8'],
    ['VANISH_WEB', 'perhaps'],
    ['VANISH_WORKERS', 'many'],
  ];

  it('the invalid-value table below covers every setting', () => {
    expect(new Set(INVALID.map(([name]) => name))).toEqual(new Set(SETTINGS.map((s) => s.env)));
  });

  it.each(INVALID)('an invalid %s=%j stops startup with a message naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigurationError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`Invalid ${name} \\(--`));
  });

  it('refuses inconsistent TTL bounds', () => {
    expect(() => loadConfig({ VANISH_MIN_TTL: '600', VANISH_MAX_TTL: '300', VANISH_DEFAULT_TTL: '400' })).toThrow(/VANISH_MIN_TTL/);
    expect(() => loadConfig({ VANISH_DEFAULT_TTL: '30' })).toThrow(/VANISH_DEFAULT_TTL/);
  });

  it('starts the insecure KDF only with the explicit acknowledgement', () => {
    expect(() => loadConfig({ VANISH_KDF: 'insecure-test' })).toThrow(/VANISH_ALLOW_INSECURE_KDF=true/);
    expect(loadConfig({ VANISH_KDF: 'insecure-test', VANISH_ALLOW_INSECURE_KDF: 'true' }).kdf).toBe('insecure-test');
  });

  it('accepts every store and its own settings', () => {
    const redis = loadConfig({ VANISH_STORE: 'redis', REDIS_URL: 'redis+cluster://a:1,b:2', VANISH_REDIS_PREFIX: '{app}:vanish:' });
    expect([redis.store, redis.redisUrl, redis.redisPrefix]).toEqual(['redis', 'redis+cluster://a:1,b:2', '{app}:vanish:']);
    const mongo = loadConfig({ VANISH_STORE: 'mongodb', VANISH_MONGODB_COLLECTION: 'secrets', VANISH_STORE_TIMEOUT_MS: '500' });
    expect([mongo.store, mongo.mongodbCollection, mongo.storeTimeoutMs]).toEqual(['mongodb', 'secrets', 500]);
    expect(() => loadConfig({ VANISH_STORE: 'postgres' })).toThrow(/VANISH_STORE.*sqlite, redis, mongodb, memory/);
  });

  it('rejects unknown flags and stray arguments', () => {
    expect(() => loadConfig({}, ['--no-such-flag'])).toThrow(ConfigurationError);
    expect(() => loadConfig({}, ['stray'])).toThrow(ConfigurationError);
  });
});

describe('the README configuration table', () => {
  it('lists every setting with its flag and default', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
    const rows = readme.split('\n').filter((l) => l.startsWith('| `'));
    for (const s of SETTINGS) {
      const row = rows.find((r) => r.split('|')[1]!.includes(`\`${s.env}\``));
      expect(row, s.env).toBeDefined();
      expect(row!.split('|')[2], s.env).toContain(`\`--${s.flag}\``);
    }
  });
});
