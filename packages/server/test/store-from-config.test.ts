import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type {} from '@vanish/testkit/redis-global-setup';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConfigurationError } from '@vanish/core';
import { makeTestRecord } from '@vanish/core/testing';
import { Redis } from 'ioredis';
import { RedisStore } from '@vanish/adapters/redis';
import { loadConfig } from '@vanish/server';
import { parseRedisUrl } from '../src/config/index.js';
import { createLogger } from '../src/logger.js';
import { createStoreFromConfig } from '../src/stores/index.js';
import { mongoDatabaseName } from '../src/stores/mongodb.js';
import { createRedisClient } from '../src/stores/redis.js';

/**
 * A TCP proxy in front of Redis that can swallow replies and cut every connection: a
 * network blip after a command reached the server but before its answer came back.
 */
async function blipProxy(target: number) {
  const sockets = new Set<Socket>();
  let swallow = false;
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: target });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream);
    upstream.on('data', (d: Buffer) => {
      if (!swallow) client.write(d);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    swallowReplies: () => {
      swallow = true;
    },
    cut: () => {
      for (const s of sockets) s.destroy();
      swallow = false;
    },
    close: () => new Promise((r) => server.close(r)),
  };
}

const url = inject('redisUrl');

describe('REDIS_URL forms', () => {
  it('reads standalone, Sentinel and Cluster URLs', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379/2')).toEqual({ kind: 'standalone', url: 'redis://127.0.0.1:6379/2' });
    expect(parseRedisUrl('rediss://:pw@cache.internal:6380')).toEqual({ kind: 'standalone', url: 'rediss://:pw@cache.internal:6380' });
    expect(parseRedisUrl('redis+sentinel://:s%40cret@s1:26379,s2:26379,[::1]:26380/mymaster/3')).toEqual({
      kind: 'sentinel',
      tls: false,
      hosts: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      password: 's@cret',
      name: 'mymaster',
      db: 3,
    });
    expect(parseRedisUrl('rediss+cluster://app:pw@n1:7000,n2:7001')).toEqual({
      kind: 'cluster',
      tls: true,
      hosts: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
      ],
      username: 'app',
      password: 'pw',
    });
  });

  it.each([
    ['http://127.0.0.1:6379', /unknown scheme/],
    ['redis://a:1,b:2', /unknown scheme/],
    ['redis+sentinel://:hunter22@s1:26379', /master-name/],
    ['redis+sentinel://s1:26379/m/x', /database is a number/],
    ['redis+cluster://n1:7000/0', /no path/],
    ['redis+cluster://n1,n2:7000', /host:port/],
    ['redis+cluster://n1:99999', /host:port/],
    ['redis://[bad', /not a URL/],
  ])('refuses %s with a message naming REDIS_URL and never echoing it', (value, why) => {
    expect(() => parseRedisUrl(value)).toThrow(ConfigurationError);
    expect(() => parseRedisUrl(value)).toThrow(why);
    expect(() => parseRedisUrl(value)).toThrow(/^Invalid REDIS_URL/);
    try {
      parseRedisUrl(value);
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter22');
    }
  });
});

describe('stores from configuration', () => {
  // A port that accepts TCP connections and never answers: a hung backend.
  let blackHole: Server;
  let holePort = 0;
  const held = new Set<Socket>();
  beforeAll(async () => {
    blackHole = createServer((socket) => {
      held.add(socket);
      socket.on('close', () => held.delete(socket));
    });
    await new Promise<void>((r) => blackHole.listen(0, '127.0.0.1', r));
    holePort = (blackHole.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await new Promise((r) => blackHole.close(r));
  });

  it.skipIf(!url)('REDIS_URL becomes a working store that owns its client', async () => {
    const store = await createStoreFromConfig(loadConfig({ VANISH_STORE: 'redis', REDIS_URL: url, VANISH_REDIS_PREFIX: 'vanish-cfg:' }));
    const record = makeTestRecord(Date.now());
    await store.create(record);
    expect((await store.reserve(record.id, Date.now()))?.attempts).toBe(1);
    expect(await store.delete(record.id)).toBe(true);
    await store.close();
    await expect(store.ping()).rejects.toMatchObject({ code: 'unavailable' });
  });

  it.skipIf(!url)('a command whose answer was lost in a blip fails and is never run twice after the reconnect', async () => {
    const proxy = await blipProxy(Number(new URL(url).port));
    const direct = new Redis(url);
    const client = await createRedisClient(`redis://127.0.0.1:${proxy.port}`, 1000);
    client.on('error', () => {});
    const prefix = `vanish-blip:${Date.now()}:`;
    const store = new RedisStore({ client, prefix, closeClient: true });
    try {
      await new Promise((r) => client.once('ready', r));
      const record = makeTestRecord(Date.now());
      await store.create(record);
      proxy.swallowReplies();
      const reserve = store.reserve(record.id, Date.now());
      const outcome = reserve.then(
        () => 'resolved',
        () => 'rejected',
      );
      await new Promise((r) => setTimeout(r, 150)); // it ran on the server; the answer is gone
      proxy.cut();
      expect(await outcome).toBe('rejected');
      await new Promise((r) => client.once('ready', r));
      await new Promise((r) => setTimeout(r, 200)); // room for any replay to happen
      expect(await direct.hget(prefix + record.id.toString('hex'), 'a')).toBe('1');
      expect((await store.reserve(record.id, Date.now()))?.attempts).toBe(2);
    } finally {
      await store.close();
      await direct.quit();
      await proxy.close();
    }
  });

  it.skipIf(!url)('VANISH_REDIS_MIN_REPLICAS makes every write wait for replicas (none here: 503 within the bound)', async () => {
    const store = await createStoreFromConfig(
      loadConfig({ VANISH_STORE: 'redis', REDIS_URL: url, VANISH_REDIS_MIN_REPLICAS: '1', VANISH_STORE_TIMEOUT_MS: '300' }),
    );
    const started = Date.now();
    await expect(store.create(makeTestRecord(Date.now()))).rejects.toMatchObject({ code: 'unavailable' });
    expect(Date.now() - started).toBeLessThan(1500);
    await store.close();
  });

  it('a Redis that does not answer: the store comes back within the timeout and every call fails, logged once', async () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (l: string) => void lines.push(l) });
    const started = Date.now();
    const store = await createStoreFromConfig(
      loadConfig({ VANISH_STORE: 'redis', REDIS_URL: `redis://:hunter22@127.0.0.1:${holePort}`, VANISH_STORE_TIMEOUT_MS: '300' }),
      { logger },
    );
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(store.ping()).rejects.toThrow();
    await expect(store.reserve(makeTestRecord(0).id, 0)).rejects.toThrow();
    await store.close();
    const log = lines.join('');
    expect(log).toContain('store connection lost');
    expect(lines.filter((l) => l.includes('store connection lost')).length).toBe(1);
    expect(log).not.toContain('hunter22');
  });

  it('a MongoDB that does not answer: the store comes back within the timeout and every call fails', async () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (l: string) => void lines.push(l) });
    const started = Date.now();
    const store = await createStoreFromConfig(
      loadConfig({
        VANISH_STORE: 'mongodb',
        MONGODB_URL: `mongodb://app:hunter22@127.0.0.1:${holePort}/vanish?directConnection=true`,
        VANISH_STORE_TIMEOUT_MS: '300',
      }),
      { logger },
    );
    expect(Date.now() - started).toBeLessThan(3000);
    await expect(store.ping()).rejects.toThrow();
    await expect(store.reserve(makeTestRecord(0).id, 0)).rejects.toThrow();
    await store.close();
    await store.close();
    expect(lines.join('')).toContain('store connection lost');
    expect(lines.join('')).not.toContain('hunter22');
  });

  it('a MongoDB that is down at startup is dialled again until it is up, and no more once the store is closed', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r)); // nothing listens there now
    const store = await createStoreFromConfig(
      loadConfig({
        VANISH_STORE: 'mongodb',
        MONGODB_URL: `mongodb://127.0.0.1:${port}/vanish?directConnection=true`,
        VANISH_STORE_TIMEOUT_MS: '200',
      }),
    );
    await expect(store.ping()).rejects.toThrow();
    // MongoDB "comes back": something listens on the port. The server must dial it by itself.
    let dials = 0;
    const sockets = new Set<Socket>();
    const comeback = createServer((socket) => {
      dials++;
      sockets.add(socket);
    });
    await new Promise<void>((r) => comeback.listen(port, '127.0.0.1', r));
    await expect.poll(() => dials, { timeout: 5000, interval: 50 }).toBeGreaterThan(0);
    await store.close();
    for (const socket of sockets) socket.destroy();
    const after = dials;
    await new Promise((r) => setTimeout(r, 800));
    expect(dials).toBe(after);
    await new Promise((r) => comeback.close(r));
  });

  it('the MongoDB database comes from the URL path, "vanish" when it has none', () => {
    expect(mongoDatabaseName('mongodb://db1:27017,db2:27017/prod_secrets?replicaSet=rs0')).toBe('prod_secrets');
    expect(mongoDatabaseName('mongodb+srv://user:p%2Fw@cluster0.example.net/?retryWrites=true')).toBe('vanish');
    expect(mongoDatabaseName('mongodb://127.0.0.1:27017')).toBe('vanish');
  });

  it('an invalid MONGODB_URL or collection stops startup with a message naming the setting', async () => {
    await expect(
      createStoreFromConfig(loadConfig({ VANISH_STORE: 'mongodb', MONGODB_URL: 'mongodb://app:hunter22@/x?nope=%' })),
    ).rejects.toThrow(/^Invalid MONGODB_URL/);
    await expect(createStoreFromConfig(loadConfig({ VANISH_STORE: 'mongodb', MONGODB_URL: 'postgres://x' }))).rejects.toThrow(
      /^Invalid MONGODB_URL/,
    );
    // The driver's own messages quote option values and hosts; none of that is repeated.
    for (const echoed of ['mongodb://app:pw@h/x?authMechanism=HUNTER22', 'mongodb://app:pw@hunter22:99999/x']) {
      const err = await createStoreFromConfig(loadConfig({ VANISH_STORE: 'mongodb', MONGODB_URL: echoed })).catch(
        (e: unknown) => e as Error,
      );
      expect((err as Error).message).toMatch(/^Invalid MONGODB_URL/);
      expect((err as Error).message.toLowerCase()).not.toContain('hunter22');
    }
    await expect(createStoreFromConfig(loadConfig({ VANISH_STORE: 'mongodb', VANISH_MONGODB_COLLECTION: 'system.users' }))).rejects.toThrow(
      /^Invalid VANISH_MONGODB_COLLECTION/,
    );
    // REDIS_URL is parsed once, where it becomes a client: a bad one stops the Redis store from opening.
    await expect(createStoreFromConfig(loadConfig({ VANISH_STORE: 'redis', REDIS_URL: 'redis+cluster://n1' }))).rejects.toThrow(
      /^Invalid REDIS_URL/,
    );
    expect(loadConfig({ VANISH_STORE: 'sqlite', REDIS_URL: 'redis+cluster://n1' }).store).toBe('sqlite');
  });
});
