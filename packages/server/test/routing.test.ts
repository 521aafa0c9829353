import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientKey } from '../src/http/client-address.js';
import { decodeForm } from '../src/http/body.js';
import { ENGINES } from './helpers/engines.js';
import { startTestServer, type TestServer } from './helpers/server.js';

describe.each(ENGINES)('routing and input edges on %s', (engine) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ VANISH_ENGINE: engine });
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (path: string, body: string, type = 'application/json') =>
    fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
  const created = async () => {
    const res = await post('/generate', JSON.stringify({ secret: 's3cret-value', passphrase: 'correct horse' }));
    expect(res.status).toBe(201);
    return ((await res.json()) as { secret_key: string }).secret_key;
  };

  it('a trailing slash or an extra segment after a key is a route error, never the secret state', async () => {
    const key = await created();
    for (const path of [`/secrets/${key}/`, `/secrets/${key}/status`]) {
      const res = await post(path, JSON.stringify({ passphrase: 'correct horse' }));
      expect(res.status).toBe(404);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('not_found');
      expect(body.error.message).toMatch(/No such endpoint/);
    }
    // Nothing was consumed: the real path still reveals it.
    const res = await post(`/secrets/${key}`, JSON.stringify({ passphrase: 'correct horse' }));
    expect(await res.json()).toEqual({ secret: 's3cret-value' });
  });

  it('a query string on a POST route is refused, not dropped, and stores nothing', async () => {
    const before = t.snapshot();
    const res = await post('/generate?ttl=60', JSON.stringify({ secret: 'x', passphrase: 'correct horse' }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/no query string/);
    expect(t.snapshot()).toEqual(before);
  });

  it('JSON sent with the form content type (curl -d) says the content type is missing', async () => {
    const res = await post('/generate', JSON.stringify({ secret: 'x', passphrase: 'correct horse' }), 'application/x-www-form-urlencoded');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /looks like JSON.*Content-Type: application\/json/,
    );
  });

  it.each([
    ['{"secret":"x","passphrase":"correct horse","ttl":null}', 'application/json', /null/],
    ['{"secret":"x","passphrase":"correct horse","ttl":"60"}', 'application/json', /JSON number, not a string/],
    ['{"secret":"x","passphrase":"correct horse","ttl":1.5}', 'application/json', /fraction/],
    ['secret=x&passphrase=correct+horse&ttl=abc', 'application/x-www-form-urlencoded', /not a number/],
  ])('a bad ttl says what was wrong: %s', async (body, type, message) => {
    const before = t.snapshot();
    const res = await post('/generate', body, type);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(message);
    expect(t.snapshot()).toEqual(before);
  });

  it('a duplicate JSON key is refused like a duplicate form field', async () => {
    const before = t.snapshot();
    for (const [body, type] of [
      ['{"secret":"a","secret":"b","passphrase":"correct horse"}', 'application/json'],
      ['secret=a&secret=b&passphrase=correct+horse', 'application/x-www-form-urlencoded'],
    ] as const) {
      const res = await post('/generate', body, type);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe('A field is given more than once.');
    }
    // Nested duplicates are not top-level fields and are refused by the schema, not the duplicate rule.
    const res = await post('/generate', '{"secret":"a","passphrase":"correct horse","x":{"k":1,"k":2}}');
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/does not accept/);
    expect(t.snapshot()).toEqual(before);
  });

  it('form bodies with invalid UTF-8 after percent-decoding are refused (never turned into U+FFFD)', async () => {
    const before = t.snapshot();
    const res = await post('/generate', 'secret=x&passphrase=%E4%E4%E4%E4%E4%E4%E4%E4', 'application/x-www-form-urlencoded');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
    expect(t.snapshot()).toEqual(before);
    // Valid multi-byte escapes still decode.
    const ok = await post('/generate', 'secret=%E2%82%AC+euro&passphrase=p%C3%A4ssphrase', 'application/x-www-form-urlencoded');
    expect(ok.status).toBe(201);
    const key = ((await ok.json()) as { secret_key: string }).secret_key;
    const read = await post('/reveal', JSON.stringify({ secret_key: key, passphrase: 'pässphrase' }));
    expect(await read.json()).toEqual({ secret: '€ euro' });
  });

  it('GET /limits tells a page the server bounds', async () => {
    const res = await fetch(`${t.url}/limits`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as Record<string, number>;
    expect(body).toMatchObject({ min_ttl: 60, passphrase_min_chars: 8, passphrase_max_chars: 256, max_attempts: 5 });
    expect(body['max_ttl']).toBeGreaterThan(body['min_ttl']!);
  });

  it('POST /reveal takes the key in the body with the path form semantics', async () => {
    const key = await created();
    const wrong = await post('/reveal', JSON.stringify({ secret_key: key, passphrase: 'wrong passphrase' }));
    expect(wrong.status).toBe(401);
    const missing = await post('/reveal', JSON.stringify({ passphrase: 'correct horse' }));
    expect(missing.status).toBe(400);
    const right = await post('/reveal', JSON.stringify({ secret_key: key, passphrase: 'correct horse' }));
    expect(await right.json()).toEqual({ secret: 's3cret-value' });
    const again = await post('/reveal', JSON.stringify({ secret_key: key, passphrase: 'correct horse' }));
    expect(again.status).toBe(404);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('secret_not_found');
  });
});

describe('strict form decoding', () => {
  it('two different invalid byte strings never decode to the same text', () => {
    expect(() => decodeForm('p=%E4%E4%E4%E4%E4%E4%E4%E4')).toThrow(/UTF-8/);
    expect(() => decodeForm('p=%FF%FE%F8%F9%FA%FB%FC%FD')).toThrow(/UTF-8/);
    expect(() => decodeForm('p=%zz')).toThrow(/percent-escape/);
    expect(decodeForm('a=1&b=x+y&&c&d=%C3%A9')).toEqual([
      ['a', '1'],
      ['b', 'x y'],
      ['c', ''],
      ['d', 'é'],
    ]);
  });
});

describe('rate-limit client keys', () => {
  it('counts IPv6 clients by prefix and IPv4 (also IPv4-mapped) by address', () => {
    expect(clientKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd', 64)).toBe(clientKey('2001:db8:1:2::1', 64));
    expect(clientKey('2001:db8:1:2::1', 64)).toBe('2001:db8:1:2:0:0:0:0/64');
    expect(clientKey('2001:db8:1:3::1', 64)).not.toBe(clientKey('2001:db8:1:2::1', 64));
    expect(clientKey('2001:db8:1:2::1', 128)).not.toBe(clientKey('2001:db8:1:2::2', 128));
    expect(clientKey('2001:db8:1:2ff::1', 56)).toBe(clientKey('2001:db8:1:200::1', 56));
    expect(clientKey('203.0.113.9', 64)).toBe('203.0.113.9');
    expect(clientKey('::ffff:203.0.113.9', 64)).toBe('203.0.113.9');
    expect(clientKey('fe80::1%eth0', 64)).toBe('fe80:0:0:0:0:0:0:0/64');
  });
});
