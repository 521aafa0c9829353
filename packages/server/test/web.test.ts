import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSET_CACHE_CONTROL, createWebHandler, loadWebSite, PAGE_CSP, webDistDir } from '../src/http/web.js';
import type { ApiRequest } from '../src/http/types.js';
import { createLogger } from '../src/logger.js';
import { ENGINES } from './helpers/engines.js';
import { createSecret, raw, sensitive, startTestServer, type TestServer } from './helpers/server.js';

const PASS = 'correct horse battery staple';

async function call(url: string, method: string, body?: unknown) {
  const res = await fetch(url, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await res.text();
  let json: Record<string, any> | undefined;
  try {
    json = JSON.parse(text) as Record<string, any>;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

describe.each(ENGINES)('POST /reveal, GET /limits and the web page on %s', (engine) => {
  let t: TestServer;
  const create = (secret: string) => createSecret(t.url, secret, PASS);

  beforeAll(async () => {
    sensitive.add(PASS);
    t = await startTestServer({ VANISH_ENGINE: engine, VANISH_MAX_ATTEMPTS: '3', VANISH_MAX_SECRET_BYTES: '2048', VANISH_MIN_TTL: '120' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('POST /reveal takes the key in the body and reveals exactly once', async () => {
    const key = await create('body form secret ✓');
    const first = await call(`${t.url}/reveal`, 'POST', { secret_key: key, passphrase: PASS });
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ secret: 'body form secret ✓' });
    expect(first.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    const again = await call(`${t.url}/reveal`, 'POST', { secret_key: key, passphrase: PASS });
    expect(again.status).toBe(404);
    expect(again.json!.error.code).toBe('secret_not_found');
  });

  it('a wrong passphrase answers 401 with attempts_left, down to 0 (destroyed), then the uniform 404', async () => {
    const key = await create('counted');
    for (const left of [2, 1, 0]) {
      const res = await call(`${t.url}/reveal`, 'POST', { secret_key: key, passphrase: 'wrong passphrase' });
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ error: { code: 'invalid_passphrase', message: expect.any(String), attempts_left: left } });
    }
    const gone = await call(`${t.url}/reveal`, 'POST', { secret_key: key, passphrase: PASS });
    expect(gone.status).toBe(404);
    const unknown = await call(`${t.url}/reveal`, 'POST', { secret_key: 'A'.repeat(44), passphrase: PASS });
    expect(unknown.json).toEqual(gone.json);
  });

  it('the path form carries attempts_left too', async () => {
    const key = await create('path form');
    const res = await call(`${t.url}/secrets/${key}`, 'POST', { passphrase: 'wrong passphrase' });
    expect(res.json!.error.attempts_left).toBe(2);
  });

  it('POST /reveal refuses a malformed body without echoing it', async () => {
    const missing = await call(`${t.url}/reveal`, 'POST', { passphrase: PASS });
    expect(missing.status).toBe(400);
    expect(missing.json!.error.message).toMatch(/"secret_key" is required/);
    const typed = await call(`${t.url}/reveal`, 'POST', { secret_key: 5, passphrase: PASS });
    expect(typed.status).toBe(400);
    const extra = await call(`${t.url}/reveal`, 'POST', { secret_key: 'k', passphrase: PASS, 'leak-me-123': 1 });
    expect(extra.status).toBe(400);
    expect(extra.text).not.toContain('leak-me-123');
    expect(extra.json!.error.message).toContain('allowed: secret_key, passphrase');
    const short = await call(`${t.url}/reveal`, 'POST', { secret_key: 'k', passphrase: 'short' });
    expect(short.status).toBe(400);
    const get = await call(`${t.url}/reveal`, 'GET');
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('GET /limits tells the bounds, with the API headers; HEAD answers too', async () => {
    const res = await call(`${t.url}/limits`, 'GET');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      min_ttl: 120,
      max_ttl: 30 * 86400,
      default_ttl: 7 * 86400,
      max_secret_bytes: 2048,
      max_attempts: 3,
      passphrase_min_chars: 8,
      passphrase_max_chars: 256,
    });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-request-id')).toBeTruthy();
    const head = await raw(`${t.url}/limits`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('serves the two pages with the page CSP, no-store and no-referrer', async () => {
    for (const path of ['/', '/s']) {
      const res = await call(`${t.url}${path}`, 'GET');
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toBe(PAGE_CSP);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.text).toContain('<noscript>');
      expect(res.text).not.toMatch(/<script(?![^>]*src=)[^>]*>|<style|\sstyle=/);
    }
    expect(PAGE_CSP).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    const head = await raw(`${t.url}/s`, { method: 'HEAD' });
    expect([head.status, head.body]).toEqual([200, '']);
  });

  it('serves every hashed asset the pages name as immutable, and 404s unknown ones as JSON', async () => {
    const html = (await call(`${t.url}/`, 'GET')).text + (await call(`${t.url}/s`, 'GET')).text;
    const assets = [...new Set([...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!))];
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const asset of assets) {
      const res = await call(`${t.url}${asset}`, 'GET');
      expect(res.status, asset).toBe(200);
      expect(res.headers.get('cache-control')).toBe(ASSET_CACHE_CONTROL);
      expect(res.headers.get('pragma')).toBeNull();
      expect(res.headers.get('content-type')).toMatch(/^(text\/javascript|text\/css|image\/svg\+xml)/);
    }
    const missing = await call(`${t.url}/assets/nope-123.js`, 'GET');
    expect(missing.status).toBe(404);
    expect(missing.json!.error.code).toBe('not_found');
    const post = await call(`${t.url}/`, 'POST', {});
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('VANISH_WEB=false and a missing build', () => {
  it('VANISH_WEB=false leaves / as the API 404', async () => {
    const t = await startTestServer({ VANISH_WEB: 'false', VANISH_STORE: 'memory' });
    try {
      const res = await call(`${t.url}/`, 'GET');
      expect(res.status).toBe(404);
      expect(res.json!.error.code).toBe('not_found');
      expect((await call(`${t.url}/limits`, 'GET')).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('without a build the pages answer a JSON 404 that says how to build them, and the server warns', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (l: string) => void lines.push(l) });
    const empty = mkdtempSync(join(tmpdir(), 'vanish-web-'));
    try {
      expect(loadWebSite(empty)).toBeUndefined();
      expect(loadWebSite(join(empty, 'absent'))).toBeUndefined();
      const handle = createWebHandler(loadWebSite(empty), logger);
      expect(lines.join('')).toContain('not built');
      const req = (path: string): ApiRequest => ({
        method: 'GET',
        path,
        query: '',
        header: () => undefined,
        body: () => {
          throw new Error('no body');
        },
        remoteAddress: '127.0.0.1',
      });
      const reply = handle(req('/'))!;
      expect(reply.status).toBe(404);
      expect(JSON.parse(String(reply.body)).error.message).toContain('npm run build');
      expect(handle(req('/assets/x.js'))).toBeUndefined();
      expect(handle(req('/generate'))).toBeUndefined();
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('reads a build into memory, skipping files of other types', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vanish-web-'));
    try {
      mkdirSync(join(dir, 's'));
      mkdirSync(join(dir, 'assets'));
      writeFileSync(join(dir, 'index.html'), '<p>send</p>');
      writeFileSync(join(dir, 's', 'index.html'), '<p>read</p>');
      writeFileSync(join(dir, 'assets', 'a-1.js'), 'x()');
      writeFileSync(join(dir, 'assets', 'b-2.bin'), 'skip');
      writeFileSync(join(dir, 'stray.txt'), 'not an asset');
      const site = loadWebSite(dir)!;
      expect([...site.pages.keys()].sort()).toEqual(['/', '/s']);
      expect([...site.assets.keys()]).toEqual(['/assets/a-1.js']);
      expect(webDistDir()).toMatch(/packages[/\\]web[/\\]dist$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
