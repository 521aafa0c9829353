import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from './helpers/engines.js';
import { allLogLines, raw, sensitive, startTestServer, type TestServer } from './helpers/server.js';

const PASS = 'correct horse battery staple';

async function call(url: string, method: string, body?: unknown, contentType = 'application/json') {
  const init: RequestInit = { method, headers: {} };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = contentType;
  }
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

/** Writes a request by hand (for what no HTTP client will send) and returns everything the server wrote. */
function rawSocket(url: string, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const { port, hostname } = new URL(url);
    const socket = connect(Number(port), hostname, () => socket.end(request));
    let data = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
    socket.on('data', (d) => (data += d));
    socket.on('end', () => resolve(data));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
}

describe.each(ENGINES)('HTTP API on %s', (engine) => {
  let t: TestServer;
  let now = Date.UTC(2030, 0, 1);

  const create = async (secret = `secret ${Math.random()}`, extra: Record<string, unknown> = {}) => {
    sensitive.add(secret);
    const res = await call(`${t.url}/generate`, 'POST', { secret, passphrase: PASS, ...extra });
    expect(res.status).toBe(201);
    sensitive.add(res.json!.secret_key);
    return { secretKey: res.json!.secret_key as string, secret, res };
  };
  const reveal = (key: string, passphrase: unknown = PASS) => call(`${t.url}/secrets/${key}`, 'POST', { passphrase });

  beforeAll(async () => {
    sensitive.add(PASS);
    t = await startTestServer({ VANISH_ENGINE: engine, VANISH_MAX_ATTEMPTS: '3', VANISH_MAX_SECRET_BYTES: '1024' }, { clock: () => now });
    expect(t.server.engine).toBe(engine);
  });
  afterAll(async () => {
    await t.close();
  });

  describe('create and reveal', () => {
    it('POST /generate answers 201 with the key, expiry and effective TTL', async () => {
      const res = await call(`${t.url}/generate`, 'POST', { secret: 'abc', passphrase: PASS, ttl: 120 });
      expect(res.status).toBe(201);
      expect(res.json).toEqual({
        secret_key: expect.stringMatching(/^[A-Za-z0-9_-]{44}$/),
        expires_at: new Date(now + 120_000).toISOString(),
        ttl: 120,
      });
      sensitive.add(res.json!.secret_key);
      const dflt = await create();
      expect(dflt.res.json!.ttl).toBe(7 * 24 * 3600);
    });

    it('reveals exactly once, then answers 404', async () => {
      const rows = t.rowCount();
      const { secretKey, secret } = await create('launch code 0000 ✓');
      expect(t.rowCount()).toBe(rows + 1);
      const first = await reveal(secretKey);
      expect(first.status).toBe(200);
      expect(first.json).toEqual({ secret });
      expect(first.text).not.toContain(secretKey);
      expect((await reveal(secretKey)).status).toBe(404);
      expect(t.rowCount()).toBe(rows);
    });

    it('accepts application/x-www-form-urlencoded with the same fields', async () => {
      const secret = 'form secret & more=stuff';
      sensitive.add(secret);
      const form = new URLSearchParams({ secret, passphrase: PASS, ttl: '300' }).toString();
      const created = await call(`${t.url}/generate`, 'POST', form, 'application/x-www-form-urlencoded');
      expect(created.status).toBe(201);
      expect(created.json!.ttl).toBe(300);
      sensitive.add(created.json!.secret_key);
      const revealed = await call(
        `${t.url}/secrets/${created.json!.secret_key}`,
        'POST',
        new URLSearchParams({ passphrase: PASS }).toString(),
        'application/x-www-form-urlencoded; charset=UTF-8',
      );
      expect(revealed.json).toEqual({ secret });
    });

    it('a wrong passphrase is a 401 that keeps the secret; maxAttempts of them destroy it', async () => {
      const { secretKey, secret } = await create();
      const wrong = await reveal(secretKey, 'not the passphrase');
      expect(wrong.status).toBe(401);
      expect(wrong.json!.error.code).toBe('invalid_passphrase');
      expect((await reveal(secretKey)).json).toEqual({ secret });

      const doomed = await create();
      const rows = t.rowCount();
      for (let i = 0; i < 3; i++) expect((await reveal(doomed.secretKey, 'not the passphrase')).status).toBe(401);
      expect(t.rowCount()).toBe(rows - 1);
      expect((await reveal(doomed.secretKey)).status).toBe(404);
    });

    it('expires by the injected clock', async () => {
      const { secretKey } = await create(undefined, { ttl: 60 });
      now += 60_000;
      const res = await reveal(secretKey);
      expect(res.status).toBe(404);
    });
  });

  describe('one-time under concurrency', () => {
    it('50 parallel reveals, 10 rounds: exactly one 200 each round, the rest 404', async () => {
      for (let round = 0; round < 10; round++) {
        const { secretKey, secret } = await create();
        const results = await Promise.all(Array.from({ length: 50 }, () => reveal(secretKey)));
        const ok = results.filter((r) => r.status === 200);
        expect(ok).toHaveLength(1);
        expect(ok[0]!.json).toEqual({ secret });
        expect(results.filter((r) => r.status === 404)).toHaveLength(49);
      }
    });
  });

  describe('no side effects', () => {
    it('a reveal without passphrase, a GET and a HEAD change nothing', async () => {
      const { secretKey, secret } = await create();
      const before = t.snapshot();
      const attempts = [
        await call(`${t.url}/secrets/${secretKey}`, 'POST'),
        await call(`${t.url}/secrets/${secretKey}`, 'POST', {}),
        await call(`${t.url}/secrets/${secretKey}`, 'POST', '', 'application/json'),
        await call(`${t.url}/secrets/${secretKey}`, 'GET'),
        await call(`${t.url}/secrets/${secretKey}?secret-phrase=${encodeURIComponent(PASS)}`, 'GET'),
      ];
      expect(attempts.map((a) => a.status)).toEqual([400, 400, 400, 400, 400]);
      expect(attempts[0]!.json!.error.message).toMatch(/passphrase/);
      const head = await rawSocket(t.url, `HEAD /secrets/${secretKey} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(head).toMatch(/^HTTP\/1\.1 405/);
      expect(head).toMatch(/\r\n\r\n$/);
      for (const method of ['DELETE', 'PUT', 'PATCH', 'OPTIONS']) {
        const res = await call(`${t.url}/secrets/${secretKey}`, method);
        expect(res.status).toBe(405);
        expect(res.headers.get('allow')).toBe('POST');
      }
      expect(t.snapshot()).toBe(before);
      expect((await reveal(secretKey)).json).toEqual({ secret });
    });

    it('malformed, unknown, consumed, expired and burned keys get byte-identical 404s', async () => {
      const consumed = await create();
      await reveal(consumed.secretKey);
      const expired = await create(undefined, { ttl: 60 });
      const burned = await create();
      for (let i = 0; i < 3; i++) await reveal(burned.secretKey, 'not the passphrase');
      now += 61_000;
      const before = t.snapshot();
      const keys = [
        'short',
        'A'.repeat(44),
        `${consumed.secretKey.slice(0, 43)}!`,
        `B${consumed.secretKey.slice(1)}`,
        'ARERERERERERERERERERERERERERERERERERERERERER',
        consumed.secretKey,
        expired.secretKey,
        burned.secretKey,
        '',
      ];
      const responses = await Promise.all(keys.map((k) => reveal(k)));
      for (const r of responses) {
        expect(r.status).toBe(404);
        expect(r.text).toBe(responses[0]!.text);
        expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
      }
      expect(responses[0]!.json!.error.code).toBe('secret_not_found');
      expect(t.snapshot()).toBe(before);
    });
  });

  describe('bad input: the documented 4xx, the store untouched', () => {
    const cases: [string, string | Buffer, string, number, string][] = [
      ['malformed JSON', '{"secret": "x", ', 'application/json', 400, 'invalid_request'],
      ['a JSON array', '[1,2]', 'application/json', 400, 'invalid_request'],
      ['JSON null', 'null', 'application/json', 400, 'invalid_request'],
      ['a JSON string', '"secret"', 'application/json', 400, 'invalid_request'],
      ['missing secret', JSON.stringify({ passphrase: PASS }), 'application/json', 400, 'invalid_request'],
      ['missing passphrase', JSON.stringify({ secret: 'x' }), 'application/json', 400, 'invalid_request'],
      ['numeric secret', JSON.stringify({ secret: 1, passphrase: PASS }), 'application/json', 400, 'invalid_request'],
      ['numeric passphrase', JSON.stringify({ secret: 'x', passphrase: 12345678 }), 'application/json', 400, 'invalid_request'],
      ['empty secret', JSON.stringify({ secret: '', passphrase: PASS }), 'application/json', 400, 'invalid_request'],
      ['ttl 0', `{"secret":"x","passphrase":"${PASS}","ttl":0}`, 'application/json', 400, 'invalid_request'],
      ['ttl -1', `{"secret":"x","passphrase":"${PASS}","ttl":-1}`, 'application/json', 400, 'invalid_request'],
      ['ttl 1.5', `{"secret":"x","passphrase":"${PASS}","ttl":1.5}`, 'application/json', 400, 'invalid_request'],
      ['ttl "60"', `{"secret":"x","passphrase":"${PASS}","ttl":"60"}`, 'application/json', 400, 'invalid_request'],
      ['ttl 1e308', `{"secret":"x","passphrase":"${PASS}","ttl":1e308}`, 'application/json', 400, 'invalid_request'],
      ['ttl true', `{"secret":"x","passphrase":"${PASS}","ttl":true}`, 'application/json', 400, 'invalid_request'],
      ['ttl above the maximum', `{"secret":"x","passphrase":"${PASS}","ttl":2592001}`, 'application/json', 400, 'invalid_request'],
      ['ttl below the minimum', `{"secret":"x","passphrase":"${PASS}","ttl":59}`, 'application/json', 400, 'invalid_request'],
      ['a __proto__ key', `{"secret":"x","passphrase":"${PASS}","__proto__":{"admin":true}}`, 'application/json', 400, 'invalid_request'],
      ['a constructor key', `{"secret":"x","passphrase":"${PASS}","constructor":{}}`, 'application/json', 400, 'invalid_request'],
      ['an unknown field', `{"secret":"x","passphrase":"${PASS}","burn":true}`, 'application/json', 400, 'invalid_request'],
      ['a lone surrogate in the secret', `{"secret":"a\\ud800b","passphrase":"${PASS}"}`, 'application/json', 400, 'invalid_request'],
      ['a lone surrogate in the passphrase', '{"secret":"x","passphrase":"passphrase\\udfff"}', 'application/json', 400, 'invalid_request'],
      ['a 7-character passphrase', '{"secret":"x","passphrase":"1234567"}', 'application/json', 400, 'invalid_request'],
      [
        'a 257-character passphrase',
        JSON.stringify({ secret: 'x', passphrase: 'p'.repeat(257) }),
        'application/json',
        400,
        'invalid_request',
      ],
      ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'application/json', 400, 'invalid_request'],
      ['a repeated form field', `secret=a&secret=b&passphrase=${PASS}`, 'application/x-www-form-urlencoded', 400, 'invalid_request'],
      [
        'a form TTL that is not a number',
        `secret=a&passphrase=${PASS}&ttl=sixty`,
        'application/x-www-form-urlencoded',
        400,
        'invalid_request',
      ],
      ['text/plain', 'secret', 'text/plain', 415, 'unsupported_media_type'],
      [
        'a latin-1 charset',
        JSON.stringify({ secret: 'x', passphrase: PASS }),
        'application/json; charset=iso-8859-1',
        415,
        'unsupported_media_type',
      ],
      [
        'a secret over the byte limit',
        JSON.stringify({ secret: 'é'.repeat(513), passphrase: PASS }),
        'application/json',
        413,
        'payload_too_large',
      ],
    ];

    it.each(cases)('%s', async (_name, body, type, status, code) => {
      const before = t.snapshot();
      const res = await raw(`${t.url}/generate`, { headers: { 'content-type': type }, body });
      expect(res.status).toBe(status);
      const json = JSON.parse(res.body) as { error: { code: string; message: string } };
      expect(json.error.code).toBe(code);
      expect(json.error.message).toMatch(/^[A-Z"].{10,}[.]$/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(t.snapshot()).toBe(before);
    });

    it('accepts a secret of exactly the byte limit even when every character is \\u-escaped', async () => {
      const secret = '\u00e9'.repeat(512); // 1024 UTF-8 bytes
      sensitive.add(secret);
      const body = JSON.stringify({ secret, passphrase: PASS }).replace(/\u00e9/g, '\\u00e9');
      expect(body.length).toBeGreaterThan(3000);
      const res = await raw(`${t.url}/generate`, { headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBe(201);
      const key = JSON.parse(res.body).secret_key as string;
      sensitive.add(key);
      expect((await reveal(key)).json).toEqual({ secret });
    });

    it('refuses a body whose Content-Length is over the limit', async () => {
      const before = t.snapshot();
      const res = await raw(`${t.url}/generate`, {
        headers: { 'content-type': 'application/json' },
        body: Buffer.alloc(2 * 1024 * 1024, 0x61),
      });
      expect(res.status).toBe(413);
      expect(JSON.parse(res.body).error.code).toBe('payload_too_large');
      expect(t.snapshot()).toBe(before);
    });

    it('abandons a chunked body at the limit', async () => {
      const before = t.snapshot();
      const chunk = Buffer.alloc(4096, 0x61);
      const res = await raw(`${t.url}/generate`, {
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        chunks: [Buffer.from('{"secret":"'), ...Array.from({ length: 8 }, () => chunk)],
      });
      expect(res.status).toBe(413);
      expect(t.snapshot()).toBe(before);
    });

    it('accepts a chunked body under the limit', async () => {
      const secret = 'chunked secret';
      sensitive.add(secret);
      const body = Buffer.from(JSON.stringify({ secret, passphrase: PASS }));
      const res = await raw(`${t.url}/generate`, {
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        chunks: [body.subarray(0, 10), body.subarray(10)],
      });
      expect(res.status).toBe(201);
      sensitive.add(JSON.parse(res.body).secret_key);
    });

    it('a malformed Content-Length never reaches the API: a JSON 400 (node) or a closed connection (uWebSockets.js)', async () => {
      const before = t.snapshot();
      const res = await rawSocket(
        t.url,
        'POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 12abc\r\nConnection: close\r\n\r\n{}',
      );
      if (engine === 'node') {
        expect(res).toMatch(/^HTTP\/1\.1 400/);
        expect(res).toContain('Cache-Control: no-store');
        expect(res).toContain('"code":"invalid_request"');
      } else {
        expect(res).toBe('');
      }
      expect(t.snapshot()).toBe(before);
    });

    it('a Transfer-Encoding other than chunked is a 400, not a hang', async () => {
      const body = JSON.stringify({ secret: 'x', passphrase: PASS });
      const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
      for (const te of ['Chunked', 'gzip, chunked']) {
        const res = await rawSocket(
          t.url,
          `POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: ${te}\r\nConnection: close\r\n\r\n${chunked}`,
        );
        expect(res).toMatch(/^HTTP\/1\.1 400/);
      }
    });

    it('error messages never repeat a field name the client sent', async () => {
      const fragment = 'w0rdFragment';
      sensitive.add(fragment);
      for (const body of [`secret=p@ss&${fragment}&passphrase=${PASS}`, `secret=a&${fragment}=1&${fragment}=2&passphrase=${PASS}`]) {
        const res = await raw(`${t.url}/generate`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
        expect(res.status).toBe(400);
        expect(res.body).not.toContain(fragment);
      }
    });

    it('a reveal with a key of the wrong length or alphabet is the uniform 404 and changes nothing', async () => {
      await create();
      const before = t.snapshot();
      for (const key of ['x'.repeat(43), 'x'.repeat(45), '*'.repeat(44), 'ARERERERERERERERERERERERERERERERERERERERERE=']) {
        const res = await reveal(key);
        expect(res.status).toBe(404);
      }
      expect(t.snapshot()).toBe(before);
    });

    it('a reveal body with an unknown field or a 300-character passphrase is a 400 that counts no attempt', async () => {
      const { secretKey } = await create();
      const before = t.snapshot();
      expect((await call(`${t.url}/secrets/${secretKey}`, 'POST', { passphrase: PASS, extra: 1 })).status).toBe(400);
      expect((await reveal(secretKey, 'p'.repeat(300))).status).toBe(400);
      expect((await reveal(secretKey, 42)).status).toBe(400);
      expect(t.snapshot()).toBe(before);
    });
  });

  describe('headers and operations', () => {
    it('every response carries the no-store headers and a UUIDv7 request id, and no ETag', async () => {
      const { secretKey } = await create();
      const responses = [
        await call(`${t.url}/healthz`, 'GET'),
        await call(`${t.url}/readyz`, 'GET'),
        await call(`${t.url}/generate`, 'POST', { secret: 'x' }),
        await reveal(secretKey, 'wrong passphrase'),
        await reveal(secretKey),
        await reveal(secretKey),
        await call(`${t.url}/nope`, 'GET'),
        await call(`${t.url}/generate`, 'PUT'),
      ];
      const ids = new Set<string>();
      for (const r of responses) {
        expect(r.headers.get('cache-control')).toBe('no-store');
        expect(r.headers.get('referrer-policy')).toBe('no-referrer');
        expect(r.headers.get('x-content-type-options')).toBe('nosniff');
        expect(r.headers.get('etag')).toBeNull();
        const id = r.headers.get('x-request-id')!;
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        ids.add(id);
        expect(r.text).not.toContain(secretKey);
      }
      expect(ids.size).toBe(responses.length);
      expect(responses.map((r) => r.status)).toEqual([200, 200, 400, 401, 200, 404, 404, 405]);
      expect(responses[6]!.json!.error.code).toBe('not_found');
      expect(responses[7]!.json!.error.code).toBe('method_not_allowed');
      expect(responses[7]!.headers.get('allow')).toBe('POST');
    });

    it('HEAD on the probes answers without a body', async () => {
      const res = await rawSocket(t.url, 'HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      expect(res).toMatch(/^HTTP\/1\.1 200/);
      expect(res).toMatch(/cache-control: no-store/i);
      expect(res).toMatch(/\r\n\r\n$/);
    });

    it('the legacy query API is off by default and says how to use POST or turn it on', async () => {
      const before = t.snapshot();
      const res = await call(`${t.url}/generate?text=hello&secret-phrase=${encodeURIComponent(PASS)}`, 'GET');
      expect(res.status).toBe(400);
      expect(res.json!.error.message).toContain('POST /generate');
      expect(res.json!.error.message).toContain('VANISH_LEGACY_QUERY_API=true');
      expect(t.snapshot()).toBe(before);
    });

    it('logs one line per request with the route template, never the path', async () => {
      const { secretKey } = await create();
      await reveal(secretKey);
      const lines = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
      const revealLine = lines.filter((l) => l.msg === 'request' && l.route === '/secrets/{secret_key}').at(-1)!;
      expect(revealLine).toMatchObject({ method: 'POST', status: 200 });
      expect(revealLine.requestId).toMatch(/^[0-9a-f-]{36}$/);
      const stray = await create();
      for (const path of [`//secrets/${stray.secretKey}`, `/api/secrets/${stray.secretKey}`]) {
        expect((await raw(`${t.url}${path}`, { headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404);
      }
      expect(t.logs.join('\n')).not.toContain(stray.secretKey);
      expect(t.logs.at(-1)).toContain('"route":"[unmatched]"');
    });

    it('tampered KDF parameters (N=2^30) are refused before scrypt: a quick 404', async () => {
      const { secretKey } = await create();
      t.exec('UPDATE vanish_secrets SET kdf_n = 1073741824');
      const started = Date.now();
      expect((await reveal(secretKey)).status).toBe(404);
      expect(Date.now() - started).toBeLessThan(5000);
    });
  });
});

describe.each(ENGINES)('legacy query API turned on (%s)', (engine) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ VANISH_ENGINE: engine, VANISH_LEGACY_QUERY_API: 'true' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('GET /generate and GET /secrets/{key}?secret-phrase behave like the POST forms', async () => {
    const secret = 'legacy secret';
    sensitive.add(secret);
    const created = await call(
      `${t.url}/generate?text=${encodeURIComponent(secret)}&secret-phrase=${encodeURIComponent(PASS)}&ttl=120`,
      'GET',
    );
    expect(created.status).toBe(201);
    expect(created.json!.ttl).toBe(120);
    const key = created.json!.secret_key as string;
    sensitive.add(key);
    const before = t.snapshot();
    expect(await rawSocket(t.url, `HEAD /secrets/${key} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).toMatch(/^HTTP\/1\.1 405/);
    expect((await call(`${t.url}/secrets/${key}`, 'GET')).status).toBe(400);
    expect(t.snapshot()).toBe(before);
    expect((await call(`${t.url}/secrets/${key}?secret-phrase=wrong%20passphrase`, 'GET')).status).toBe(401);
    const revealed = await call(`${t.url}/secrets/${key}?secret-phrase=${encodeURIComponent(PASS)}`, 'GET');
    expect(revealed.status).toBe(200);
    expect(revealed.json).toEqual({ secret });
    expect((await call(`${t.url}/secrets/${key}?secret-phrase=${encodeURIComponent(PASS)}`, 'GET')).status).toBe(404);
  });

  it('rejects unknown or repeated query parameters and changes nothing', async () => {
    const before = t.snapshot();
    expect((await call(`${t.url}/generate?text=a&secret-phrase=${encodeURIComponent(PASS)}&x=1`, 'GET')).status).toBe(400);
    expect((await call(`${t.url}/generate?text=a&text=b&secret-phrase=${encodeURIComponent(PASS)}`, 'GET')).status).toBe(400);
    expect((await call(`${t.url}/generate?text=a&secret-phrase=${encodeURIComponent(PASS)}&__proto__=1`, 'GET')).status).toBe(400);
    expect((await call(`${t.url}/generate?secret=a&passphrase=${encodeURIComponent(PASS)}`, 'GET')).status).toBe(400);
    const wrongMethod = await call(`${t.url}/generate`, 'DELETE');
    expect(wrongMethod.headers.get('allow')).toBe('POST, GET');
    expect(t.snapshot()).toBe(before);
  });
});

describe.each(ENGINES)('rate limit (%s)', (engine) => {
  const send = (url: string, forwardedFor?: string) =>
    raw(`${url}/generate`, {
      headers: { 'content-type': 'application/json', ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
      body: JSON.stringify({ secret: 'rate limited secret', passphrase: PASS }),
    });

  it('answers 429 rate_limited with Retry-After past the per-client budget, and changes nothing', async () => {
    sensitive.add('rate limited secret');
    const t = await startTestServer({ VANISH_ENGINE: engine, VANISH_RATE_LIMIT: '3' });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) {
        const res = await send(t.url, `198.51.100.${i}`);
        sensitive.add(JSON.parse(res.body).secret_key);
        statuses.push(res.status);
      }
      expect(statuses).toEqual([201, 201, 201]);
      const before = t.snapshot();
      const limited = await send(t.url);
      expect(limited.status).toBe(429);
      expect(JSON.parse(limited.body).error.code).toBe('rate_limited');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(limited.headers['cache-control']).toBe('no-store');
      const reveal = await raw(`${t.url}/secrets/ARERERERERERERERERERERERERERERERERERERERERER`, {
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(reveal.status).toBe(429);
      expect((await raw(`${t.url}/healthz`, { method: 'GET' })).status).toBe(200);
      expect(t.snapshot()).toBe(before);
    } finally {
      await t.close();
    }
  });

  it('with VANISH_TRUST_PROXY, counts each client by the address the proxy appended', async () => {
    const t = await startTestServer({ VANISH_ENGINE: engine, VANISH_RATE_LIMIT: '1', VANISH_TRUST_PROXY: 'true' });
    try {
      const a = await send(t.url, '203.0.113.7, 198.51.100.1');
      const b = await send(t.url, '198.51.100.2');
      const a2 = await send(t.url, '10.0.0.1, 198.51.100.1');
      for (const r of [a, b]) sensitive.add(JSON.parse(r.body).secret_key);
      expect([a.status, b.status, a2.status]).toEqual([201, 201, 429]);
    } finally {
      await t.close();
    }
  });
});

describe('overload and outages', () => {
  it('a full KDF queue answers 503 unavailable with Retry-After, and the rest succeed', async () => {
    const t = await startTestServer({ VANISH_KDF: 'default', VANISH_KDF_CONCURRENCY: '1', VANISH_KDF_QUEUE: '0' });
    try {
      const results = await Promise.all(
        Array.from({ length: 6 }, () => call(`${t.url}/generate`, 'POST', { secret: 'busy secret', passphrase: PASS })),
      );
      sensitive.add('busy secret');
      for (const r of results) if (r.json?.secret_key) sensitive.add(r.json.secret_key);
      const busy = results.filter((r) => r.status === 503);
      expect(busy.length).toBeGreaterThan(0);
      expect(busy[0]!.json!.error.code).toBe('unavailable');
      expect(busy[0]!.headers.get('retry-after')).toBe('1');
      expect(results.filter((r) => r.status === 201).length).toBe(t.rowCount());
    } finally {
      await t.close();
    }
  });

  it('/readyz says 503 when the store is gone; /healthz stays 200; requests get 503, never a crash', async () => {
    const t = await startTestServer({ VANISH_STORE: 'memory' });
    try {
      expect((await call(`${t.url}/readyz`, 'GET')).status).toBe(200);
      await t.server.store.close();
      const ready = await call(`${t.url}/readyz`, 'GET');
      expect(ready.status).toBe(503);
      expect(ready.json!.error.code).toBe('unavailable');
      expect((await call(`${t.url}/healthz`, 'GET')).status).toBe(200);
      const created = await call(`${t.url}/generate`, 'POST', { secret: 'x', passphrase: PASS });
      expect(created.status).toBe(503);
      expect(created.text).not.toMatch(/stack|at \w+ \(/);
    } finally {
      await t.close();
    }
  });
});

describe('logs', () => {
  it('never contain a secret, a passphrase or a secret_key, at debug level, on every path a request takes', async () => {
    const t = await startTestServer({ LOG_LEVEL: 'debug', VANISH_LEGACY_QUERY_API: 'true' });
    const secret = 'log-scan secret 7c1e';
    const pass = 'log-scan passphrase 7c1e';
    try {
      const created = await call(`${t.url}/generate`, 'POST', { secret, passphrase: pass });
      const key = created.json!.secret_key as string;
      await call(`${t.url}/secrets/${key}`, 'POST', { passphrase: `${pass} wrong` });
      await call(`${t.url}/secrets/${key}?secret-phrase=${encodeURIComponent(`${pass} wrong`)}`, 'GET');
      await call(`${t.url}/reveal`, 'POST', { secret_key: key, passphrase: pass });
      await call(`${t.url}/generate?text=${encodeURIComponent(secret)}&secret-phrase=${encodeURIComponent(pass)}`, 'GET');
      await call(`${t.url}/generate`, 'POST', { secret, passphrase: pass, [secret]: 1 });
      expect(t.logs.length).toBeGreaterThanOrEqual(12);
      const output = t.logs.join('\n');
      for (const value of [secret, pass, key]) {
        expect(output).not.toContain(value);
        expect(output).not.toContain(encodeURIComponent(value));
      }
    } finally {
      await t.close();
    }
  });

  it('never contain a secret, a passphrase or a secret_key (whole in-process output of this file)', () => {
    const output = allLogLines.join('\n');
    for (const value of sensitive) {
      expect(output).not.toContain(value);
      expect(output).not.toContain(encodeURIComponent(value));
      expect(output).not.toContain(JSON.stringify(value).slice(1, -1));
    }
  });
});
