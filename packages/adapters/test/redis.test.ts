import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConfigurationError } from '@vanish/core';
import { isReadableRecord } from '@vanish/core/internal';
import { makeTestRecord } from '@vanish/core/testing';
import { RedisStore } from '@vanish/adapters/redis';
import { startRedis, type RedisProcess } from './helpers/redis-server.js';

const url = inject('redisUrl');
const now = Date.now();

describe.skipIf(!url)('RedisStore against redis-server', () => {
  let client: Redis;
  let prefix: string;
  let store: RedisStore;

  beforeAll(() => {
    client = new Redis(url);
    prefix = `vanish-test:${randomUUID()}:`;
    store = new RedisStore({ client, prefix, expiryGraceMs: 30_000 });
  });
  afterAll(async () => {
    await store.close();
    await client.quit();
  });

  const keyOf = (id: Buffer) => prefix + id.toString('hex');

  it('every record key carries an expiry at expiresAt + grace, also after reserve', async () => {
    const record = makeTestRecord(now, { expiresAt: now + 120_000 });
    await store.create(record);
    const expireAt = await client.pexpiretime(keyOf(record.id));
    expect(expireAt).toBe(record.expiresAt + 30_000);
    await store.reserve(record.id, now);
    expect(await client.pexpiretime(keyOf(record.id))).toBe(record.expiresAt + 30_000);
    expect(await client.hget(keyOf(record.id), 'a')).toBe('1');
  });

  it('no key is ever written without an expiry: reserve, claim and burn of missing ids create nothing', async () => {
    const id = randomBytes(32);
    expect(await store.reserve(id, now)).toBeNull();
    expect(await store.claim(id, randomBytes(12), now)).toBe(false);
    expect(await store.burnIfExhausted(id)).toBe(false);
    expect(await client.exists(keyOf(id))).toBe(0);
    const keys = await client.keys(`${prefix}*`);
    for (const key of keys) expect(await client.pttl(key)).toBeGreaterThan(0);
  });

  it('the stored hash holds the binary fields byte for byte and nothing else', async () => {
    const record = makeTestRecord(now);
    await store.create(record);
    const hash = await client.hgetallBuffer(keyOf(record.id));
    expect(Object.keys(hash).sort()).toEqual(['a', 'c', 'ct', 'e', 'iv', 'm', 'n', 'p', 'r', 'salt', 'v']);
    expect(hash['ct']).toEqual(record.ciphertext);
    expect(hash['iv']).toEqual(record.iv);
    expect(hash['salt']).toEqual(record.salt);
  });

  it('works again after the server forgets its scripts (EVALSHA falls back to EVAL)', async () => {
    const record = makeTestRecord(now);
    await client.script('FLUSH');
    await store.create(record);
    await client.script('FLUSH');
    expect((await store.reserve(record.id, now))?.attempts).toBe(1);
    await client.script('FLUSH');
    expect(await store.claim(record.id, record.iv, now)).toBe(true);
  });

  it('a hash with missing or garbled fields is never a readable record', async () => {
    const missing = randomBytes(32);
    await client.hset(keyOf(missing), 'e', String(now + 60_000), 'm', '3', 'a', '0');
    await client.pexpire(keyOf(missing), 60_000);
    const got = await store.reserve(missing, now);
    expect(got).not.toBeNull();
    expect(isReadableRecord(got!)).toBe(false);
    const garbled = randomBytes(32);
    await client.hset(keyOf(garbled), 'e', 'soon', 'm', '3', 'a', '0');
    await client.pexpire(keyOf(garbled), 60_000);
    expect(await store.reserve(garbled, now)).toBeNull();
    expect(await store.burnIfExhausted(garbled)).toBe(false);
    expect(await store.claim(garbled, randomBytes(12), now)).toBe(false);
  });

  it('purgeExpired skips keys under the prefix that are not records', async () => {
    const other = `${prefix}not-a-record`;
    await client.set(other, 'x', 'PX', 60_000);
    const expired = makeTestRecord(now - 10_000, { expiresAt: now - 1 });
    await store.create(expired);
    expect(await store.purgeExpired(now)).toBe(1);
    expect(await client.get(other)).toBe('x');
  });

  it('rejects a bad prefix, grace or closeClient, and a client with its own keyPrefix, with a ConfigurationError', () => {
    expect(() => new RedisStore({ client, prefix: 'a*b' })).toThrow(ConfigurationError);
    expect(() => new RedisStore({ client, prefix: 'x'.repeat(101) })).toThrow(ConfigurationError);
    expect(() => new RedisStore({ client, expiryGraceMs: -1 })).toThrow(ConfigurationError);
    expect(() => new RedisStore({ client, expiryGraceMs: 1.5 })).toThrow(ConfigurationError);
    expect(() => new RedisStore({ client, closeClient: 'yes' as unknown as boolean })).toThrow(ConfigurationError);
    const prefixed = new Redis(url, { keyPrefix: 'app:', lazyConnect: true });
    expect(() => new RedisStore({ client: prefixed })).toThrow(ConfigurationError);
    expect(() => new RedisStore({ client: prefixed })).toThrow(/keyPrefix/);
    prefixed.disconnect();
  });

  it('a closed store refuses every call with unavailable', async () => {
    const own = new RedisStore({ client, prefix });
    await own.close();
    const id = randomBytes(32);
    for (const call of [
      () => own.create(makeTestRecord(now)),
      () => own.reserve(id, now),
      () => own.claim(id, randomBytes(12), now),
      () => own.burnIfExhausted(id),
      () => own.delete(id),
      () => own.purgeExpired(now),
      () => own.ping(),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: 'unavailable' });
    }
    expect(await client.ping()).toBe('PONG');
  });
});

describe.skipIf(!url)('RedisStore when Redis goes away', () => {
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.dispose();
  });

  it('rejects (never null or false) while Redis is down, and works again once it is back', async () => {
    const client = new Redis(redis.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 1000,
      retryStrategy: () => 50,
    });
    client.on('error', () => {}); // reconnect noise while the server is down
    const store = new RedisStore({ client, prefix: 'down:', closeClient: true });
    await new Promise((resolve) => client.once('ready', resolve));
    const record = makeTestRecord(now);
    await store.create(record);
    await redis.stop();
    const started = Date.now();
    await expect(store.reserve(record.id, now)).rejects.toThrow();
    await expect(store.claim(record.id, record.iv, now)).rejects.toThrow();
    await expect(store.ping()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
    await redis.start();
    await expect
      .poll(
        () =>
          store.ping().then(
            () => true,
            () => false,
          ),
        { timeout: 10_000, interval: 100 },
      )
      .toBe(true);
    const again = makeTestRecord(now);
    await store.create(again);
    expect(await store.claim(again.id, again.iv, now)).toBe(true);
    await store.close();
    await store.close();
    await expect.poll(() => client.status).toBe('end');
  });
});
