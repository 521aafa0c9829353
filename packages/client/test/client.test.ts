import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildLink,
  createVanishClient,
  EndpointNotFoundError,
  errorForCode,
  InternalServerError,
  InvalidLinkError,
  InvalidPassphraseError,
  InvalidRequestError,
  MethodNotAllowedError,
  parseLink,
  PayloadTooLargeError,
  RateLimitedError,
  SecretNotFoundError,
  UnavailableError,
  UnsupportedMediaTypeError,
  VanishApiError,
  VanishClientError,
  VanishNetworkError,
  VanishProtocolError,
  type FetchLike,
} from '@vanish/client';
import { startCli, stopCli, type Child } from '@vanish/testkit/cli';

const PASS = 'correct horse battery staple';
const TEST_ENV = { VANISH_STORE: 'memory', VANISH_KDF: 'insecure-test', VANISH_ALLOW_INSECURE_KDF: 'true' };

/** Every URL the client asked for, to prove no key or passphrase ever sits in one. */
const urls: string[] = [];
const recording: FetchLike = (input, init) => {
  urls.push(input);
  return fetch(input, init);
};

/** Every error the client threw in these tests, to prove none repeats a passphrase or a key. */
const thrown: unknown[] = [];

async function expectError<T extends Error>(promise: Promise<unknown>, type: abstract new (...args: never[]) => T): Promise<T> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  thrown.push(err);
  expect(err).toBeInstanceOf(type);
  return err as T;
}

/** A loopback HTTP server that answers every request with one fixed reply (for what a vanish server never sends). */
async function fixedServer(status: number, body: string, type = 'application/json'): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': type, 'x-request-id': 'req-1' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('@vanish/client against a real vanish server (child process)', () => {
  let child: Child;
  let baseUrl: string;
  let client: ReturnType<typeof createVanishClient>;

  beforeAll(async () => {
    child = await startCli({
      ...TEST_ENV,
      VANISH_MAX_ATTEMPTS: '2',
      VANISH_MAX_SECRET_BYTES: '64',
      VANISH_RATE_LIMIT: '0',
      VANISH_MIN_TTL: '120',
    });
    baseUrl = `http://127.0.0.1:${child.port}`;
    client = createVanishClient({ baseUrl: `${baseUrl}/`, fetch: recording });
  });
  afterAll(async () => {
    expect(await stopCli(child)).toBe(0);
  });

  it('creates and reveals once; the link carries the key in its fragment', async () => {
    const before = Date.now();
    const created = await client.createSecret({ secret: 'db password: hunter2 ✓', passphrase: PASS, ttl: 3600 });
    expect(created.secretKey).toMatch(/^[A-Za-z0-9_-]{44}$/);
    expect(created.ttl).toBe(3600);
    expect(created.expiresAt).toBeInstanceOf(Date);
    expect(created.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 3600_000 - 1000);
    expect(created.link).toBe(`${baseUrl}/s#${created.secretKey}`);
    expect(client.buildLink(created.secretKey)).toBe(created.link);
    expect(await client.revealSecret(created.link, PASS)).toBe('db password: hunter2 ✓');
    await expectError(client.revealSecret(created.secretKey, PASS), SecretNotFoundError);
  });

  it('uses the server default TTL when none is given, and reveals by bare key', async () => {
    const created = await client.createSecret({ secret: 's', passphrase: PASS });
    expect(created.ttl).toBe(7 * 86400);
    expect(await client.revealSecret(`  ${created.secretKey}\n`, PASS)).toBe('s');
  });

  it('reads the limits', async () => {
    expect(await client.getLimits()).toEqual({
      minTtl: 120,
      maxTtl: 30 * 86400,
      defaultTtl: 7 * 86400,
      maxSecretBytes: 64,
      maxAttempts: 2,
      passphraseMinChars: 8,
      passphraseMaxChars: 256,
    });
  });

  it('InvalidPassphraseError carries attemptsLeft down to 0; then SecretNotFoundError', async () => {
    const { link } = await client.createSecret({ secret: 'x', passphrase: PASS });
    const first = await expectError(client.revealSecret(link, 'wrong passphrase'), InvalidPassphraseError);
    expect([first.attemptsLeft, first.code, first.status]).toEqual([1, 'invalid_passphrase', 401]);
    expect(first.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first).toBeInstanceOf(VanishApiError);
    expect(first).toBeInstanceOf(VanishClientError);
    expect(first.name).toBe('InvalidPassphraseError');
    const last = await expectError(client.revealSecret(link, 'wrong passphrase'), InvalidPassphraseError);
    expect(last.attemptsLeft).toBe(0);
    const gone = await expectError(client.revealSecret(link, PASS), SecretNotFoundError);
    expect([gone.status, gone.code]).toEqual([404, 'secret_not_found']);
  });

  it('InvalidRequestError for a TTL out of bounds or a short passphrase', async () => {
    const ttl = await expectError(client.createSecret({ secret: 'x', passphrase: PASS, ttl: 5 }), InvalidRequestError);
    expect([ttl.status, ttl.code]).toEqual([400, 'invalid_request']);
    expect(ttl.message).toMatch(/"ttl" must be a whole number of seconds from 120/);
    await expectError(client.createSecret({ secret: 'x', passphrase: 'short' }), InvalidRequestError);
  });

  it('PayloadTooLargeError for a secret over max_secret_bytes', async () => {
    const err = await expectError(client.createSecret({ secret: 'é'.repeat(33), passphrase: PASS }), PayloadTooLargeError);
    expect(err.status).toBe(413);
  });

  it('UnsupportedMediaTypeError and MethodNotAllowedError when something between rewrites the request', async () => {
    const rewriting =
      (change: (init: RequestInit) => RequestInit): FetchLike =>
      (input, init) =>
        fetch(input, change(init));
    const textPlain = createVanishClient({ baseUrl, fetch: rewriting((init) => ({ ...init, headers: { 'content-type': 'text/plain' } })) });
    const media = await expectError(textPlain.createSecret({ secret: 'x', passphrase: PASS }), UnsupportedMediaTypeError);
    expect(media.status).toBe(415);
    const put = createVanishClient({ baseUrl, fetch: rewriting((init) => ({ ...init, method: 'PUT' })) });
    const method = await expectError(put.revealSecret('k', PASS), MethodNotAllowedError);
    expect(method.status).toBe(405);
  });

  it('EndpointNotFoundError for a wrong baseUrl path', async () => {
    const wrong = createVanishClient({ baseUrl: `${baseUrl}/not-vanish` });
    const err = await expectError(wrong.getLimits(), EndpointNotFoundError);
    expect([err.status, err.code]).toEqual([404, 'not_found']);
  });

  it('InvalidLinkError before anything is sent', async () => {
    const sent = urls.length;
    await expectError(client.revealSecret(`${baseUrl}/s`, PASS), InvalidLinkError);
    await expectError(client.revealSecret(`${baseUrl}/s#`, PASS), InvalidLinkError);
    await expectError(client.revealSecret('   ', PASS), InvalidLinkError);
    expect(urls.length).toBe(sent);
  });

  it('never put a key or a passphrase in a URL', () => {
    expect(urls.length).toBeGreaterThan(5);
    for (const url of urls) {
      expect(url).not.toContain(PASS);
      expect(url).not.toContain('wrong');
      const { pathname, search, hash } = new URL(url);
      expect(pathname).toMatch(/^\/(generate|reveal|limits)$/);
      expect([search, hash]).toEqual(['', '']);
    }
  });

  it('never put a key or a passphrase in an error it threw (message, cause, anything it prints)', () => {
    expect(thrown.length).toBeGreaterThan(5);
    for (const err of thrown) {
      const text = `${String(err)} ${JSON.stringify(err)} ${String((err as { cause?: unknown }).cause)}`;
      expect(text).not.toContain(PASS);
      expect(text).not.toContain('wrong passphrase');
      expect(text).not.toMatch(/[A-Za-z0-9_-]{44}/); // a secret_key
    }
  });
});

describe('@vanish/client: rate limits, outages, and servers that are not vanish', () => {
  it('RateLimitedError carries retryAfterSeconds from Retry-After', async () => {
    const child = await startCli({ ...TEST_ENV, VANISH_RATE_LIMIT: '2' });
    try {
      const client = createVanishClient({ baseUrl: `http://127.0.0.1:${child.port}` });
      await expectError(client.revealSecret('A'.repeat(44), PASS), SecretNotFoundError);
      await expectError(client.revealSecret('A'.repeat(44), PASS), SecretNotFoundError);
      const err = await expectError(client.revealSecret('A'.repeat(44), PASS), RateLimitedError);
      expect(err.status).toBe(429);
      expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(err.retryAfterSeconds).toBeLessThanOrEqual(60);
    } finally {
      await stopCli(child);
    }
  });

  it('UnavailableError (503, Retry-After) when the store is down', async () => {
    const child = await startCli({ ...TEST_ENV, VANISH_STORE: 'redis', REDIS_URL: 'redis://127.0.0.1:1', VANISH_STORE_TIMEOUT_MS: '300' });
    try {
      const client = createVanishClient({ baseUrl: `http://127.0.0.1:${child.port}` });
      const err = await expectError(client.createSecret({ secret: 'x', passphrase: PASS }), UnavailableError);
      expect([err.status, err.retryAfterSeconds]).toEqual([503, 1]);
    } finally {
      await stopCli(child);
    }
  });

  it('InternalServerError for a 500, and Retry-After as an HTTP date', async () => {
    const { url, server } = await fixedServer(500, JSON.stringify({ error: { code: 'internal', message: 'Something went wrong.' } }));
    try {
      const err = await expectError(createVanishClient({ baseUrl: url }).getLimits(), InternalServerError);
      expect([err.status, err.requestId, err.message]).toEqual([500, 'req-1', 'Something went wrong.']);
    } finally {
      server.close();
    }
    const date = new Date(Date.now() + 30_000).toUTCString();
    const fake: FetchLike = async () =>
      new Response(JSON.stringify({ error: { code: 'rate_limited', message: 'slow down' } }), {
        status: 429,
        headers: { 'retry-after': date },
      });
    const limited = await expectError(createVanishClient({ baseUrl: 'http://x.invalid', fetch: fake }).getLimits(), RateLimitedError);
    expect(limited.retryAfterSeconds).toBeGreaterThanOrEqual(28);
    const bad: FetchLike = async () =>
      new Response('{"error":{"code":"rate_limited"}}', { status: 429, headers: { 'retry-after': 'soon' } });
    const noDate = await expectError(createVanishClient({ baseUrl: 'http://x.invalid', fetch: bad }).getLimits(), RateLimitedError);
    expect([noDate.retryAfterSeconds, noDate.message]).toEqual([undefined, 'HTTP 429']);
  });

  it('an unknown code from a newer server arrives as VanishApiError with that code', () => {
    const err = errorForCode('teapot', { status: 418, requestId: undefined, message: 'short and stout' });
    expect(err.constructor).toBe(VanishApiError);
    expect([err.code, err.status]).toEqual(['teapot', 418]);
    expect(errorForCode('hasOwnProperty', { status: 400, requestId: undefined, message: 'm' }).constructor).toBe(VanishApiError);
  });

  it('VanishProtocolError for answers that are not the vanish API', async () => {
    const cases: Array<[number, string, string]> = [
      [200, '<html>hello</html>', 'text/html'],
      [200, '[1,2]', 'application/json'],
      [502, '{"message":"bad gateway"}', 'application/json'],
      [200, '{"min_ttl":"soon"}', 'application/json'],
    ];
    for (const [status, body, type] of cases) {
      const { url, server } = await fixedServer(status, body, type);
      try {
        const err = await expectError(createVanishClient({ baseUrl: url }).getLimits(), VanishProtocolError);
        expect(err.status).toBe(status);
      } finally {
        server.close();
      }
    }
    const { url, server } = await fixedServer(201, '{"secret_key":"k"}');
    try {
      await expectError(createVanishClient({ baseUrl: url }).createSecret({ secret: 'x', passphrase: PASS }), VanishProtocolError);
    } finally {
      server.close();
    }
  });

  it('VanishNetworkError when nothing listens, on abort, and on a redirect', async () => {
    const { url, server } = await fixedServer(200, '{}');
    await new Promise((resolve) => server.close(resolve));
    const refused = await expectError(createVanishClient({ baseUrl: url }).getLimits(), VanishNetworkError);
    expect(refused.message).toBe(`Could not reach the vanish server at ${url}.`);
    expect(refused.cause).toBeDefined();

    const hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
    try {
      const controller = new AbortController();
      const pending = createVanishClient({ baseUrl: hangingUrl }).getLimits({ signal: controller.signal });
      controller.abort();
      await expectError(pending, VanishNetworkError);
    } finally {
      hanging.closeAllConnections();
      hanging.close();
    }

    // A redirect would carry the passphrase elsewhere: the client refuses to follow one.
    const redirect = createServer((_req, res) => {
      res.writeHead(307, { location: 'http://127.0.0.1:1/reveal' });
      res.end();
    });
    await new Promise<void>((resolve) => redirect.listen(0, '127.0.0.1', resolve));
    try {
      const client = createVanishClient({ baseUrl: `http://127.0.0.1:${(redirect.address() as AddressInfo).port}` });
      await expectError(client.revealSecret('k', PASS), VanishNetworkError);
    } finally {
      redirect.close();
    }
  });

  it('refuses a baseUrl that is not an absolute URL', () => {
    expect(() => createVanishClient({ baseUrl: '/relative/path' })).toThrow(TypeError);
  });
});

describe('links', () => {
  it('buildLink keeps a path prefix and drops slashes, query and fragment', () => {
    expect(buildLink('https://v.example', 'KEY')).toBe('https://v.example/s#KEY');
    expect(buildLink('https://v.example/vanish/?x=1#y', 'KEY')).toBe('https://v.example/vanish/s#KEY');
    expect(buildLink(new URL('http://127.0.0.1:8000'), 'KEY')).toBe('http://127.0.0.1:8000/s#KEY');
  });

  it('parseLink takes the fragment of a link, or a bare key', () => {
    expect(parseLink('https://v.example/s#abc_DEF-123')).toBe('abc_DEF-123');
    expect(parseLink('  abc_DEF-123 ')).toBe('abc_DEF-123');
    expect(parseLink('#abc')).toBe('abc');
    expect(() => parseLink('https://v.example/s')).toThrow(InvalidLinkError);
    expect(() => parseLink('')).toThrow(/No secret key/);
  });
});

describe('the built package', () => {
  const dist = (file: string) => fileURLToPath(new URL(`../dist/${file}`, import.meta.url));
  it('loads as ESM and as CommonJS, with the same API', async () => {
    const esm = (await import(dist('index.js'))) as Record<string, unknown>;
    const cjs = createRequire(import.meta.url)(dist('index.cjs')) as Record<string, unknown>;
    for (const mod of [esm, cjs]) {
      expect(typeof mod['createVanishClient']).toBe('function');
      expect(typeof mod['InvalidPassphraseError']).toBe('function');
      expect((mod['parseLink'] as typeof parseLink)('https://h/s#k')).toBe('k');
    }
    expect(Object.keys(esm).sort()).toEqual(Object.keys(cjs).sort());
  });
});
