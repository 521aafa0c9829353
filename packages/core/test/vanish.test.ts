import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  InvalidPassphraseError,
  KdfBusyError,
  PASSPHRASE_MAX_BYTES,
  PayloadTooLargeError,
  SecretNotFoundError,
  UnavailableError,
  ValidationError,
  Vanish,
  type SecretRecord,
  type VanishOptions,
} from '../src/index.js';
import { CountingStore } from './helpers/counting-store.js';
import { ReferenceStore } from './helpers/reference-store.js';

const PASS = 'correct horse battery';
let now = Date.UTC(2030, 0, 1);
let ref: ReferenceStore;
let store: CountingStore;
let vanish: Vanish;

function make(options: Partial<VanishOptions> = {}): Vanish {
  return new Vanish({ store, kdf: 'insecure-test', clock: () => now, ...options });
}

beforeEach(() => {
  now = Date.UTC(2030, 0, 1);
  ref = new ReferenceStore();
  store = new CountingStore(ref);
  vanish = make();
});
afterEach(async () => {
  await store.close();
});

describe('create and reveal', () => {
  it('reveals once, then the secret is gone', async () => {
    const created = await vanish.create({ secret: 's3cr3t', passphrase: PASS, ttlSeconds: 3600 });
    expect(created.ttlSeconds).toBe(3600);
    expect(created.expiresAt).toBe(now + 3600_000);
    await expect(vanish.reveal({ secretKey: created.secretKey, passphrase: PASS })).resolves.toBe('s3cr3t');
    await expect(vanish.reveal({ secretKey: created.secretKey, passphrase: PASS })).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it('round-trips any valid Unicode text', async () => {
    const secret = 'nul\u0000 tab\t emoji 🦄 cjk 秘密 rtl שלום combining e\u0301 \uffff';
    const { secretKey } = await vanish.create({ secret, passphrase: 'pässwörd 🦄 ok' });
    await expect(vanish.reveal({ secretKey, passphrase: 'pässwörd 🦄 ok' })).resolves.toBe(secret);
  });

  it('uses the default TTL when none is given', async () => {
    const created = await vanish.create({ secret: 'x', passphrase: PASS });
    expect(created.ttlSeconds).toBe(7 * 24 * 3600);
  });

  it('works at the default KDF profile', async () => {
    const v = make({ kdf: 'default' });
    expect(v.kdf).toEqual({ N: 32768, r: 8, p: 1 });
    const { secretKey } = await v.create({ secret: 'slow but strong', passphrase: PASS });
    await expect(v.reveal({ secretKey, passphrase: PASS })).resolves.toBe('slow but strong');
  });
});

describe('wrong passphrases', () => {
  it('keep the secret until maxAttempts, then destroy it', async () => {
    const v = make({ maxAttempts: 3 });
    const { secretKey } = await v.create({ secret: 'x', passphrase: PASS });
    await expect(v.reveal({ secretKey, passphrase: 'wrong passphrase' })).rejects.toBeInstanceOf(InvalidPassphraseError);
    await expect(v.reveal({ secretKey, passphrase: 'wrong passphrase' })).rejects.toBeInstanceOf(InvalidPassphraseError);
    await expect(v.reveal({ secretKey, passphrase: PASS })).resolves.toBe('x');

    const second = await v.create({ secret: 'y', passphrase: PASS });
    for (let i = 0; i < 3; i++) {
      await expect(v.reveal({ secretKey: second.secretKey, passphrase: 'wrong passphrase' })).rejects.toSatisfy(
        (err) => err instanceof InvalidPassphraseError && err.attemptsLeft === 2 - i,
      );
    }
    expect(store.calls.burnIfExhausted).toBe(5);
    await expect(v.reveal({ secretKey: second.secretKey, passphrase: PASS })).rejects.toBeInstanceOf(SecretNotFoundError);
    expect(ref.size).toBe(0);
  });
});

describe('attemptsLeft', () => {
  it('InvalidPassphraseError says how many wrong tries remain; 0 means destroyed', async () => {
    const v = make({ maxAttempts: 3 });
    const { secretKey } = await v.create({ secret: 'x', passphrase: PASS });
    const left: unknown[] = [];
    const messages: string[] = [];
    for (let i = 0; i < 3; i++) {
      const err = await v.reveal({ secretKey, passphrase: 'wrong passphrase' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidPassphraseError);
      left.push((err as InvalidPassphraseError).attemptsLeft);
      messages.push((err as Error).message);
    }
    expect(left).toEqual([2, 1, 0]);
    expect(messages[2]).toMatch(/last attempt: the secret has been destroyed/);
    expect(messages.join(' ')).not.toContain('wrong passphrase');
    expect(ref.size).toBe(0);
    await expect(v.reveal({ secretKey, passphrase: PASS })).rejects.toBeInstanceOf(SecretNotFoundError);
  });
});

describe('expiry', () => {
  it('is decided by the injected clock, before any cleanup', async () => {
    const { secretKey } = await vanish.create({ secret: 'x', passphrase: PASS, ttlSeconds: 60 });
    now += 60_000;
    await expect(vanish.reveal({ secretKey, passphrase: PASS })).rejects.toBeInstanceOf(SecretNotFoundError);
  });
});

describe('bad input changes nothing', () => {
  it.each([
    ['TTL below the minimum', { ttlSeconds: 59 }, ValidationError],
    ['TTL above the maximum', { ttlSeconds: 30 * 24 * 3600 + 1 }, ValidationError],
    ['TTL 0', { ttlSeconds: 0 }, ValidationError],
    ['TTL -1', { ttlSeconds: -1 }, ValidationError],
    ['fractional TTL', { ttlSeconds: 60.5 }, ValidationError],
    ['TTL 1e308', { ttlSeconds: 1e308 }, ValidationError],
    ['NaN TTL', { ttlSeconds: Number.NaN }, ValidationError],
    ['string TTL', { ttlSeconds: '60' as unknown as number }, ValidationError],
    ['empty secret', { secret: '' }, ValidationError],
    ['non-string secret', { secret: 42 as unknown as string }, ValidationError],
    ['lone surrogate in the secret', { secret: 'a\ud800b' }, ValidationError],
    ['secret one byte too large', { secret: `${'é'.repeat(32768)}x` }, PayloadTooLargeError],
    ['7-character passphrase', { passphrase: '1234567' }, ValidationError],
    ['257-character passphrase', { passphrase: 'p'.repeat(257) }, ValidationError],
    ['256 x U+FDFA: 256 characters but 8,448 bytes after NFKC', { passphrase: '\ufdfa'.repeat(256) }, ValidationError],
    ['1025 bytes after NFKC', { passphrase: `${'\ufdfa'.repeat(31)}ab` }, ValidationError],
    ['lone surrogate in the passphrase', { passphrase: 'passphrase\udc00' }, ValidationError],
    ['missing passphrase', { passphrase: undefined as unknown as string }, ValidationError],
  ])('%s', async (_name, change, error) => {
    await expect(vanish.create({ secret: 'x', passphrase: PASS, ...change })).rejects.toBeInstanceOf(error);
    expect(store.total).toBe(0);
  });

  it('accepts the limits themselves', async () => {
    await vanish.create({ secret: 'é'.repeat(32768), passphrase: '12345678', ttlSeconds: 60 });
    await vanish.create({ secret: 'x', passphrase: '🦄'.repeat(256), ttlSeconds: 30 * 24 * 3600 });
    const edge = `${'\ufdfa'.repeat(31)}a`; // exactly PASSPHRASE_MAX_BYTES after NFKC
    expect(Buffer.byteLength(edge.normalize('NFKC'))).toBe(PASSPHRASE_MAX_BYTES);
    const { secretKey } = await vanish.create({ secret: 'x', passphrase: edge });
    await expect(vanish.reveal({ secretKey, passphrase: edge })).resolves.toBe('x');
    expect(store.calls.create).toBe(3);
  });

  it('bounds the passphrase after NFKC in UTF-8 bytes, with a clear message and no store I/O', async () => {
    const { secretKey } = await vanish.create({ secret: 'x', passphrase: PASS });
    const before = store.total;
    const expanding = '\ufdfa'.repeat(256);
    expect(Buffer.byteLength(expanding.normalize('NFKC'))).toBe(8448);
    const err = await vanish.reveal({ secretKey, passphrase: expanding }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toMatch(/at most 1024 bytes of UTF-8 after Unicode NFKC/);
    expect(store.total).toBe(before);
  });

  it('a reveal without a valid passphrase touches no store and counts no attempt', async () => {
    const { secretKey } = await vanish.create({ secret: 'x', passphrase: PASS });
    const before = store.total;
    for (const passphrase of [undefined, '', 'short', 42, 'p'.repeat(257)]) {
      await expect(vanish.reveal({ secretKey, passphrase: passphrase as string })).rejects.toBeInstanceOf(ValidationError);
    }
    await expect(vanish.reveal({ secretKey: 'not-a-key', passphrase: PASS })).rejects.toBeInstanceOf(SecretNotFoundError);
    expect(store.total).toBe(before);
    await expect(vanish.reveal({ secretKey, passphrase: PASS })).resolves.toBe('x');
  });
});

describe('a failing store fails closed', () => {
  it('wraps store errors as unavailable, keeping the cause', async () => {
    store.override.create = () => Promise.reject(new Error('connection refused'));
    const err = await vanish.create({ secret: 'x', passphrase: PASS }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).cause).toBeInstanceOf(Error);
  });

  it('times out a hanging store', async () => {
    const v = make({ storeTimeoutMs: 50 });
    store.override.reserve = () => new Promise(() => {});
    const { secretKey } = await v.create({ secret: 'x', passphrase: PASS });
    await expect(v.reveal({ secretKey, passphrase: PASS })).rejects.toThrow(/did not answer in time/);
  });

  it('never returns the plaintext when the claim fails or loses', async () => {
    const { secretKey } = await vanish.create({ secret: 'x', passphrase: PASS });
    store.override.claim = () => Promise.reject(new Error('network split'));
    await expect(vanish.reveal({ secretKey, passphrase: PASS })).rejects.toBeInstanceOf(UnavailableError);
    store.override.claim = async () => false;
    await expect(vanish.reveal({ secretKey, passphrase: PASS })).rejects.toBeInstanceOf(SecretNotFoundError);
    delete store.override.claim;
    await expect(vanish.reveal({ secretKey, passphrase: PASS })).resolves.toBe('x');
  });

  it('refuses new work with KdfBusyError when the KDF queue is full, before touching the store', async () => {
    const v = make({ kdf: 'default', kdfConcurrency: 1, kdfMaxQueue: 0 });
    const first = v.create({ secret: 'x', passphrase: PASS });
    const callsBefore = store.total;
    await expect(v.create({ secret: 'y', passphrase: PASS })).rejects.toBeInstanceOf(KdfBusyError);
    await expect(v.reveal({ secretKey: 'ARERERERERERERERERERERERERERERERERERERERERER', passphrase: PASS })).rejects.toBeInstanceOf(
      KdfBusyError,
    );
    expect(store.total).toBe(callsBefore);
    await first;
  });
});

describe('the KDF queue never costs an attempt', () => {
  const UNKNOWN = 'ARERERERERERERERERERERERERERERERERERERERERER';
  const settle = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: unknown) => (e as Error).constructor.name,
    );

  it("a reveal's admission is held across reserve, so a create arriving meanwhile is the one refused", async () => {
    const { secretKey } = await make({ maxAttempts: 1 }).create({ secret: 'slow store', passphrase: PASS });
    // Creates on this instance pay the default KDF (~0.1 s), long enough to overlap the reveal.
    const v = make({ kdf: 'default', kdfConcurrency: 1, kdfMaxQueue: 0, allowInsecureKdf: true });
    const inner = store.inner;
    store.override.reserve = async (id, at) => {
      await new Promise((r) => setTimeout(r, 30));
      return inner.reserve(id, at);
    };
    const revealing = v.reveal({ secretKey, passphrase: PASS });
    await new Promise((r) => setTimeout(r, 5));
    await expect(v.create({ secret: 'x', passphrase: PASS })).rejects.toBeInstanceOf(KdfBusyError);
    await expect(revealing).resolves.toBe('slow store');
  });

  it('(a) with concurrency 1 and a slow scrypt in flight, unknown/expired/used keys answer not-found at once', async () => {
    const fast = make({ maxAttempts: 5 });
    const expired = await fast.create({ secret: 'old', passphrase: PASS, ttlSeconds: 60 });
    const used = await fast.create({ secret: 'used', passphrase: PASS });
    await fast.reveal({ secretKey: used.secretKey, passphrase: PASS });
    now += 120_000;
    const v = make({ kdf: 'strong', kdfConcurrency: 1, kdfMaxQueue: 4 });
    const order: string[] = [];
    const slow = v.create({ secret: 'x', passphrase: PASS }).then(() => order.push('create (scrypt N=2^17)'));
    const misses = [UNKNOWN, expired.secretKey, used.secretKey].map((secretKey) =>
      v.reveal({ secretKey, passphrase: PASS }).catch((e: unknown) => {
        order.push((e as Error).constructor.name);
      }),
    );
    await Promise.all([slow, ...misses]);
    expect(order).toEqual(['SecretNotFoundError', 'SecretNotFoundError', 'SecretNotFoundError', 'create (scrypt N=2^17)']);
  });

  it('(b) a flood of unknown-key reveals does not make concurrent real creates fail with KdfBusy', async () => {
    const v = make({ kdf: 'default', kdfConcurrency: 1, kdfMaxQueue: 1 });
    const first = settle(v.create({ secret: 'a', passphrase: PASS }));
    let done = false;
    const outcomes = new Map<string, number>();
    const worker = async () => {
      while (!done) {
        const outcome = await settle(v.reveal({ secretKey: UNKNOWN, passphrase: PASS }));
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        await new Promise((r) => setImmediate(r));
      }
    };
    const flood = Array.from({ length: 16 }, worker);
    await new Promise((r) => setTimeout(r, 5));
    const second = settle(v.create({ secret: 'b', passphrase: PASS }));
    const results = await Promise.all([first, second]);
    done = true;
    await Promise.all(flood);
    expect(results).toEqual(['ok', 'ok']);
    expect(outcomes.get('SecretNotFoundError')).toBeGreaterThan(16);
    expect(ref.size).toBe(2);
  });

  it('(c) a full queue refuses a reveal before reserve and never increments attempts', async () => {
    const { secretKey } = await make().create({ secret: 'kept', passphrase: PASS });
    const [id] = ref.ids();
    const v = make({ kdf: 'default', kdfConcurrency: 1, kdfMaxQueue: 0, allowInsecureKdf: true });
    const busy = v.create({ secret: 'x', passphrase: PASS });
    for (const passphrase of [PASS, 'wrong passphrase']) {
      await expect(v.reveal({ secretKey, passphrase })).rejects.toBeInstanceOf(KdfBusyError);
    }
    expect(store.calls.reserve).toBe(0);
    expect(ref.peek(id!)?.attempts).toBe(0);
    await busy;
    await expect(v.reveal({ secretKey, passphrase: 'wrong passphrase' })).rejects.toBeInstanceOf(InvalidPassphraseError);
    expect(ref.peek(id!)?.attempts).toBe(1);
    await expect(v.reveal({ secretKey, passphrase: PASS })).resolves.toBe('kept');
  });

  it('every reveal path gives its admission back (capacity 1 stays usable)', async () => {
    const v = make({ kdfConcurrency: 1, kdfMaxQueue: 0 });
    const weak = await v.create({ secret: 'x', passphrase: PASS });
    const refusing = make({ kdf: 'default', kdfConcurrency: 1, kdfMaxQueue: 0 });
    const wrong = await v.create({ secret: 'y', passphrase: PASS });
    const real = await v.create({ secret: 'z', passphrase: PASS });
    const attempts: [Vanish, string, string][] = [
      [v, UNKNOWN, PASS], // not found after reserve
      [refusing, weak.secretKey, PASS], // unreadable record (insecure KDF refused)
      [v, wrong.secretKey, 'wrong passphrase'], // scrypt ran, wrong passphrase
    ];
    for (const [instance, secretKey, passphrase] of attempts) await settle(instance.reveal({ secretKey, passphrase }));
    store.override.reserve = () => Promise.reject(new Error('store down'));
    expect(await settle(v.reveal({ secretKey: real.secretKey, passphrase: PASS }))).toBe('UnavailableError');
    delete store.override.reserve;
    store.override.claim = async () => false;
    expect(await settle(v.reveal({ secretKey: real.secretKey, passphrase: PASS }))).toBe('SecretNotFoundError');
    delete store.override.claim;
    await expect(v.create({ secret: 'still admitted', passphrase: PASS })).resolves.toBeDefined();
    await expect(refusing.create({ secret: 'still admitted', passphrase: PASS })).resolves.toBeDefined();
  });

  it('the KDF slot is not held while a reveal claims: a create meanwhile is admitted', async () => {
    const v = make({ kdfConcurrency: 1, kdfMaxQueue: 0 });
    const { secretKey } = await v.create({ secret: 'slow claim', passphrase: PASS });
    const inner = store.inner;
    let claiming!: () => void;
    const inClaim = new Promise<void>((r) => (claiming = r));
    store.override.claim = async (id, iv, at) => {
      claiming();
      await new Promise((r) => setTimeout(r, 30));
      return inner.claim(id, iv, at);
    };
    const revealing = v.reveal({ secretKey, passphrase: PASS });
    await inClaim;
    await expect(v.create({ secret: 'meanwhile', passphrase: PASS })).resolves.toMatchObject({ ttlSeconds: 604800 });
    await expect(revealing).resolves.toBe('slow claim');
  });
});

describe('records with the insecure-test KDF', () => {
  it('are refused (deleted, uniform not-found) by a reader that is not configured for them', async () => {
    const { secretKey } = await make({ kdf: 'insecure-test' }).create({ secret: 'weak', passphrase: PASS });
    const [id] = ref.ids();
    const production = make({ kdf: 'default' });
    const err = await production.reveal({ secretKey, passphrase: PASS }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretNotFoundError);
    expect((err as Error).message).toBe(SecretNotFoundError.MESSAGE);
    expect(ref.peek(id!)).toBeUndefined();
    expect(store.calls.delete).toBe(1);
  });

  it.each([
    ['kdf is insecure-test', { kdf: 'insecure-test' }],
    ['allowInsecureKdf: true', { kdf: 'default', allowInsecureKdf: true }],
  ] as const)('are read when %s', async (_name, options) => {
    const { secretKey } = await make({ kdf: 'insecure-test' }).create({ secret: 'weak', passphrase: PASS });
    await expect(make(options).reveal({ secretKey, passphrase: PASS })).resolves.toBe('weak');
  });
});

describe('options', () => {
  it.each([
    [{ minTtlSeconds: 100, maxTtlSeconds: 50, defaultTtlSeconds: 60 }, ValidationError],
    [{ defaultTtlSeconds: 10 }, ValidationError],
    [{ maxAttempts: 0 }, ValidationError],
    [{ maxSecretBytes: 1.5 }, ValidationError],
    [{ kdf: { N: 2 ** 30, r: 8, p: 1 } }, ConfigurationError],
  ])('rejects %j', (options, error) => {
    expect(() => make(options)).toThrow(error);
  });

  it('ping goes to the store', async () => {
    await vanish.ping();
    expect(store.calls.ping).toBe(1);
  });
});

describe('tampered records never reveal', () => {
  const cases: [string, (r: SecretRecord) => void][] = [
    [
      'a bit of the ciphertext',
      (r) => {
        r.ciphertext[3]! ^= 1;
      },
    ],
    [
      'a bit of the tag',
      (r) => {
        r.ciphertext[r.ciphertext.length - 1]! ^= 0x80;
      },
    ],
    [
      'the tag truncated',
      (r) => {
        r.ciphertext = r.ciphertext.subarray(0, r.ciphertext.length - 4);
      },
    ],
    [
      'the whole tag removed',
      (r) => {
        r.ciphertext = r.ciphertext.subarray(0, r.ciphertext.length - 16);
      },
    ],
    [
      'the ciphertext emptied',
      (r) => {
        r.ciphertext = Buffer.alloc(0);
      },
    ],
    [
      'the salt',
      (r) => {
        r.salt.fill(0);
      },
    ],
    [
      'the IV',
      (r) => {
        r.iv.fill(0);
      },
    ],
    [
      'the IV length',
      (r) => {
        r.iv = Buffer.alloc(2);
      },
    ],
    [
      'createdAt',
      (r) => {
        r.createdAt -= 1;
      },
    ],
    [
      'expiresAt',
      (r) => {
        r.expiresAt += 1000;
      },
    ],
    [
      'maxAttempts',
      (r) => {
        r.maxAttempts += 1;
      },
    ],
    [
      'the version up',
      (r) => {
        r.v += 1;
      },
    ],
    [
      'the version down',
      (r) => {
        r.v -= 1;
      },
    ],
    [
      'N = 2^30',
      (r) => {
        r.kdf = { ...r.kdf, N: 2 ** 30 };
      },
    ],
    [
      'N to another allow-listed value',
      (r) => {
        r.kdf = { N: 32768, r: 8, p: 1 };
      },
    ],
    [
      'r',
      (r) => {
        r.kdf = { ...r.kdf, r: 2 };
      },
    ],
  ];

  it.each(cases)('%s', async (_name, change) => {
    const { secretKey } = await vanish.create({ secret: 'top secret', passphrase: PASS });
    const [id] = ref.ids();
    ref.tamper(id!, change);
    const started = Date.now();
    const outcome = await vanish.reveal({ secretKey, passphrase: PASS }).then(
      (s) => `revealed ${s}`,
      (e: unknown) => (e as Error).constructor.name,
    );
    expect(outcome).toMatch(/^(SecretNotFoundError|InvalidPassphraseError)$/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('close', () => {
  it('closes the store once, is idempotent, and refuses work afterwards without store I/O', async () => {
    const { secretKey } = await vanish.create({ secret: 'x', passphrase: PASS });
    const first = vanish.close();
    const second = vanish.close();
    expect(second).toBe(first);
    await first;
    await vanish.close();
    expect(store.calls.close).toBe(1);
    expect(ref.closed).toBe(true);
    const before = store.total;
    await expect(vanish.create({ secret: 'x', passphrase: PASS })).rejects.toBeInstanceOf(UnavailableError);
    await expect(vanish.reveal({ secretKey, passphrase: PASS })).rejects.toThrow(/instance is closed/);
    await expect(vanish.ping()).rejects.toBeInstanceOf(UnavailableError);
    expect(store.total).toBe(before);
  });
});
