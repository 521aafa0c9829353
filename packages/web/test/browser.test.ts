/**
 * The web page in a real browser: Debian's Chromium driven by playwright-core, against a real
 * `vanish serve` child process on loopback (memory store, insecure test KDF).
 *
 * Skips — loudly — only when /usr/bin/chromium is missing and CI is not set; in CI it fails.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, stopCli, type Child } from '@vanish/testkit/cli';
import { NOT_FOUND_SENTENCE } from '../src/lib/messages.js';

const CHROMIUM = '/usr/bin/chromium';
/** Screenshots land here (git-ignored). */
const SCREENSHOTS = fileURLToPath(new URL('../test-results/screenshots/', import.meta.url));
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const PASSPHRASE_SHAPE = /^[a-km-zA-HJ-NP-Z2-9]{4}(-[a-km-zA-HJ-NP-Z2-9]{4}){4}$/;
const SECRET = 'db host: db.internal\npassword: hunter2 ✓';

/** `expect.poll` with room for a loaded machine (its default gives up after 1 s). */
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000, interval: 50 });

const missing = !existsSync(CHROMIUM);
if (missing && !process.env['CI']) {
  console.warn(
    `\n${'!'.repeat(100)}\n!!! SKIPPED the web page browser tests: ${CHROMIUM} is missing. Install it with "apt-get install -y chromium".\n${'!'.repeat(100)}\n`,
  );
}

/** What every context saw: requests, console errors, CSP violations, requests that tried to leave. */
interface Watch {
  requests: { method: string; url: string; referer: string | undefined }[];
  consoleErrors: string[];
  cspViolations: string[];
  offOrigin: string[];
}

describe.skipIf(missing && !process.env['CI'])('the web page in Chromium', { timeout: 120_000 }, () => {
  let child: Child;
  let origin: string;
  let browser: Browser;
  const watches: Watch[] = [];
  /** every secret key and passphrase a test used */
  const sensitive = new Set<string>();

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    child = await startCli({
      VANISH_STORE: 'memory',
      VANISH_KDF: 'insecure-test',
      VANISH_ALLOW_INSECURE_KDF: 'true',
      VANISH_MAX_ATTEMPTS: '3',
      VANISH_RATE_LIMIT: '0',
      VANISH_MIN_TTL: '300',
      VANISH_MAX_TTL: String(14 * 86400),
    });
    origin = `http://127.0.0.1:${child.port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (child && child.proc.exitCode !== null)
      console.error(`the server exited early (${child.proc.exitCode}):\n${child.out().slice(-3000)}`);
    if (child) await stopCli(child);
  });

  /** A fresh browser context (no shared storage) whose traffic and console are recorded. */
  async function context(options: { colorScheme?: 'light' | 'dark'; width?: number; clipboard?: boolean; server?: string } = {}) {
    const origin = options.server ?? serverOrigin();
    const ctx: BrowserContext = await browser.newContext({
      colorScheme: options.colorScheme ?? 'light',
      viewport: { width: options.width ?? 1280, height: options.width && options.width < 500 ? 844 : 900 },
      ...(options.width && options.width < 500 ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
    });
    if (options.clipboard) await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    const watch: Watch = { requests: [], consoleErrors: [], cspViolations: [], offOrigin: [] };
    watches.push(watch);
    // Anything aimed elsewhere is recorded and refused: the closed network must not decide the outcome.
    await ctx.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin !== origin) {
        watch.offOrigin.push(url);
        return route.abort();
      }
      return route.continue();
    });
    await ctx.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`csp-violation: ${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    ctx.on('request', (req) => watch.requests.push({ method: req.method(), url: req.url(), referer: req.headers()['referer'] }));
    ctx.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const text = msg.text();
      if (text.startsWith('csp-violation:') || /Content Security Policy/.test(text)) watch.cspViolations.push(text);
      // Chromium logs every non-2xx fetch; the API's 401/404 answers are the flow under test.
      else if (!/^Failed to load resource: the server responded with a status of (401|404|429|503)/.test(text))
        watch.consoleErrors.push(text);
    });
    ctx.on('weberror', (err) => watch.consoleErrors.push(`page error: ${err.error().message}`));
    return { ctx, watch };
  }

  const serverOrigin = () => origin;
  const shot = (page: Page, name: string) => page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });
  const activeId = (page: Page) => page.evaluate(() => document.activeElement?.id ?? '');
  const clipboard = (page: Page) => page.evaluate(() => navigator.clipboard.readText());

  async function openSend(page: Page): Promise<void> {
    const res = await page.goto(`${origin}/`);
    expect(res!.headers()['content-security-policy']).toContain("script-src 'self'");
    await poll(() => page.locator('#create').isDisabled()).toBe(false);
  }

  /** Creates a secret through the page; returns the link and the passphrase. */
  async function createThroughPage(page: Page, secret: string, passphrase?: string) {
    await openSend(page);
    await page.fill('#secret', secret);
    if (passphrase) await page.fill('#passphrase', passphrase);
    else await page.click('#generate');
    const used = await page.inputValue('#passphrase');
    await page.click('#create');
    await poll(() => page.locator('#result').isVisible()).toBe(true);
    const link = await page.inputValue('#link');
    sensitive.add(used);
    sensitive.add(link.split('#')[1]!);
    return { link, passphrase: used };
  }

  it('create → fresh context → wrong passphrase (tries left) → right one → secret → reload → not found', async () => {
    const { ctx: sender } = await context({ clipboard: true });
    const page = await sender.newPage();
    await openSend(page);

    // The lifetimes lie within the server's bounds (5 min … 14 days), its default preselected.
    const options = await page.$$eval('#ttl option', (os) =>
      os.map((o) => [(o as HTMLOptionElement).value, o.textContent, (o as HTMLOptionElement).selected]),
    );
    expect(options).toEqual([
      ['300', '5 minutes', false],
      ['3600', '1 hour', false],
      ['86400', '1 day', false],
      ['259200', '3 days', false],
      ['604800', '7 days', true],
      ['1209600', '14 days', false],
    ]);

    await page.fill('#secret', SECRET);
    expect(await page.textContent('#secret-count')).toBe(`${[...SECRET].length} characters · ${Buffer.byteLength(SECRET)} of 65,536 bytes`);
    await page.click('#generate');
    const first = await page.inputValue('#passphrase');
    expect(first).toMatch(PASSPHRASE_SHAPE);
    await page.click('#generate');
    const passphrase = await page.inputValue('#passphrase');
    expect(passphrase).toMatch(PASSPHRASE_SHAPE);
    expect(passphrase).not.toBe(first);
    sensitive.add(passphrase);
    await page.selectOption('#ttl', '3600');
    const before = Date.now();
    await page.click('#create');
    await poll(() => page.locator('#result').isVisible()).toBe(true);
    expect(await activeId(page)).toBe('result');
    expect(await page.locator('#send-form').isVisible()).toBe(false);

    const link = await page.inputValue('#link');
    expect(link).toMatch(new RegExp(`^${origin}/s#[A-Za-z0-9_-]{44}$`));
    const key = link.split('#')[1]!;
    sensitive.add(key);
    const expires = await page.getAttribute('#expires', 'datetime');
    expect(Math.abs(Date.parse(expires!) - (before + 3600_000))).toBeLessThan(30_000);
    expect(await page.textContent('#expires')).toMatch(/\(in 1 hour\)$/);
    expect(await page.textContent('#result .important')).toMatch(/Send the passphrase by another channel than the link/);

    await page.click('#copy-link');
    await poll(() => page.textContent('#copy-status')).toBe('Link copied.');
    expect(await clipboard(page)).toBe(link);
    await page.click('#copy-passphrase');
    await poll(() => page.textContent('#copy-status')).toBe('Passphrase copied.');
    expect(await clipboard(page)).toBe(passphrase);

    // The recipient: a fresh context, nothing shared with the sender's.
    const { ctx: recipient, watch } = await context({ clipboard: true });
    const reader = await recipient.newPage();
    const res = await reader.goto(link);
    expect(res!.status()).toBe(200);
    expect(res!.headers()['cache-control']).toBe('no-store');
    expect(res!.headers()['referrer-policy']).toBe('no-referrer');
    await poll(() => reader.locator('#reveal').isDisabled()).toBe(false);
    expect(await reader.textContent('h1')).toBe('A secret was shared with you');
    expect(await reader.textContent('.lead')).toMatch(/It can be read once/);
    // Opening the link fetched the page and its assets, nothing from the API.
    expect(watch.requests.filter((r) => !/^\/(s|assets\/.+)$/.test(new URL(r.url).pathname))).toEqual([]);

    await reader.fill('#passphrase', 'wrong passphrase');
    await reader.click('#reveal');
    await poll(() => reader.textContent('#reveal-error')).toBe('Wrong passphrase. 2 tries left before the secret is destroyed.');
    expect(await activeId(reader)).toBe('passphrase');

    await reader.fill('#passphrase', passphrase);
    await reader.click('#reveal');
    await poll(() => reader.locator('#secret-view').isVisible()).toBe(true);
    expect(await reader.inputValue('#secret')).toBe(SECRET);
    expect(await reader.getAttribute('#secret', 'readonly')).not.toBeNull();
    expect(await activeId(reader)).toBe('secret-view');
    expect(await reader.textContent('#secret-view .important')).toMatch(/now destroyed on the server/);
    await reader.click('#copy-secret');
    await poll(() => reader.textContent('#copy-status')).toBe('Secret copied.');
    expect(await clipboard(reader)).toBe(SECRET);
    // The key went to the API in a POST body, never in a URL.
    const reveals = watch.requests.filter((r) => new URL(r.url).pathname === '/reveal');
    expect(reveals.map((r) => r.method)).toEqual(['POST', 'POST']);

    await reader.reload();
    await poll(() => reader.locator('#reveal').isDisabled()).toBe(false);
    await reader.fill('#passphrase', passphrase);
    await reader.click('#reveal');
    await poll(() => reader.locator('#ended').isVisible()).toBe(true);
    expect(await reader.textContent('#ended-text')).toBe(NOT_FOUND_SENTENCE);
    expect(await activeId(reader)).toBe('ended');
    await sender.close();
    await recipient.close();
  });

  it('the last wrong try says the secret is destroyed; Hide and pagehide clear the secret from the page', async () => {
    const { ctx } = await context();
    const page = await ctx.newPage();
    const doomed = await createThroughPage(page, 'doomed secret');
    let reader = await ctx.newPage();
    await reader.goto(doomed.link);
    for (const expected of ['2 tries left', '1 try left']) {
      await reader.fill('#passphrase', 'wrong passphrase');
      await reader.click('#reveal');
      await poll(() => reader.textContent('#reveal-error')).toContain(expected);
    }
    await reader.fill('#passphrase', 'wrong passphrase');
    await reader.click('#reveal');
    await poll(() => reader.locator('#ended').isVisible()).toBe(true);
    expect(await reader.textContent('#ended-text')).toMatch(/last try: the secret is now destroyed/);
    expect(await reader.locator('#reveal-form').isVisible()).toBe(false);

    const kept = await createThroughPage(await ctx.newPage(), 'hide me please');
    reader = await ctx.newPage();
    await reader.goto(kept.link);
    await reader.fill('#passphrase', kept.passphrase);
    await reader.press('#passphrase', 'Enter');
    await poll(() => reader.inputValue('#secret')).toBe('hide me please');
    await reader.click('#hide');
    await poll(() => reader.locator('#ended').isVisible()).toBe(true);
    expect(await reader.inputValue('#secret')).toBe('');
    expect(await reader.content()).not.toContain('hide me please');

    const third = await createThroughPage(await ctx.newPage(), 'gone on pagehide');
    reader = await ctx.newPage();
    await reader.goto(third.link);
    await reader.fill('#passphrase', third.passphrase);
    await reader.click('#reveal');
    await poll(() => reader.inputValue('#secret')).toBe('gone on pagehide');
    await reader.evaluate(() => dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false })));
    expect(await reader.inputValue('#secret')).toBe('');
    expect(await reader.content()).not.toContain('gone on pagehide');

    // A link without its key: said at once, nothing sent.
    await reader.goto(`${origin}/s`);
    await poll(() => reader.textContent('#ended-text')).toMatch(/the secret key after "#" is missing/);
    // A key pasted into the same tab changes only the fragment: the page starts over with it.
    await reader.evaluate(() => (location.hash = 'A'.repeat(44)));
    await poll(() => reader.locator('#reveal').isEnabled()).toBe(true);
    expect(await reader.locator('#ended').isVisible()).toBe(false);
    await ctx.close();
  });

  it('the whole flow with the keyboard alone', async () => {
    const { ctx } = await context({ clipboard: true });
    const page = await ctx.newPage();
    await openSend(page);
    await page.keyboard.press('Tab');
    expect(await activeId(page)).toBe('secret');
    await page.keyboard.type('typed by keyboard');
    await page.keyboard.press('Tab');
    expect(await activeId(page)).toBe('passphrase');
    await page.keyboard.press('Tab');
    expect(await activeId(page)).toBe('generate');
    await page.keyboard.press('Enter');
    expect(await activeId(page)).toBe('passphrase');
    const passphrase = await page.inputValue('#passphrase');
    expect(passphrase).toMatch(PASSPHRASE_SHAPE);
    sensitive.add(passphrase);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await activeId(page)).toBe('ttl');
    await page.keyboard.press('ArrowUp');
    expect(await page.inputValue('#ttl')).toBe('259200');
    await page.keyboard.press('Tab');
    expect(await activeId(page)).toBe('create');
    await page.keyboard.press('Enter');
    await poll(() => activeId(page)).toBe('result');
    expect(await page.textContent('#expires')).toMatch(/\(in 3 days\)$/);
    await page.keyboard.press('Tab');
    expect(await activeId(page)).toBe('link');
    await page.keyboard.press('Tab');
    expect(await activeId(page)).toBe('copy-link');
    await page.keyboard.press('Space');
    await poll(() => page.textContent('#copy-status')).toBe('Link copied.');
    const link = await clipboard(page);
    expect(link).toBe(await page.inputValue('#link'));
    sensitive.add(link.split('#')[1]!);

    const reader = await ctx.newPage();
    await reader.goto(link);
    await poll(() => reader.locator('#reveal').isDisabled()).toBe(false);
    await reader.keyboard.press('Tab');
    expect(await activeId(reader)).toBe('passphrase');
    await reader.keyboard.type(passphrase);
    await reader.keyboard.press('Enter');
    await poll(() => activeId(reader)).toBe('secret-view');
    expect(await reader.inputValue('#secret')).toBe('typed by keyboard');
    await reader.keyboard.press('Tab');
    expect(await activeId(reader)).toBe('secret');
    await reader.keyboard.press('Tab');
    expect(await activeId(reader)).toBe('copy-secret');
    await reader.keyboard.press('Enter');
    await poll(() => reader.textContent('#copy-status')).toBe('Secret copied.');
    expect(await clipboard(reader)).toBe('typed by keyboard');
    await reader.keyboard.press('Tab');
    expect(await activeId(reader)).toBe('hide');
    await reader.keyboard.press('Enter');
    await poll(() => activeId(reader)).toBe('ended');
    expect(await reader.inputValue('#secret')).toBe('');
    await ctx.close();
  });

  it('429, 503 and an oversized secret read as sentences, never JSON', async () => {
    const limited = await startCli({
      VANISH_STORE: 'memory',
      VANISH_KDF: 'insecure-test',
      VANISH_ALLOW_INSECURE_KDF: 'true',
      VANISH_RATE_LIMIT: '2',
      VANISH_MAX_SECRET_BYTES: '16',
    });
    const down = await startCli({
      VANISH_STORE: 'redis',
      REDIS_URL: 'redis://127.0.0.1:1',
      VANISH_STORE_TIMEOUT_MS: '300',
      VANISH_KDF: 'insecure-test',
      VANISH_ALLOW_INSECURE_KDF: 'true',
    });
    try {
      const limitedOrigin = `http://127.0.0.1:${limited.port}`;
      const { ctx } = await context({ server: limitedOrigin });
      const page = await ctx.newPage();
      await page.goto(`${limitedOrigin}/`);
      await poll(() => page.locator('#create').isDisabled()).toBe(false);
      await page.fill('#secret', 'more than sixteen bytes');
      expect(await page.textContent('#secret-count')).toBe('23 characters · 23 of 16 bytes — too large by 7 bytes');
      await page.click('#generate');
      await page.click('#create');
      await poll(() => page.textContent('#send-error')).toBe('The secret is too large: at most 16 bytes.');
      expect(await activeId(page)).toBe('secret');
      // Two reveals use up the budget of 2 per minute; the third is a 429.
      await page.goto(`${limitedOrigin}/s#${'A'.repeat(44)}`);
      await poll(() => page.locator('#reveal').isDisabled()).toBe(false);
      for (let i = 0; i < 2; i++) {
        await page.fill('#passphrase', 'any passphrase');
        await page.click('#reveal');
        await poll(() => page.locator('#ended').isVisible()).toBe(true);
        await page.reload();
      }
      await page.fill('#passphrase', 'any passphrase');
      await page.click('#reveal');
      await poll(() => page.textContent('#reveal-error')).toMatch(
        /^Too many attempts from your network\. Wait \d+ (seconds?|minute), then try again\.$/,
      );
      await shot(page, 'reveal-rate-limited-light-1280');
      await ctx.close();

      const downOrigin = `http://127.0.0.1:${down.port}`;
      const { ctx: ctx2 } = await context({ server: downOrigin });
      const send = await ctx2.newPage();
      await send.goto(`${downOrigin}/`);
      await poll(() => send.locator('#create').isDisabled()).toBe(false);
      await send.fill('#secret', 'x');
      await send.click('#generate');
      await send.click('#create');
      await poll(() => send.textContent('#send-error')).toBe(
        'The service is busy or briefly unavailable. Nothing was changed; try again in a moment.',
      );
      expect(await send.textContent('body')).not.toContain('{"error"');
      await ctx2.close();
    } finally {
      await stopCli(limited);
      await stopCli(down);
    }
  });

  it('labels, live regions and the no-JavaScript message are in place', async () => {
    const ctx = await browser.newContext({ javaScriptEnabled: false });
    for (const path of ['/', '/s']) {
      const page = await ctx.newPage();
      await page.goto(`${origin}${path}`);
      expect(await page.locator('noscript').count()).toBe(1);
      expect(await page.textContent('noscript')).toMatch(/needs JavaScript/);
      // Without JavaScript the form cannot be submitted (its fieldset stays disabled).
      expect(await page.getAttribute('fieldset', 'disabled')).not.toBeNull();
      expect(await page.locator('button[type="submit"]').isDisabled()).toBe(true);
      const unlabeled = await page.$$eval('input, textarea, select', (els) =>
        els.filter((el) => !document.querySelector(`label[for="${el.id}"]`)).map((el) => el.id),
      );
      expect(unlabeled).toEqual([]);
      expect(await page.getAttribute('[role="alert"]', 'aria-live')).toBe('assertive');
      expect(await page.locator('html').getAttribute('lang')).toBe('en');
    }
    await ctx.close();
  });

  it('screenshots of each page, light and dark, desktop and phone', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      for (const width of [1280, 390]) {
        const tag = `${colorScheme}-${width}`;
        const { ctx } = await context({ colorScheme, width });
        const page = await ctx.newPage();
        await openSend(page);
        await page.fill('#secret', 'The staging database password is\nhunter2-but-longer');
        await page.click('#generate');
        await shot(page, `send-${tag}`);
        const passphrase = await page.inputValue('#passphrase');
        sensitive.add(passphrase);
        await page.click('#create');
        await poll(() => page.locator('#result').isVisible()).toBe(true);
        await shot(page, `send-result-${tag}`);
        const link = await page.inputValue('#link');
        sensitive.add(link.split('#')[1]!);
        const reader = await ctx.newPage();
        await reader.goto(link);
        await poll(() => reader.locator('#reveal').isDisabled()).toBe(false);
        await shot(reader, `reveal-${tag}`);
        await reader.fill('#passphrase', 'wrong passphrase');
        await reader.click('#reveal');
        await poll(() => reader.textContent('#reveal-error')).toContain('tries left');
        await shot(reader, `reveal-wrong-${tag}`);
        await reader.fill('#passphrase', passphrase);
        await reader.click('#reveal');
        await poll(() => reader.locator('#secret-view').isVisible()).toBe(true);
        await shot(reader, `reveal-secret-${tag}`);
        await reader.reload();
        await reader.fill('#passphrase', passphrase);
        await reader.click('#reveal');
        await poll(() => reader.locator('#ended').isVisible()).toBe(true);
        await shot(reader, `reveal-not-found-${tag}`);
        // Nothing is wider than the screen.
        expect(await reader.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
        await ctx.close();
      }
    }
  });

  it('the CSP watch works: an injected inline script is reported as a violation', async () => {
    const { ctx, watch } = await context();
    watches.splice(watches.indexOf(watch), 1);
    const page = await ctx.newPage();
    await openSend(page);
    await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.injected = true';
      document.body.append(s);
    });
    await poll(() => watch.cspViolations.length).toBeGreaterThan(0);
    expect(await page.evaluate(() => (window as unknown as { injected?: boolean }).injected)).toBeUndefined();
    await ctx.close();
  });

  it('across every context: no key or passphrase in a URL or Referer, nothing off-origin, no CSP violation, no console error', () => {
    const all = watches.flatMap((w) => w.requests);
    expect(all.length).toBeGreaterThan(50);
    expect(sensitive.size).toBeGreaterThan(10);
    for (const r of all) {
      const url = new URL(r.url);
      // The fragment is not part of any request: only what goes on the wire is checked.
      const onTheWire = `${url.origin}${url.pathname}${url.search}`;
      for (const s of sensitive) expect(decodeURIComponent(onTheWire), r.url).not.toContain(s);
      expect(url.hostname).toBe('127.0.0.1');
      expect(r.referer, r.url).toBeUndefined();
    }
    for (const w of watches) {
      expect(w.offOrigin).toEqual([]);
      expect(w.cspViolations).toEqual([]);
      expect(w.consoleErrors).toEqual([]);
    }
  });
});
