import { randomFillSync } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { systemClock, type Clock } from './clock.js';
import {
  deriveDataKey,
  encodeAssociatedData,
  FORMAT_VERSION,
  FORMAT_VERSION_V1,
  frameText,
  IV_BYTES,
  open,
  SALT_BYTES,
  seal,
  unframePlaintext,
} from './envelope.js';
import {
  InvalidPassphraseError,
  type KdfBusyError,
  PayloadTooLargeError,
  SecretNotFoundError,
  UnavailableError,
  ValidationError,
  VanishError,
} from './errors.js';
import { isInsecureKdf, KdfLimiter, resolveKdf, scryptKeyFor, type KdfParams, type KdfProfileName } from './kdf.js';
import { isReadableRecord, type SecretRecord } from './record.js';
import type { SecretStore } from './store.js';
import { deriveLookupId, parseSecretKey, TOKEN_BYTES, TOKEN_VERSION } from './token.js';

/** One random draw per create: version byte ‖ token T ‖ salt ‖ IV. */
const CREATE_RANDOM_BYTES = 1 + TOKEN_BYTES + SALT_BYTES + IV_BYTES;

/** Shortest passphrase accepted, in Unicode code points. */
export const PASSPHRASE_MIN_CHARS = 8;
/** Longest passphrase accepted, in Unicode code points (checked before normalisation). */
export const PASSPHRASE_MAX_CHARS = 256;
/**
 * Longest passphrase accepted in UTF-8 bytes AFTER Unicode NFKC normalisation (what scrypt
 * actually hashes). NFKC can expand a character a lot (U+FDFA becomes 18 characters, 33
 * bytes), so the character bound alone does not bound the work.
 */
export const PASSPHRASE_MAX_BYTES = 1024;

/** Defaults of {@link VanishOptions}. */
export const VANISH_DEFAULTS = Object.freeze({
  defaultTtlSeconds: 7 * 24 * 3600,
  minTtlSeconds: 60,
  maxTtlSeconds: 30 * 24 * 3600,
  maxSecretBytes: 65536,
  maxAttempts: 5,
  kdfMaxQueue: 64,
  storeTimeoutMs: 5000,
});

/** Options of {@link Vanish}. */
export interface VanishOptions {
  /** where records live */
  store: SecretStore;
  /** scrypt profile or allow-listed parameters for new secrets; default `'default'` */
  kdf?: KdfProfileName | KdfParams;
  /**
   * read records written with the `insecure-test` KDF profile; default `false`.
   *
   * @remarks Such records protect nothing (N=16), so a reader refuses them like any
   * record with parameters off the allow-list (it is deleted and the reveal answers
   * {@link SecretNotFoundError}) unless this is `true` or `kdf` is `'insecure-test'`
   * itself. Tests and benchmarks only.
   */
  allowInsecureKdf?: boolean;
  /** scrypt calls in flight; default: the CPU count */
  kdfConcurrency?: number;
  /**
   * admissions beyond `kdfConcurrency` (calls admitted but not yet running scrypt; a reveal is
   * admitted before its store lookup) before new calls are refused with {@link KdfBusyError}
   * (503, no store I/O, no attempt counted); default 64
   */
  kdfMaxQueue?: number;
  /** time source, epoch ms; default `Date.now` */
  clock?: Clock;
  /** TTL when none is given; default 7 days */
  defaultTtlSeconds?: number;
  /** shortest TTL accepted; default 60 s */
  minTtlSeconds?: number;
  /** longest TTL accepted; default 30 days */
  maxTtlSeconds?: number;
  /** largest secret in UTF-8 bytes; default 65536 */
  maxSecretBytes?: number;
  /** wrong passphrases before a secret is destroyed; default 5 */
  maxAttempts?: number;
  /** every store call fails with {@link UnavailableError} after this long; default 5000 ms */
  storeTimeoutMs?: number;
}

/** Input of {@link Vanish.create}. */
export interface CreateSecretInput {
  /** the secret text (1 to `maxSecretBytes` UTF-8 bytes) */
  secret: string;
  /** 8 to 256 characters; needed again to read the secret */
  passphrase: string;
  /** lifetime in whole seconds; default `defaultTtlSeconds` */
  ttlSeconds?: number | undefined;
}

/** Result of {@link Vanish.create}. */
export interface CreatedSecret {
  /** the 44-character key to hand to the reader; not stored anywhere */
  secretKey: string;
  /** expiry, epoch ms */
  expiresAt: number;
  /** the effective TTL in seconds */
  ttlSeconds: number;
}

/** Input of {@link Vanish.reveal}. */
export interface RevealSecretInput {
  /** the key returned by {@link Vanish.create} */
  secretKey: string;
  /** the passphrase given at creation */
  passphrase: string;
}

function checkWellFormed(value: string, field: string): void {
  if (!value.isWellFormed()) {
    throw new ValidationError(`"${field}" contains an unpaired surrogate; send valid Unicode text.`);
  }
}

/**
 * Validates a passphrase and returns the bytes scrypt hashes: UTF-8 of its NFKC form.
 *
 * @param passphrase - untrusted input
 * @returns a fresh buffer; the caller zeroes it
 * @throws {@link ValidationError} when it is not valid Unicode text of 8–256 characters, or its
 *   NFKC form is longer than {@link PASSPHRASE_MAX_BYTES} bytes of UTF-8
 */
export function encodePassphrase(passphrase: unknown): Buffer {
  if (typeof passphrase !== 'string') {
    throw new ValidationError('"passphrase" is required and must be a string.');
  }
  checkWellFormed(passphrase, 'passphrase');
  let chars = 0;
  for (const _ of passphrase) chars++;
  if (chars < PASSPHRASE_MIN_CHARS || chars > PASSPHRASE_MAX_CHARS) {
    throw new ValidationError(`"passphrase" must be ${PASSPHRASE_MIN_CHARS} to ${PASSPHRASE_MAX_CHARS} characters long.`);
  }
  const encoded = Buffer.from(passphrase.normalize('NFKC'), 'utf8');
  if (encoded.length > PASSPHRASE_MAX_BYTES) {
    encoded.fill(0);
    throw new ValidationError(
      `"passphrase" must be at most ${PASSPHRASE_MAX_BYTES} bytes of UTF-8 after Unicode NFKC normalisation; some characters expand when normalised.`,
    );
  }
  return encoded;
}

function zero(...buffers: (Buffer | null | undefined)[]): void {
  for (const b of buffers) b?.fill(0);
}

/**
 * One-time secrets over any {@link SecretStore}: create, then reveal exactly once.
 *
 * @remarks
 * `create` encrypts the secret under a key derived from a fresh random token and the
 * passphrase, stores only the ciphertext under a one-way lookup id, and returns the
 * token as `secretKey`. `reveal` runs reserve → verify → claim: it counts the attempt
 * atomically, derives the key and decrypts in memory, and returns the plaintext only
 * if its atomic conditional delete won. Wrong passphrases burn the secret after
 * `maxAttempts`. Buffers holding key material and plaintext are zeroed; the returned
 * string cannot be (JavaScript strings are immutable), so drop it when done.
 *
 * @example
 * ```ts
 * const vanish = new Vanish({ store: new MemoryStore() });
 * const { secretKey } = await vanish.create({ secret: 'hunter2', passphrase: 'correct horse' });
 * const secret = await vanish.reveal({ secretKey, passphrase: 'correct horse' });
 * ```
 */
export class Vanish {
  readonly #store: SecretStore;
  readonly #kdf: KdfParams;
  readonly #allowInsecureKdf: boolean;
  readonly #limiter: KdfLimiter;
  readonly #clock: Clock;
  readonly #storeTimeoutMs: number;
  #closing: Promise<void> | undefined;
  /** effective limits, after defaults */
  readonly limits: Readonly<{
    defaultTtlSeconds: number;
    minTtlSeconds: number;
    maxTtlSeconds: number;
    maxSecretBytes: number;
    maxAttempts: number;
  }>;

  /**
   * @param options - the store and limits
   * @throws {@link ConfigurationError} when a KDF setting is invalid
   * @throws {@link ValidationError} when a limit is not a positive whole number or the TTL bounds are inconsistent
   */
  constructor(options: VanishOptions) {
    this.#store = options.store;
    this.#kdf = resolveKdf(options.kdf ?? 'default');
    this.#allowInsecureKdf = options.allowInsecureKdf === true || isInsecureKdf(this.#kdf);
    this.#limiter = new KdfLimiter({
      concurrency: options.kdfConcurrency ?? availableParallelism(),
      maxQueue: options.kdfMaxQueue ?? VANISH_DEFAULTS.kdfMaxQueue,
    });
    this.#clock = options.clock ?? systemClock;
    this.#storeTimeoutMs = options.storeTimeoutMs ?? VANISH_DEFAULTS.storeTimeoutMs;
    const limits = {
      defaultTtlSeconds: options.defaultTtlSeconds ?? VANISH_DEFAULTS.defaultTtlSeconds,
      minTtlSeconds: options.minTtlSeconds ?? VANISH_DEFAULTS.minTtlSeconds,
      maxTtlSeconds: options.maxTtlSeconds ?? VANISH_DEFAULTS.maxTtlSeconds,
      maxSecretBytes: options.maxSecretBytes ?? VANISH_DEFAULTS.maxSecretBytes,
      maxAttempts: options.maxAttempts ?? VANISH_DEFAULTS.maxAttempts,
    };
    for (const [name, value] of Object.entries({ ...limits, storeTimeoutMs: this.#storeTimeoutMs })) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new ValidationError(`${name} must be a whole number of at least 1.`);
      }
    }
    if (limits.minTtlSeconds > limits.maxTtlSeconds) {
      throw new ValidationError('minTtlSeconds must not exceed maxTtlSeconds.');
    }
    if (limits.defaultTtlSeconds < limits.minTtlSeconds || limits.defaultTtlSeconds > limits.maxTtlSeconds) {
      throw new ValidationError('defaultTtlSeconds must lie between minTtlSeconds and maxTtlSeconds.');
    }
    this.limits = Object.freeze(limits);
  }

  /** The KDF parameters used for new secrets. */
  get kdf(): KdfParams {
    return this.#kdf;
  }

  /**
   * Encrypts and stores a new one-time secret.
   *
   * @param input - secret, passphrase, optional TTL in seconds
   * @returns the `secretKey` (shown once, never stored), expiry and effective TTL
   * @throws {@link ValidationError} for a wrong type, an empty secret, invalid Unicode, a passphrase outside 8–256 characters or over 1024 UTF-8 bytes after NFKC, or a TTL outside the bounds (never clamped)
   * @throws {@link PayloadTooLargeError} when the secret exceeds `maxSecretBytes`
   * @throws {@link UnavailableError} when the KDF queue is full or the store fails
   */
  async create(input: CreateSecretInput): Promise<CreatedSecret> {
    this.#assertOpen();
    const { secret, passphrase } = input;
    if (typeof secret !== 'string' || secret.length === 0) {
      throw new ValidationError('"secret" is required and must be a non-empty string.');
    }
    checkWellFormed(secret, 'secret');
    const secretBytes = Buffer.byteLength(secret, 'utf8');
    if (secretBytes > this.limits.maxSecretBytes) {
      throw new PayloadTooLargeError(`"secret" must be at most ${this.limits.maxSecretBytes} bytes of UTF-8.`);
    }
    const ttlSeconds = this.#checkTtl(input.ttlSeconds);
    const encoded = encodePassphrase(passphrase);
    const createdAt = this.#clock();
    const expiresAt = createdAt + ttlSeconds * 1000;
    // One CSPRNG draw for token, salt and IV, in its own memory (not Node's shared Buffer
    // pool); zeroed below. Salt and IV (stored in clear) are copied out first.
    const random = randomFillSync(Buffer.allocUnsafeSlow(CREATE_RANDOM_BYTES));
    random[0] = TOKEN_VERSION;
    const secretKey = random.toString('base64url', 0, 1 + TOKEN_BYTES);
    const token = random.subarray(1, 1 + TOKEN_BYTES);
    const saltAndIv = Buffer.from(random.subarray(1 + TOKEN_BYTES));
    const salt = saltAndIv.subarray(0, SALT_BYTES);
    const iv = saltAndIv.subarray(SALT_BYTES);
    let passphraseKey: Buffer | undefined;
    let key: Buffer | undefined;
    let plaintext: Buffer | undefined;
    try {
      const id = deriveLookupId(token);
      this.#limiter.admit(); // KdfBusyError when the queue is full, before any store I/O
      passphraseKey = await this.#deriveAdmitted(encoded, salt, this.#kdf); // the slot is held only while scrypt runs
      key = deriveDataKey(token, passphraseKey, salt, id);
      const meta = { v: FORMAT_VERSION, kdf: this.#kdf, id, createdAt, expiresAt, maxAttempts: this.limits.maxAttempts };
      plaintext = frameText(secret, secretBytes); // v2: u32 length ‖ secret ‖ zero padding, all inside the AEAD
      const { ciphertext } = seal(key, plaintext, encodeAssociatedData(meta), iv);
      const record: SecretRecord = { ...meta, kdf: { ...this.#kdf }, salt, iv, ciphertext, attempts: 0 };
      await this.#storeCall(() => this.#store.create(record));
      return { secretKey, expiresAt, ttlSeconds };
    } finally {
      zero(encoded, random, passphraseKey, key, plaintext);
    }
  }

  /**
   * Reads a secret once: reserve → verify → claim.
   *
   * @remarks
   * Order: an admission to the bounded KDF queue is taken first, before any store I/O,
   * so a full queue ({@link KdfBusyError}) never costs an attempt. Then `reserve`
   * counts the attempt; an unknown, expired or used key answers
   * {@link SecretNotFoundError} at once, without waiting for a KDF slot. Otherwise the
   * reveal waits for a slot, runs scrypt, and gives the slot back before it decrypts,
   * claims or burns.
   * @param input - the `secretKey` and the passphrase
   * @returns the secret; the stored record is gone when this resolves
   * @throws {@link ValidationError} when the passphrase is missing, outside 8–256 characters or over 1024 UTF-8 bytes after NFKC (no store I/O)
   * @throws {@link SecretNotFoundError} for every unreadable case: malformed, unknown, expired, read, destroyed, lost a race
   * @throws {@link InvalidPassphraseError} when the passphrase is wrong (the attempt counts); its `attemptsLeft` says how many wrong tries remain, `0` meaning the secret is now destroyed
   * @throws {@link UnavailableError} when the store fails or times out, or the KDF queue is full (then before any store I/O); the plaintext is never returned in that case
   */
  async reveal(input: RevealSecretInput): Promise<string> {
    this.#assertOpen();
    const encoded = encodePassphrase(input.passphrase);
    const token = parseSecretKey(input.secretKey);
    if (!token) {
      encoded.fill(0);
      throw new SecretNotFoundError();
    }
    let admitted = false;
    let passphraseKey: Buffer | undefined;
    let key: Buffer | undefined;
    let plaintext: Buffer | null | undefined;
    try {
      const id = deriveLookupId(token);
      this.#limiter.admit(); // before any store I/O: a full queue never costs an attempt
      admitted = true;
      const record = await this.#storeCall(() => this.#store.reserve(id, this.#clock()));
      if (!record) throw new SecretNotFoundError();
      if (!isReadableRecord(record, this.#allowInsecureKdf)) {
        admitted = false;
        this.#limiter.leave(); // no scrypt for this one: the admission goes back before the delete
        await this.#storeCall(() => this.#store.delete(id));
        throw new SecretNotFoundError();
      }
      admitted = false; // #deriveAdmitted owns the admission from here and always returns it
      passphraseKey = await this.#deriveAdmitted(encoded, record.salt, record.kdf);
      key = deriveDataKey(token, passphraseKey, record.salt, id);
      plaintext = open(key, record.iv, record.ciphertext, encodeAssociatedData({ ...record, id }));
      if (!plaintext) {
        await this.#storeCall(() => this.#store.burnIfExhausted(id));
        throw new InvalidPassphraseError(Math.max(0, record.maxAttempts - record.attempts));
      }
      const secret = record.v === FORMAT_VERSION_V1 ? plaintext : unframePlaintext(plaintext);
      if (!secret) {
        // Authentic but malformed padding: only a faulty writer makes this. Fail closed.
        await this.#storeCall(() => this.#store.delete(id));
        throw new SecretNotFoundError();
      }
      const claimed = await this.#storeCall(() => this.#store.claim(id, record.iv, this.#clock()));
      if (!claimed) throw new SecretNotFoundError();
      return secret.toString('utf8');
    } finally {
      if (admitted) this.#limiter.leave();
      zero(encoded, token, passphraseKey, key, plaintext);
    }
  }

  /** With an admission held: waits for a KDF slot, runs scrypt, gives slot and admission back. */
  async #deriveAdmitted(encoded: Buffer, salt: Buffer, params: KdfParams): Promise<Buffer> {
    const waiting = this.#limiter.acquire();
    if (waiting) await waiting;
    try {
      return await scryptKeyFor(encoded, salt, params);
    } finally {
      this.#limiter.release();
    }
  }

  /**
   * Checks that the store answers.
   *
   * @throws {@link UnavailableError} when it does not, or not in time, or the instance is closed
   */
  async ping(): Promise<void> {
    this.#assertOpen();
    await this.#storeCall(() => this.#store.ping());
  }

  /**
   * Closes the instance and its store (`store.close()`).
   *
   * @remarks
   * Idempotent: every call returns the same promise and the store is closed once.
   * Afterwards `create`, `reveal` and `ping` reject with {@link UnavailableError}
   * without touching the store. Calls already under way are not waited for.
   * @returns resolves when the store has closed
   */
  close(): Promise<void> {
    this.#closing ??= this.#store.close();
    return this.#closing;
  }

  #assertOpen(): void {
    if (this.#closing) throw new UnavailableError('This vanish instance is closed.');
  }

  #checkTtl(ttl: unknown): number {
    const { minTtlSeconds: min, maxTtlSeconds: max, defaultTtlSeconds } = this.limits;
    if (ttl === undefined) return defaultTtlSeconds;
    if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < min || ttl > max) {
      throw new ValidationError(`"ttl" must be a whole number of seconds from ${min} to ${max}.`);
    }
    return ttl;
  }

  async #storeCall<T>(call: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new UnavailableError('The secret store did not answer in time.')), this.#storeTimeoutMs);
    });
    try {
      return await Promise.race([call(), timeout]);
    } catch (err) {
      if (err instanceof VanishError) throw err;
      throw new UnavailableError('The secret store is unavailable.', { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }
}
