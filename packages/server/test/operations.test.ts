import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRedisServer, startRedis, type RedisProcess } from '@vanish/testkit/redis-server';
import { ENGINES } from './helpers/engines.js';
import { sensitive, startTestServer, type TestServer } from './helpers/server.js';

// What operators see in the log (issue 9, items 9 and 10) and how clients are counted behind a
// proxy (item 8), end to end through an in-process server.

const PASS = 'operations passphrase';
type Line = Record<string, unknown> & { level: number; msg: string };
const parse = (lines: string[]): Line[] => lines.map((l) => JSON.parse(l) as Line);
const WARN = 40;

async function post(t: TestServer, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, requestId: res.headers.get('x-request-id') ?? '', json: (await res.json()) as Record<string, any> };
}

/**
 * Checks that each 503 answered wrote exactly one line at warn level or above: short, without a
 * stack, with the error's real type (not pino's "Object"), beside its access-log line.
 */
function expectShort503Lines(raw: string[], requestIds: string[], type: string) {
  for (const id of requestIds) {
    const mine = raw.filter((l) => l.includes(id));
    const loud = parse(mine).filter((l) => l.level >= WARN);
    expect(loud).toHaveLength(1);
    expect(loud[0]).toMatchObject({ level: WARN, msg: 'request answered 503', code: 'unavailable', type, requestId: id });
    expect(loud[0]).not.toHaveProperty('err');
    const line = mine.find((l) => l.includes('request answered 503'))!;
    expect(line).not.toMatch(/stack|\\n\s+at /);
    expect(line.length).toBeLessThan(300);
    expect(parse(mine).filter((l) => l.msg === 'request')).toMatchObject([{ status: 503 }]);
  }
}

describe('a 503 while the store is down logs one short warn line per request (SQLite closed under the server)', () => {
  let t: TestServer;
  beforeAll(async () => {
    sensitive.add(PASS);
    t = await startTestServer({ VANISH_STORE_TIMEOUT_MS: '500' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('creates and reveals answer 503, each with exactly one warn line without a stack', async () => {
    const made = await post(t, '/generate', { secret: 'made before the outage', passphrase: PASS });
    sensitive.add('made before the outage').add(made.json.secret_key);
    await t.server.store.close();
    const from = t.logs.length;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const created = await post(t, '/generate', { secret: `during the outage ${i}`, passphrase: PASS });
      sensitive.add(`during the outage ${i}`);
      const revealed = await post(t, '/reveal', { secret_key: made.json.secret_key, passphrase: PASS });
      expect([created.status, revealed.status]).toEqual([503, 503]);
      ids.push(created.requestId, revealed.requestId);
    }
    expectShort503Lines(t.logs.slice(from), ids, 'UnavailableError');
    // Nothing else above info: the 503s are the only loud lines.
    expect(parse(t.logs.slice(from)).filter((l) => l.level >= WARN)).toHaveLength(ids.length);
  });
});

describe.skipIf(!findRedisServer())('a Redis outage: logged once when it starts and once when it ends; one warn line per 503', () => {
  let redis: RedisProcess;
  let t: TestServer;
  beforeAll(async () => {
    redis = await startRedis();
    t = await startTestServer({ VANISH_STORE: 'redis', REDIS_URL: redis.url, VANISH_STORE_TIMEOUT_MS: '500' });
  });
  afterAll(async () => {
    await t.close();
    await redis.dispose();
  });

  it('stop, 503s, start: one "lost", one "restored", and a short line per 503', async () => {
    const count = (msg: string) => parse(t.logs).filter((l) => l.msg === msg).length;
    expect((await post(t, '/generate', { secret: 'before', passphrase: PASS })).status).toBe(201);
    sensitive.add('before');
    const from = t.logs.length;
    await redis.stop();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await post(t, '/generate', { secret: 'during', passphrase: PASS });
      expect(res.status).toBe(503);
      ids.push(res.requestId);
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(count('store connection lost; answering 503 until it is back')).toBe(1);
    expectShort503Lines(t.logs.slice(from), ids, 'UnavailableError');
    await redis.start();
    await expect.poll(async () => (await fetch(`${t.url}/readyz`)).status, { timeout: 15_000, interval: 100 }).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(count('store connection lost; answering 503 until it is back')).toBe(1);
    expect(count('store connection restored')).toBe(1);
    const lost = parse(t.logs).find((l) => l.msg.startsWith('store connection lost'))!;
    expect(lost).toMatchObject({ level: WARN, store: 'redis' });
    expect(JSON.stringify(lost)).not.toMatch(/stack/);
    expect((await post(t, '/generate', { secret: 'after', passphrase: PASS })).status).toBe(201);
    sensitive.add('after');
  });
});

describe('startup warnings about the store', () => {
  it('VANISH_STORE=memory warns once that secrets live in this process only', async () => {
    const t = await startTestServer({ VANISH_STORE: 'memory' });
    try {
      const warned = parse(t.logs).filter((l) => l.level === WARN && l.msg.includes('VANISH_STORE=memory'));
      expect(warned).toHaveLength(1);
      expect(warned[0]!.msg).toMatch(/lost on restart/);
      expect(warned[0]!.msg).toMatch(/not shared with other instances/);
    } finally {
      await t.close();
    }
  });

  it('the SQLite store starts without a store warning', async () => {
    const t = await startTestServer({});
    try {
      // Where uWebSockets.js cannot load (Node 22, 24), the engine choice warns too; that is not the store.
      const warned = parse(t.logs).filter((l) => l.level >= WARN && !l.msg.startsWith('hyper-express unavailable'));
      // The test servers run the insecure KDF, which warns; nothing else does.
      expect(warned.map((l) => l.msg)).toEqual([expect.stringMatching(/^INSECURE: VANISH_KDF=insecure-test/)]);
    } finally {
      await t.close();
    }
  });
});

describe.each(ENGINES)('rate limiting behind a trusted proxy on %s: IPv6 clients counted per /64', (engine) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ VANISH_ENGINE: engine, VANISH_TRUST_PROXY: 'true', VANISH_RATE_LIMIT: '3' });
  });
  afterAll(async () => {
    await t.close();
  });

  /** A create without a body: counted by the limiter, refused with a 400 by the handler, never stored. */
  const from = async (forwardedFor: string) =>
    (await fetch(`${t.url}/generate`, { method: 'POST', headers: { 'x-forwarded-for': forwardedFor } })).status;

  it('addresses of one /64 share one budget; another /64 and IPv4 neighbours have their own', async () => {
    expect(await from('2001:db8:aa:1::1')).toBe(400);
    expect(await from('2001:db8:aa:1:ffff:ffff:ffff:fffe')).toBe(400);
    expect(await from('198.51.100.7, 2001:db8:aa:1:1234::9')).toBe(400);
    // The fourth request from the same /64, from yet another address in it: limited.
    expect(await from('2001:db8:aa:1:abcd::5')).toBe(429);
    expect(await from('2001:DB8:AA:1::1')).toBe(429);
    // The neighbouring /64 is another client.
    expect(await from('2001:db8:aa:2::1')).toBe(400);
    // IPv4 addresses stay exact; an IPv4-mapped address is its IPv4 address.
    for (let i = 0; i < 3; i++) expect(await from('203.0.113.10')).toBe(400);
    expect(await from('::ffff:203.0.113.10')).toBe(429);
    expect(await from('203.0.113.11')).toBe(400);
  });
});
