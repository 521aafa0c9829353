import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 20_000 });

// A minimal SecretStore in plain JavaScript for the child processes (the TypeScript
// reference store in test/helpers cannot be loaded by node itself).
const inlineStore = `
class InlineStore {
  constructor() { this.m = new Map(); }
  async create(r) { const k = r.id.toString('hex'); if (this.m.has(k)) throw new Error('dup'); this.m.set(k, { ...r, kdf: { ...r.kdf }, id: Buffer.from(r.id), salt: Buffer.from(r.salt), iv: Buffer.from(r.iv), ciphertext: Buffer.from(r.ciphertext) }); }
  async reserve(id, now) { const r = this.m.get(id.toString('hex')); if (!r || r.expiresAt <= now || r.attempts >= r.maxAttempts) return null; r.attempts++; return { ...r, kdf: { ...r.kdf } }; }
  async claim(id, iv, now) { const k = id.toString('hex'); const r = this.m.get(k); return !!r && r.expiresAt > now && r.iv.equals(iv) && this.m.delete(k); }
  async burnIfExhausted(id) { const k = id.toString('hex'); const r = this.m.get(k); return !!r && r.attempts >= r.maxAttempts && this.m.delete(k); }
  async delete(id) { return this.m.delete(id.toString('hex')); }
  async purgeExpired() { return 0; }
  async ping() {}
  async close() { this.closed = true; }
}`;

const PUBLIC_RUNTIME_EXPORTS = [
  'ConfigurationError',
  'ConflictError',
  'InvalidPassphraseError',
  'KDF_PROFILES',
  'KdfBusyError',
  'PASSPHRASE_MAX_BYTES',
  'PASSPHRASE_MAX_CHARS',
  'PASSPHRASE_MIN_CHARS',
  'PayloadTooLargeError',
  'SECRET_KEY_LENGTH',
  'SecretNotFoundError',
  'UnavailableError',
  'ValidationError',
  'Vanish',
  'VANISH_DEFAULTS',
  'VanishError',
  'parseSecretKey',
  'systemClock',
].sort();

// These run the built packages (packages/*/dist, after `npm run build`) through their
// exports maps, as an app that installs them would.
describe('published builds of @vanish/core', () => {
  it('CommonJS: require() then a real create -> reveal -> not found', () => {
    const out = run([
      '-e',
      `${inlineStore}
       const { Vanish, SecretNotFoundError } = require('@vanish/core');
       const store = new InlineStore();
       const vanish = new Vanish({ store });
       (async () => {
         const { secretKey } = await vanish.create({ secret: 'cjs works ✓', passphrase: 'correct horse battery' });
         console.log(await vanish.reveal({ secretKey, passphrase: 'correct horse battery' }));
         const again = await vanish.reveal({ secretKey, passphrase: 'correct horse battery' }).catch((e) => e);
         console.log(again instanceof SecretNotFoundError, store.m.size);
       })().catch((e) => { console.error(e); process.exit(1); });`,
    ]);
    expect(out).toBe('cjs works ✓\ntrue 0\n');
  });

  it('ESM: import() then a real create -> reveal', () => {
    const out = run([
      '--input-type=module',
      '-e',
      `${inlineStore}
       const { Vanish } = await import('@vanish/core');
       const vanish = new Vanish({ store: new InlineStore() });
       const { secretKey } = await vanish.create({ secret: 'esm works', passphrase: 'correct horse battery' });
       console.log(await vanish.reveal({ secretKey, passphrase: 'correct horse battery' }));`,
    ]);
    expect(out).toBe('esm works\n');
  });

  it('the public entry exports only the embedder/adapter surface; building blocks are in /internal', () => {
    const out = run([
      '-e',
      `const pub = Object.keys(require('@vanish/core')).sort(); const int = require('@vanish/core/internal');
       console.log(JSON.stringify(pub)); console.log(['seal', 'open', 'KdfLimiter', 'cloneRecord', 'isReadableRecord'].every((k) => typeof int[k] === 'function'))`,
    ]);
    const [pub, internal] = out.trim().split('\n');
    expect(JSON.parse(pub!)).toEqual(PUBLIC_RUNTIME_EXPORTS);
    expect(internal).toBe('true');
  });

  it('the package has no runtime dependencies', async () => {
    const pkg = (await import('../package.json', { with: { type: 'json' } })).default as { dependencies?: object };
    expect(pkg.dependencies ?? {}).toEqual({});
  });
});

// Workspace smoke checks kept from before: they run the other packages' builds in child
// processes (core's test code imports nothing from them).
describe('published builds of the workspace', () => {
  it('the README example runs (ESM)', () => {
    expect(run(['examples/embed.mjs'])).toBe('db password: hunter2\nsecret_not_found\n');
  });

  it('an error thrown from /internal is an instance of the public classes, with require and with import', () => {
    const probe = (load: string) => `${load}
      let e; try { internal.encodePassphrase(5); } catch (x) { e = x; }
      let busy; const limiter = new internal.KdfLimiter({ concurrency: 1, maxQueue: 0 }); limiter.admit(); try { limiter.admit(); } catch (x) { busy = x; }
      console.log([e instanceof core.ValidationError, e instanceof core.VanishError, busy instanceof core.KdfBusyError, busy instanceof core.UnavailableError].join());`;
    const cjs = run(['-e', probe(`const core = require('@vanish/core'); const internal = require('@vanish/core/internal');`)]);
    const esm = run([
      '--input-type=module',
      '-e',
      probe(`import * as core from '@vanish/core'; import * as internal from '@vanish/core/internal';`),
    ]);
    expect(cjs.trim()).toBe('true,true,true,true');
    expect(esm.trim()).toBe('true,true,true,true');
  });

  it('every entry point loads with require (CJS) and import (ESM)', () => {
    const cjs = run([
      '-e',
      `const c = require('@vanish/core'); const t = require('@vanish/core/testing');
       const m = require('@vanish/adapters/memory'); const s = require('@vanish/adapters/sqlite');
       console.log([typeof c.Vanish, typeof t.runStoreConformance, typeof m.MemoryStore, typeof s.SqliteStore].join(','))`,
    ]);
    expect(cjs.trim()).toBe('function,function,function,function');
    const esm = run([
      '--input-type=module',
      '-e',
      `const s = await import('@vanish/server'); const m = await import('@vanish/adapters/memory');
       console.log(typeof s.startServer, typeof m.MemoryStore)`,
    ]);
    expect(esm.trim()).toBe('function function');
  });

  it('importing the memory adapter does not load better-sqlite3', () => {
    const out = run([
      '-e',
      `require('@vanish/adapters/memory'); console.log(Object.keys(require.cache).some((k) => k.includes('better-sqlite3')))`,
    ]);
    expect(out.trim()).toBe('false');
  });
});
