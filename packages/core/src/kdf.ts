import { scrypt, scryptSync } from 'node:crypto';
import { ConfigurationError, KdfBusyError } from './errors.js';

/** scrypt cost parameters, stored with every record. */
export interface KdfParams {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  /** Block size. */
  readonly r: number;
  /** Parallelisation. */
  readonly p: number;
}

/** Names of the built-in KDF profiles. */
export type KdfProfileName = 'default' | 'strong' | 'insecure-test';

/**
 * The built-in scrypt profiles.
 *
 * @remarks
 * - `default`: N=2^15, r=8, p=1 (32 MiB, ~0.15 s on one core of a small server).
 * - `strong`: N=2^17, r=8, p=1 — OWASP's password-storage level (128 MiB, ~4× `default`).
 * - `insecure-test`: N=16 — for tests and for benchmarks of everything but the KDF.
 *   It protects nothing; the server refuses it without an explicit acknowledgement.
 */
export const KDF_PROFILES: Readonly<Record<KdfProfileName, KdfParams>> = Object.freeze({
  default: Object.freeze({ N: 2 ** 15, r: 8, p: 1 }),
  strong: Object.freeze({ N: 2 ** 17, r: 8, p: 1 }),
  'insecure-test': Object.freeze({ N: 16, r: 1, p: 1 }),
});

/**
 * KDF parameters a reader accepts from a stored record by default: the production profiles
 * plus OWASP's N=2^15, p=3 variant. The `insecure-test` profile is NOT on it: a record
 * asking for N=16 is refused unless the reader opts in (see {@link isAcceptedKdf}).
 */
export const ACCEPTED_KDF_PARAMS: readonly KdfParams[] = Object.freeze([
  KDF_PROFILES.default,
  KDF_PROFILES.strong,
  Object.freeze({ N: 2 ** 15, r: 8, p: 3 }),
]);

/**
 * Tells whether parameters are the `insecure-test` profile.
 *
 * @param params - parameters to check
 * @returns `true` for N=16, r=1, p=1
 */
export function isInsecureKdf(params: KdfParams): boolean {
  const t = KDF_PROFILES['insecure-test'];
  return params.N === t.N && params.r === t.r && params.p === t.p;
}

/**
 * Tells whether stored KDF parameters are on the allow-list.
 *
 * @remarks A record asking for anything else (say N=2^30) is refused before scrypt runs.
 * @param params - untrusted parameters read from a store
 * @param allowInsecure - also accept the `insecure-test` profile (tests and benchmarks only); default `false`
 * @returns `true` when `params` equals one allow-listed entry
 */
export function isAcceptedKdf(params: KdfParams, allowInsecure = false): boolean {
  return (
    ACCEPTED_KDF_PARAMS.some((a) => a.N === params.N && a.r === params.r && a.p === params.p) || (allowInsecure && isInsecureKdf(params))
  );
}

/**
 * Resolves a profile name or explicit parameters to allow-listed parameters.
 *
 * @param kdf - a profile name or parameters
 * @returns the parameters
 * @throws {@link ConfigurationError} when the name is unknown or the parameters are not allow-listed
 */
export function resolveKdf(kdf: KdfProfileName | KdfParams): KdfParams {
  if (typeof kdf === 'string') {
    const params = Object.hasOwn(KDF_PROFILES, kdf) ? KDF_PROFILES[kdf] : undefined;
    if (!params) {
      throw new ConfigurationError(`Unknown KDF profile; use one of: ${Object.keys(KDF_PROFILES).join(', ')}.`);
    }
    return params;
  }
  if (!isAcceptedKdf(kdf, true)) {
    throw new ConfigurationError('KDF parameters are not on the allow-list; use a named profile.');
  }
  return kdf;
}

/** Memory bound handed to scrypt: twice what the parameters need, plus slack. */
export function scryptMaxmem(params: KdfParams): number {
  return 256 * params.N * params.r * params.p + 1024 * 1024;
}

/**
 * Derives the passphrase key `Kpw = scrypt(utf8(NFKC(passphrase)), salt, 32)`.
 *
 * @remarks Asynchronous (runs on libuv's thread pool); the encoded passphrase buffer is zeroed.
 * @param passphrase - the passphrase as given
 * @param salt - 16 random bytes stored with the record
 * @param params - allow-listed parameters
 * @returns 32 bytes; the caller zeroes them
 * @throws the underlying scrypt error when parameters exceed `maxmem`
 */
export async function derivePassphraseKey(passphrase: string, salt: Buffer, params: KdfParams): Promise<Buffer> {
  const encoded = Buffer.from(passphrase.normalize('NFKC'), 'utf8');
  try {
    return await scryptKey(encoded, salt, params);
  } finally {
    encoded.fill(0);
  }
}

/**
 * `scrypt(encoded, salt, 32)` with the record's parameters, on libuv's thread pool.
 *
 * @param encoded - the UTF-8 bytes of the NFKC passphrase (the caller zeroes them)
 * @param salt - the record's salt
 * @param params - allow-listed parameters
 * @returns 32 bytes; the caller zeroes them
 */
export function scryptKey(encoded: Buffer, salt: Buffer, params: KdfParams): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    scrypt(encoded, salt, 32, { N: params.N, r: params.r, p: params.p, maxmem: scryptMaxmem(params) }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/**
 * {@link scryptKey}, except that the `insecure-test` profile (N=16, microseconds of work)
 * runs synchronously: a trip through the thread pool costs more than the hash itself.
 *
 * @remarks Every other profile always runs on the thread pool and never blocks the event loop.
 * @param encoded - the UTF-8 bytes of the NFKC passphrase (the caller zeroes them)
 * @param salt - the record's salt
 * @param params - allow-listed parameters
 * @returns 32 bytes (the caller zeroes them), or a promise of them
 */
export function scryptKeyFor(encoded: Buffer, salt: Buffer, params: KdfParams): Buffer | Promise<Buffer> {
  if (isInsecureKdf(params)) {
    return scryptSync(encoded, salt, 32, { N: params.N, r: params.r, p: params.p, maxmem: scryptMaxmem(params) });
  }
  return scryptKey(encoded, salt, params);
}

/** Options of a {@link KdfLimiter}. */
export interface KdfLimiterOptions {
  /** scrypt calls in flight at once (≥ 1). */
  concurrency: number;
  /** calls allowed to wait for a slot (≥ 0); more are refused with {@link KdfBusyError}. */
  maxQueue: number;
}

/**
 * A concurrency limit with a bounded admission queue for key derivation.
 *
 * @remarks
 * Every create and reveal pays one scrypt; this keeps the CPU cost bounded and
 * turns overload into a fast {@link KdfBusyError} (HTTP 503) instead of an
 * ever-growing queue.
 *
 * Two steps, so a caller can be admitted before it does I/O and hold a KDF slot
 * only while scrypt runs:
 * 1. {@link KdfLimiter.admit} takes one of `concurrency + maxQueue` admissions or
 *    throws {@link KdfBusyError} at once. An admission guarantees a slot later.
 * 2. {@link KdfLimiter.acquire} waits (FIFO) for one of `concurrency` slots;
 *    {@link KdfLimiter.release} gives slot and admission back. A caller that turns
 *    out not to need the KDF returns its admission with {@link KdfLimiter.leave}.
 */
export class KdfLimiter {
  readonly #concurrency: number;
  readonly #capacity: number;
  #admitted = 0;
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  #head = 0;

  /**
   * @param options - concurrency and queue bound
   * @throws {@link ConfigurationError} on a non-integer or out-of-range option
   */
  constructor(options: KdfLimiterOptions) {
    if (!Number.isSafeInteger(options.concurrency) || options.concurrency < 1) {
      throw new ConfigurationError('KDF concurrency must be a whole number of at least 1.');
    }
    if (!Number.isSafeInteger(options.maxQueue) || options.maxQueue < 0) {
      throw new ConfigurationError('KDF queue bound must be a whole number of at least 0.');
    }
    this.#concurrency = options.concurrency;
    this.#capacity = options.concurrency + options.maxQueue;
  }

  /** `true` when a new admission would be refused right now. */
  get saturated(): boolean {
    return this.#admitted >= this.#capacity;
  }

  /** Admissions currently held (running, waiting for a slot, or between the two). */
  get admitted(): number {
    return this.#admitted;
  }

  /**
   * Takes an admission: a guaranteed place in the queue.
   *
   * @throws {@link KdfBusyError} when `concurrency + maxQueue` admissions are held
   */
  admit(): void {
    if (this.#admitted >= this.#capacity) throw new KdfBusyError();
    this.#admitted++;
  }

  /** Returns an admission that never took a slot. */
  leave(): void {
    this.#admitted--;
  }

  /**
   * Waits for a slot; call only while holding an admission.
   *
   * @returns `undefined` when a slot was free at once, else a promise that resolves when one is handed over
   */
  acquire(): Promise<void> | undefined {
    if (this.#active < this.#concurrency) {
      this.#active++;
      return undefined;
    }
    return new Promise<void>((resolve) => {
      this.#waiting.push(resolve);
    });
  }

  /** Gives back a slot and its admission; the longest waiter gets the slot. */
  release(): void {
    this.#admitted--;
    if (this.#head < this.#waiting.length) {
      const next = this.#waiting[this.#head]!;
      this.#waiting[this.#head++] = undefined as never;
      if (this.#head === this.#waiting.length) {
        this.#waiting.length = 0;
        this.#head = 0;
      }
      next();
    } else {
      this.#active--;
    }
  }

  /**
   * Admits, waits for a slot, runs `task` and releases.
   *
   * @param task - the key derivation
   * @returns what `task` returns
   * @throws {@link KdfBusyError} when all admissions are held (the task does not run)
   */
  async run<T>(task: () => Promise<T> | T): Promise<T> {
    this.admit();
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }
}
