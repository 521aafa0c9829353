import { createHmac, randomBytes } from 'node:crypto';

/** Format version byte that starts every v1 `secret_key`. */
export const TOKEN_VERSION = 0x01;
/** Bytes of random token material `T`. */
export const TOKEN_BYTES = 32;
/** Length of a `secret_key` string: base64url of 33 bytes. */
export const SECRET_KEY_LENGTH = 44;
/** Bytes of a lookup id. */
export const ID_BYTES = 32;

const SECRET_KEY_PATTERN = /^[A-Za-z0-9_-]{44}$/;
/** HKDF-Expand input for the first (only) block: info ‖ 0x01. */
const LOOKUP_INFO_BLOCK_1 = Buffer.from('vanish/v1/lookup\x01', 'latin1');
/** HKDF's salt when none is given: HashLen zero bytes. */
const ZERO_SALT = Buffer.alloc(32);

/** A freshly generated token: the raw material `T` and its public `secret_key` form. */
export interface GeneratedToken {
  /** The 32 random bytes `T`. The caller zeroes it when done. */
  token: Buffer;
  /** `base64url(0x01 ‖ T)`, 44 characters. */
  secretKey: string;
}

/**
 * Generates a new random token.
 *
 * @returns the token bytes (caller zeroes them) and the `secret_key` to hand out
 */
export function generateToken(): GeneratedToken {
  const framed = randomBytes(1 + TOKEN_BYTES);
  framed[0] = TOKEN_VERSION;
  const secretKey = framed.toString('base64url');
  const token = Buffer.from(framed.subarray(1));
  framed.fill(0);
  return { token, secretKey };
}

/**
 * Parses a `secret_key` into its token bytes `T`.
 *
 * @remarks
 * Accepts only `^[A-Za-z0-9_-]{44}$` whose first decoded byte is `0x01`. Performs no I/O.
 *
 * @param secretKey - untrusted input
 * @returns a fresh buffer with `T` (caller zeroes it), or `null` when malformed
 */
export function parseSecretKey(secretKey: unknown): Buffer | null {
  if (typeof secretKey !== 'string' || !SECRET_KEY_PATTERN.test(secretKey)) return null;
  const framed = Buffer.from(secretKey, 'base64url');
  if (framed.length !== 1 + TOKEN_BYTES || framed[0] !== TOKEN_VERSION) {
    framed.fill(0);
    return null;
  }
  const token = Buffer.from(framed.subarray(1));
  framed.fill(0);
  return token;
}

/**
 * Derives the store lookup id from the token: `HKDF-SHA256(T, salt=∅, "vanish/v1/lookup", 32)`.
 *
 * @remarks The id is one-way: `T` cannot be recovered from it. RFC 5869 written out with two
 * HMAC-SHA256 calls (cheaper than `hkdfSync`, which builds a `KeyObject` per call); the
 * known-answer tests check it against an independent HKDF.
 * @param token - the 32 token bytes
 * @returns the 32-byte id
 */
export function deriveLookupId(token: Buffer): Buffer {
  const prk = createHmac('sha256', ZERO_SALT).update(token).digest();
  try {
    return createHmac('sha256', prk).update(LOOKUP_INFO_BLOCK_1).digest();
  } finally {
    prk.fill(0);
  }
}
