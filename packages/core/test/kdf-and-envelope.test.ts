import { describe, expect, it } from 'vitest';
import { ConfigurationError, KDF_PROFILES, KdfBusyError } from '../src/index.js';
import {
  ACCEPTED_KDF_PARAMS,
  derivePassphraseKey,
  scryptKeyFor,
  encodeAssociatedData,
  isAcceptedKdf,
  KdfLimiter,
  open,
  resolveKdf,
  seal,
  type EnvelopeMetadata,
} from '../src/internal.js';
import { randomBytes } from 'node:crypto';

describe('KDF profiles and allow-list', () => {
  it('default is N=2^15 r=8 p=1 and strong is OWASP level N=2^17', () => {
    expect(KDF_PROFILES.default).toEqual({ N: 32768, r: 8, p: 1 });
    expect(KDF_PROFILES.strong).toEqual({ N: 131072, r: 8, p: 1 });
    expect(resolveKdf('strong')).toBe(KDF_PROFILES.strong);
    expect(resolveKdf({ N: 32768, r: 8, p: 3 })).toEqual({ N: 32768, r: 8, p: 3 });
  });

  it('refuses parameters that are not allow-listed', () => {
    expect(isAcceptedKdf({ N: 2 ** 30, r: 8, p: 1 })).toBe(false);
    expect(isAcceptedKdf({ N: 2 ** 15, r: 8, p: 2 })).toBe(false);
    expect(ACCEPTED_KDF_PARAMS.every((p) => isAcceptedKdf(p))).toBe(true);
    expect(isAcceptedKdf(KDF_PROFILES['insecure-test'])).toBe(false);
    expect(isAcceptedKdf(KDF_PROFILES['insecure-test'], true)).toBe(true);
    expect(resolveKdf({ N: 16, r: 1, p: 1 })).toEqual(KDF_PROFILES['insecure-test']);
    expect(() => resolveKdf({ N: 2 ** 20, r: 8, p: 1 })).toThrow(ConfigurationError);
    expect(() => resolveKdf('fast' as never)).toThrow(/Unknown KDF profile/);
  });

  it('zeroes nothing it returns and derives different keys for different salts', async () => {
    const p = KDF_PROFILES['insecure-test'];
    const a = await derivePassphraseKey('passphrase', Buffer.alloc(16, 1), p);
    const b = await derivePassphraseKey('passphrase', Buffer.alloc(16, 2), p);
    expect(a).toHaveLength(32);
    expect(a.equals(b)).toBe(false);
    expect(a.equals(Buffer.alloc(32))).toBe(false);
  });
});

describe('where scrypt runs', () => {
  // A setImmediate queued before the call runs before the result arrives only if the work
  // left the event loop (thread pool); a synchronous scrypt resolves in a microtask first.
  async function leftTheEventLoop(params: (typeof KDF_PROFILES)[keyof typeof KDF_PROFILES]): Promise<boolean> {
    let ticked = false;
    setImmediate(() => (ticked = true));
    const key = await scryptKeyFor(Buffer.from('passphrase'), Buffer.alloc(16, 7), params);
    expect(key).toHaveLength(32);
    return ticked;
  }

  it('the default and strong profiles always run on the thread pool', async () => {
    expect(scryptKeyFor(Buffer.from('x'), Buffer.alloc(16), KDF_PROFILES.default)).toBeInstanceOf(Promise);
    expect(await leftTheEventLoop(KDF_PROFILES.default)).toBe(true);
    expect(await leftTheEventLoop(KDF_PROFILES.strong)).toBe(true);
    expect(await leftTheEventLoop({ N: 2 ** 15, r: 8, p: 3 })).toBe(true);
  });

  it('only insecure-test runs synchronously, with the same result', async () => {
    const params = KDF_PROFILES['insecure-test'];
    expect(await leftTheEventLoop(params)).toBe(false);
    const sync = scryptKeyFor(Buffer.from('passphrase'), Buffer.alloc(16, 7), params);
    expect(sync).toBeInstanceOf(Buffer);
    expect(sync).toEqual(await derivePassphraseKey('passphrase', Buffer.alloc(16, 7), params));
  });

  it('a Vanish create at the default profile does not block the event loop', async () => {
    const { Vanish } = await import('../src/index.js');
    const { ReferenceStore } = await import('./helpers/reference-store.js');
    const vanish = new Vanish({ store: new ReferenceStore() });
    let ticked = false;
    setImmediate(() => (ticked = true));
    await vanish.create({ secret: 'x', passphrase: 'correct horse battery' });
    expect(ticked).toBe(true);
  });
});

describe('KdfLimiter', () => {
  it('runs at most `concurrency` tasks and refuses past the queue bound', async () => {
    const limiter = new KdfLimiter({ concurrency: 2, maxQueue: 1 });
    let running = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const task = () =>
      new Promise<number>((resolve) => {
        running++;
        peak = Math.max(peak, running);
        releases.push(() => {
          running--;
          resolve(1);
        });
      });
    const accepted = [limiter.run(task), limiter.run(task), limiter.run(task)];
    expect(limiter.saturated).toBe(true);
    await expect(limiter.run(task)).rejects.toBeInstanceOf(KdfBusyError);
    const tick = () => new Promise((r) => setImmediate(r));
    await tick();
    expect(releases).toHaveLength(2);
    releases.shift()?.();
    await tick();
    expect(releases).toHaveLength(2);
    for (const release of releases.splice(0)) release();
    await expect(Promise.all(accepted)).resolves.toEqual([1, 1, 1]);
    expect(peak).toBe(2);
    expect(limiter.saturated).toBe(false);
  });

  it.each([[{ concurrency: 0, maxQueue: 1 }], [{ concurrency: 1.5, maxQueue: 1 }], [{ concurrency: 1, maxQueue: -1 }]])(
    'rejects invalid options %j',
    (options) => {
      expect(() => new KdfLimiter(options)).toThrow(ConfigurationError);
    },
  );
});

describe('AES-256-GCM envelope', () => {
  const meta: EnvelopeMetadata = {
    v: 1,
    kdf: KDF_PROFILES.default,
    id: randomBytes(32),
    createdAt: 1_900_000_000_000,
    expiresAt: 1_900_000_060_000,
    maxAttempts: 5,
  };
  const key = randomBytes(32);
  const plaintext = Buffer.from('the launch codes ✓', 'utf8');
  const sealed = seal(key, plaintext, encodeAssociatedData(meta));

  it('round-trips with a fresh 12-byte IV and a 16-byte tag', () => {
    expect(sealed.iv).toHaveLength(12);
    expect(sealed.ciphertext).toHaveLength(plaintext.length + 16);
    expect(open(key, sealed.iv, sealed.ciphertext, encodeAssociatedData(meta))).toEqual(plaintext);
    expect(seal(key, plaintext, encodeAssociatedData(meta)).iv.equals(sealed.iv)).toBe(false);
  });

  it.each([
    ['version', { v: 2 }],
    ['kdf N', { kdf: { ...meta.kdf, N: 2 ** 16 } }],
    ['kdf r', { kdf: { ...meta.kdf, r: 9 } }],
    ['kdf p', { kdf: { ...meta.kdf, p: 2 } }],
    ['id', { id: randomBytes(32) }],
    ['createdAt', { createdAt: meta.createdAt + 1 }],
    ['expiresAt', { expiresAt: meta.expiresAt + 1 }],
    ['maxAttempts', { maxAttempts: 6 }],
  ])('fails when the %s in the associated data changes', (_field, change) => {
    expect(open(key, sealed.iv, sealed.ciphertext, encodeAssociatedData({ ...meta, ...change }))).toBeNull();
  });

  it('fails on a wrong key, a flipped bit, a truncated tag or a short IV', () => {
    const aad = encodeAssociatedData(meta);
    expect(open(randomBytes(32), sealed.iv, sealed.ciphertext, aad)).toBeNull();
    for (let bit = 0; bit < sealed.ciphertext.length * 8; bit += 7) {
      const flipped = Buffer.from(sealed.ciphertext);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      expect(open(key, sealed.iv, flipped, aad)).toBeNull();
    }
    expect(open(key, sealed.iv, sealed.ciphertext.subarray(0, sealed.ciphertext.length - 4), aad)).toBeNull();
    expect(open(key, sealed.iv, sealed.ciphertext.subarray(0, 15), aad)).toBeNull();
    expect(open(key, sealed.iv.subarray(0, 8), sealed.ciphertext, aad)).toBeNull();
  });
});
