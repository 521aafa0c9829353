import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type {} from '@vanish/testkit/redis-global-setup';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startRedis, startRedisCluster, type RedisProcess } from '@vanish/testkit/redis-server';
import { cliOutputs, post, removeCliDirs, startCli, stopCli, type Child } from './helpers/cli.js';
import { sensitive, startTestServer, type TestServer } from './helpers/server.js';

// The server on a real redis-server: in process, as two child processes sharing one Redis,
// and through a Redis outage. `redisUrl` comes from @vanish/testkit's redis-global-setup.ts.
const url = inject('redisUrl');
const PASS = 'redis passphrase 0123';
const WRONG = 'not the passphrase';
const FAST_KDF = { VANISH_KDF: 'insecure-test', VANISH_ALLOW_INSECURE_KDF: 'true', VANISH_RATE_LIMIT: '0' };

afterAll(removeCliDirs);

/** Creates a secret on the server at `port`, remembering everything sensitive for the log scans. */
async function createSecret(port: number, secret: string, passphrase = PASS): Promise<string> {
  sensitive.add(secret).add(passphrase);
  const res = await post(port, '/generate', { secret, passphrase });
  expect(res.status).toBe(201);
  sensitive.add(res.json.secret_key);
  return res.json.secret_key as string;
}

/** Every key under `prefix` with its type and full contents, sorted: a comparable picture of the store. */
async function dumpPrefix(client: Redis, prefix: string): Promise<{ key: string; hash: Record<string, Buffer>; dump: Buffer }[]> {
  const keys = (await client.keys(`${prefix}*`)).sort();
  return Promise.all(keys.map(async (key) => ({ key, hash: await client.hgetallBuffer(key), dump: (await client.dumpBuffer(key))! })));
}

function encodings(value: string): Buffer[] {
  const bytes = Buffer.from(value, 'utf8');
  return [
    bytes,
    Buffer.from(bytes.toString('hex')),
    Buffer.from(bytes.toString('base64')),
    Buffer.from(bytes.toString('base64url')),
    Buffer.from(value, 'utf16le'),
  ].map((f) => (f.length > 24 ? f.subarray(0, 24) : f));
}

describe.skipIf(!url)('server on Redis (in process)', () => {
  let t: TestServer;
  let client: Redis;
  const prefix = `vanish-http:${randomUUID()}:`;

  beforeAll(async () => {
    client = new Redis(url);
    t = await startTestServer({
      ...FAST_KDF,
      VANISH_STORE: 'redis',
      REDIS_URL: url,
      VANISH_REDIS_PREFIX: prefix,
      VANISH_MAX_ATTEMPTS: '3',
    });
  });
  afterAll(async () => {
    await t.close();
    await client.quit();
  });

  const create = (secret: string, passphrase = PASS) => createSecret(Number(new URL(t.url).port), secret, passphrase);
  const reveal = (key: string, passphrase: string) => post(Number(new URL(t.url).port), `/secrets/${key}`, { passphrase });

  it('creates, refuses a wrong passphrase without consuming, reveals once', async () => {
    const key = await create('redis secret ✓');
    expect(t.logs.join('')).toContain('"store":"redis"');
    expect((await reveal(key, WRONG)).status).toBe(401);
    const ok = await reveal(key, PASS);
    expect(ok).toEqual({ status: 200, json: { secret: 'redis secret ✓' } });
    expect((await reveal(key, PASS)).status).toBe(404);
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
  });

  it('maxAttempts wrong passphrases destroy the record in Redis', async () => {
    const key = await create('three strikes');
    const before = await dumpPrefix(client, prefix);
    for (let i = 0; i < 3; i++) expect((await reveal(key, WRONG)).status).toBe(401);
    expect((await dumpPrefix(client, prefix)).length).toBe(before.length - 1);
    expect((await reveal(key, PASS)).status).toBe(404);
  });

  it('50 parallel reveals, 5 rounds: exactly one 200 each', async () => {
    for (let round = 0; round < 5; round++) {
      const key = await create(`race ${round}`);
      const results = await Promise.all(Array.from({ length: 50 }, () => reveal(key, PASS)));
      expect(results.filter((r) => r.status === 200).length).toBe(1);
      expect(results.filter((r) => r.status !== 200).every((r) => r.status === 404)).toBe(true);
    }
  });

  it('bad input leaves Redis untouched', async () => {
    await create('stays put');
    const before = await dumpPrefix(client, prefix);
    const port = Number(new URL(t.url).port);
    const bad = [
      post(port, '/generate', { secret: 'x', passphrase: 'short' }),
      post(port, '/generate', { secret: 'x', passphrase: PASS, ttl: 0 }),
      post(port, '/generate', { secret: 'x', passphrase: PASS, extra: 1 }),
      post(port, `/secrets/${'A'.repeat(10)}`, { passphrase: PASS }),
      post(port, `/secrets/${Buffer.alloc(33, 1).toString('base64url')}`, {}),
    ];
    for (const res of await Promise.all(bad)) expect([400, 404]).toContain(res.status);
    expect(await dumpPrefix(client, prefix)).toEqual(before);
  });

  it('every key in Redis has an expiry and holds no secret, passphrase or secret_key', async () => {
    const needles: Buffer[] = [];
    for (let i = 0; i < 10; i++) {
      const secret = `dump me ${randomBytes(8).toString('hex')}`;
      const passphrase = `pass ${randomBytes(9).toString('base64')}`;
      const key = await create(secret, passphrase);
      needles.push(
        ...encodings(secret),
        ...encodings(passphrase),
        ...encodings(key),
        ...encodings(Buffer.from(key, 'base64url').subarray(1).toString('latin1')),
      );
    }
    const all = await dumpPrefix(client, prefix);
    expect(all.length).toBeGreaterThanOrEqual(10);
    const everything = Buffer.concat(all.flatMap(({ key, hash, dump }) => [Buffer.from(key), ...Object.values(hash), dump]));
    for (const needle of needles) expect(everything.includes(needle)).toBe(false);
    for (const { key } of all) expect(await client.pttl(key)).toBeGreaterThan(0);
  });
});

describe.skipIf(!url)('two server processes sharing one Redis', () => {
  let a: Child;
  let b: Child;
  const prefix = `vanish-multi:${randomUUID()}:`;

  beforeAll(async () => {
    const env = { ...FAST_KDF, VANISH_STORE: 'redis', REDIS_URL: url, VANISH_REDIS_PREFIX: prefix, VANISH_MAX_ATTEMPTS: '5' };
    [a, b] = await Promise.all([startCli(env), startCli(env)]);
  });
  afterAll(async () => {
    expect(await stopCli(a)).toBe(0);
    expect(await stopCli(b)).toBe(0);
  });

  const create = (secret: string) => createSecret(a.port, secret);

  it('100 parallel reveals split across both, 10 rounds: exactly one 200 each', async () => {
    for (let round = 0; round < 10; round++) {
      const key = await create(`shared ${round} ${randomUUID()}`);
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => post(i % 2 ? b.port : a.port, `/secrets/${key}`, { passphrase: PASS })),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 200).length, `round ${round}`).toBe(1);
      expect(statuses.filter((s) => s !== 200 && s !== 404)).toEqual([]);
    }
  });

  it('100 parallel wrong guesses across both run the KDF at most maxAttempts times, 5 rounds', async () => {
    for (let round = 0; round < 5; round++) {
      const key = await create(`guarded ${round} ${randomUUID()}`);
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => post(i % 2 ? b.port : a.port, `/secrets/${key}`, { passphrase: `${WRONG} ${i}` })),
      );
      // Every 401 is one reserved attempt that ran scrypt; every other answer ran none.
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 401).length, `round ${round}`).toBe(5);
      expect(statuses.filter((s) => s !== 401 && s !== 404)).toEqual([]);
      expect((await post(b.port, `/secrets/${key}`, { passphrase: PASS })).status).toBe(404);
    }
  });
});

describe.skipIf(!url)('the rate limit, shared through Redis', () => {
  it('two processes on one Redis share one budget per client address', async () => {
    const env = {
      ...FAST_KDF,
      VANISH_RATE_LIMIT: '4',
      VANISH_STORE: 'redis',
      REDIS_URL: url,
      VANISH_REDIS_PREFIX: `vanish-rl:${randomUUID()}:`,
    };
    const [a, b] = await Promise.all([startCli(env), startCli(env)]);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        statuses.push((await post(i % 2 ? b.port : a.port, `/secrets/${'A'.repeat(44)}`, { passphrase: PASS })).status);
      }
      expect(statuses).toEqual([404, 404, 404, 404, 429, 429, 429, 429]);
    } finally {
      expect(await stopCli(a)).toBe(0);
      expect(await stopCli(b)).toBe(0);
    }
  });

  it('while Redis is down each process still limits on its own', async () => {
    const redis = await startRedis();
    const t = await startTestServer({
      ...FAST_KDF,
      VANISH_RATE_LIMIT: '3',
      VANISH_STORE: 'redis',
      REDIS_URL: redis.url,
      VANISH_STORE_TIMEOUT_MS: '300',
    });
    try {
      await redis.stop();
      const port = Number(new URL(t.url).port);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await post(port, '/generate', { secret: 'x', passphrase: PASS })).status);
      expect(statuses).toEqual([503, 503, 503, 429, 429]);
    } finally {
      await t.close();
      await redis.dispose();
    }
  });
});

describe.skipIf(!url)('Redis outage and recovery', () => {
  let redis: RedisProcess;
  let server: Child;

  beforeAll(async () => {
    redis = await startRedis({ persist: true });
    server = await startCli({ ...FAST_KDF, VANISH_STORE: 'redis', REDIS_URL: redis.url, VANISH_STORE_TIMEOUT_MS: '500' });
  });
  afterAll(async () => {
    expect(await stopCli(server)).toBe(0);
    await redis.dispose();
  });

  const reveal = (key: string) => post(server.port, `/secrets/${key}`, { passphrase: PASS });
  const create = (secret: string) => createSecret(server.port, secret);

  it('answers 503 quickly while Redis is down, never reveals twice, and resumes by itself', async () => {
    const revealedBefore = await create('revealed before the outage');
    const keptThrough = await create('kept through the outage');
    const raced = await create('raced while Redis stops');
    expect((await reveal(revealedBefore)).status).toBe(200);

    // Reveals of `raced` in flight while Redis goes down.
    const inFlight = Array.from({ length: 40 }, (_, i) => new Promise((r) => setTimeout(r, i * 5)).then(() => reveal(raced)));
    await redis.stop();
    const during = await Promise.all(inFlight);

    const started = Date.now();
    const down = await Promise.all([
      reveal(keptThrough),
      post(server.port, '/generate', { secret: 'x', passphrase: PASS }),
      fetch(`http://127.0.0.1:${server.port}/readyz`),
    ]);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(down[0]).toEqual({ status: 503, json: { error: expect.objectContaining({ code: 'unavailable' }) } });
    expect(down[1].status).toBe(503);
    expect(down[2].status).toBe(503);
    expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
    expect(server.proc.exitCode).toBeNull();

    await redis.start();
    await expect
      .poll(async () => (await fetch(`http://127.0.0.1:${server.port}/readyz`)).status, { timeout: 15_000, interval: 100 })
      .toBe(200);
    expect((await reveal(revealedBefore)).status).toBe(404);
    expect(await reveal(keptThrough)).toEqual({ status: 200, json: { secret: 'kept through the outage' } });
    expect((await reveal(keptThrough)).status).toBe(404);
    const after = await reveal(raced);

    const all = [...during, after].map((r) => r.status);
    expect(all.filter((s) => s === 200).length).toBeLessThanOrEqual(1);
    expect(all.filter((s) => ![200, 404, 503].includes(s))).toEqual([]);
    expect(server.out()).toContain('store connection lost');
    expect(server.out()).toContain('store connection restored');
  });
});

describe.skipIf(!url)('a hung Redis (SIGSTOP)', () => {
  it('costs each request at most the store timeout plus the limiter bound, and the server recovers when it thaws', async () => {
    const redis = await startRedis();
    const t = await startTestServer({
      ...FAST_KDF,
      VANISH_RATE_LIMIT: '100',
      VANISH_STORE: 'redis',
      REDIS_URL: redis.url,
      VANISH_STORE_TIMEOUT_MS: '300',
    });
    const port = Number(new URL(t.url).port);
    try {
      const key = await createSecret(port, 'survives a freeze');
      redis.pause();
      const started = Date.now();
      const res = await post(port, `/secrets/${key}`, { passphrase: PASS });
      expect(res.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(1500);
      expect((await fetch(`${t.url}/readyz`)).status).toBe(503);
      redis.resume();
      await expect.poll(async () => (await fetch(`${t.url}/readyz`)).status, { timeout: 15_000, interval: 100 }).toBe(200);
      // The frozen reveal was refused, not replayed: one attempt at most, and the secret is still there.
      expect(await post(port, `/secrets/${key}`, { passphrase: PASS })).toEqual({ status: 200, json: { secret: 'survives a freeze' } });
    } finally {
      await t.close();
      await redis.dispose();
    }
  });
});

describe.skipIf(!url)('REDIS_URL for Sentinel and Cluster, end to end', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  async function roundTrip(env: Record<string, string>) {
    const t = await startTestServer({ ...FAST_KDF, VANISH_STORE: 'redis', ...env });
    cleanup.push(() => t.close());
    const port = Number(new URL(t.url).port);
    const key = await createSecret(port, 'through the topology');
    expect((await reveal(port, key, WRONG)).status).toBe(401);
    expect(await reveal(port, key, PASS)).toEqual({ status: 200, json: { secret: 'through the topology' } });
    expect((await reveal(port, key, PASS)).status).toBe(404);
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
  }
  const reveal = (port: number, key: string, passphrase: string) => post(port, `/secrets/${key}`, { passphrase });

  it('redis+sentinel://host:port/master finds the master through Sentinel', async () => {
    const master = await startRedis();
    cleanup.push(() => master.dispose());
    const sentinel = await startRedis({ sentinelOf: { name: 'vanishmaster', port: master.port } });
    cleanup.push(() => sentinel.dispose());
    await roundTrip({ REDIS_URL: `redis+sentinel://127.0.0.1:${sentinel.port}/vanishmaster` });
    const direct = new Redis(master.url);
    expect(await direct.dbsize()).toBe(0); // consumed: nothing left on the master Sentinel named
    await direct.quit();
  });

  it('redis+cluster://host:port,… spreads records over a real three-master cluster', async () => {
    const cluster = await startRedisCluster();
    cleanup.push(() => cluster.dispose());
    await roundTrip({ REDIS_URL: cluster.url });
  });
});

describe.skipIf(!url)('logs of the Redis processes', () => {
  it('hold no secret, passphrase or secret_key', () => {
    const out = cliOutputs.join('\n');
    expect(out).toContain('"store":"redis"');
    for (const value of [...sensitive, PASS]) expect(out).not.toContain(value);
  });
});
