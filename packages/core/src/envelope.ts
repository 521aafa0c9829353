import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { KdfParams } from './kdf.js';

/** The record format version this code writes: v2, the plaintext padded inside the AEAD. */
export const FORMAT_VERSION = 2;
/** The first format: plaintext encrypted as is (its length shows). Still read, never written. */
export const FORMAT_VERSION_V1 = 1;
/** Bytes of the big-endian length prefix of a v2 plaintext frame. */
export const LENGTH_PREFIX_BYTES = 4;
/** Every v2 secret is padded to at least this many bytes (then padmé above it). */
export const PAD_MIN_BYTES = 64;
/** Algorithm id 1: AES-256-GCM with a 12-byte IV and a 16-byte tag. */
export const ALG_AES_256_GCM = 1;
/** Bytes of a GCM IV. */
export const IV_BYTES = 12;
/** Bytes of a GCM tag (always checked in full). */
export const TAG_BYTES = 16;
/** Bytes of the KDF salt. */
export const SALT_BYTES = 16;
/** Bytes of every derived key. */
export const KEY_BYTES = 32;

const KEY_INFO_PREFIX = Buffer.from('vanish/v1/key', 'utf8');
const HKDF_BLOCK_1 = Buffer.from([1]);
const AAD_MAGIC = Buffer.from('vanish', 'ascii');

/** Record metadata bound into the AEAD's associated data: tampering with any of it fails decryption. */
export interface EnvelopeMetadata {
  v: number;
  kdf: KdfParams;
  id: Buffer;
  createdAt: number;
  expiresAt: number;
  maxAttempts: number;
}

/**
 * Encodes record metadata as the fixed binary associated data of format v1.
 *
 * @remarks
 * Layout (big-endian): `"vanish"`, u8 version, u8 algorithm, u32 N, u32 r, u32 p,
 * u8 id length, id, u64 createdAt, u64 expiresAt, u32 maxAttempts.
 * @param meta - the record's metadata
 * @returns the associated data
 */
export function encodeAssociatedData(meta: EnvelopeMetadata): Buffer {
  const out = Buffer.alloc(AAD_MAGIC.length + 2 + 12 + 1 + meta.id.length + 16 + 4);
  let o = AAD_MAGIC.copy(out, 0);
  o = out.writeUInt8(meta.v, o);
  o = out.writeUInt8(ALG_AES_256_GCM, o);
  o = out.writeUInt32BE(meta.kdf.N, o);
  o = out.writeUInt32BE(meta.kdf.r, o);
  o = out.writeUInt32BE(meta.kdf.p, o);
  o = out.writeUInt8(meta.id.length, o);
  o += meta.id.copy(out, o);
  o = out.writeBigUInt64BE(BigInt(meta.createdAt), o);
  o = out.writeBigUInt64BE(BigInt(meta.expiresAt), o);
  out.writeUInt32BE(meta.maxAttempts, o);
  return out;
}

/**
 * Padmé (Nikitin et al., PETS 2019): rounds `length` up so that only its top
 * `floor(log2(E)) + 1` bits (E = floor(log2(length))) may be non-zero. Overhead ≤ 12 %,
 * and it leaks O(log log length) bits of the length instead of O(log length).
 *
 * @param length - bytes, at least 1
 * @returns the padded length, ≥ `length`
 */
export function padme(length: number): number {
  if (length < 2) return length;
  const e = 31 - Math.clz32(length);
  const s = 32 - Math.clz32(e);
  const step = 2 ** (e - s);
  return Math.ceil(length / step) * step;
}

/**
 * Size of the v2 frame for a plaintext of `length` bytes:
 * `4 + max(64, padmé(length))`.
 *
 * @param length - plaintext bytes, at least 1
 * @returns frame bytes (the ciphertext is this plus the 16-byte tag)
 */
export function paddedFrameLength(length: number): number {
  return LENGTH_PREFIX_BYTES + Math.max(PAD_MIN_BYTES, padme(length));
}

/**
 * Builds the v2 plaintext frame from UTF-8 text: `u32be(len) ‖ utf8(text) ‖ zeros`,
 * {@link paddedFrameLength} bytes in all.
 *
 * @param text - the secret
 * @param byteLength - `Buffer.byteLength(text, 'utf8')`, at least 1
 * @returns a fresh buffer holding the secret; the caller zeroes it
 */
export function frameText(text: string, byteLength: number): Buffer {
  const frame = Buffer.alloc(paddedFrameLength(byteLength));
  frame.writeUInt32BE(byteLength, 0);
  frame.write(text, LENGTH_PREFIX_BYTES, 'utf8');
  return frame;
}

/**
 * Checks a decrypted v2 frame and returns the plaintext inside it.
 *
 * @remarks Fails closed: the frame must have exactly the canonical length for its length
 * prefix, the prefix must be at least 1, and every padding byte must be zero.
 * @param frame - the decrypted frame
 * @returns a view into `frame` (zeroing `frame` zeroes it), or `null` when malformed
 */
export function unframePlaintext(frame: Buffer): Buffer | null {
  if (frame.length < LENGTH_PREFIX_BYTES + PAD_MIN_BYTES) return null;
  const length = frame.readUInt32BE(0);
  if (length < 1 || length > frame.length - LENGTH_PREFIX_BYTES || frame.length !== paddedFrameLength(length)) {
    return null;
  }
  let nonZero = 0;
  for (let i = LENGTH_PREFIX_BYTES + length; i < frame.length; i++) nonZero |= frame[i]!;
  if (nonZero !== 0) return null;
  return frame.subarray(LENGTH_PREFIX_BYTES, LENGTH_PREFIX_BYTES + length);
}

/**
 * Derives the data key `K = HKDF-SHA256(T ‖ Kpw, salt, "vanish/v1/key" ‖ id, 32)`.
 *
 * @param token - `T`
 * @param passphraseKey - `Kpw`
 * @param salt - the record's salt
 * @param id - the record's lookup id
 * @returns 32 bytes; the caller zeroes them
 * @remarks RFC 5869 written out with two HMAC-SHA256 calls (one expand block is 32 bytes):
 * no concatenated key material to zero and no `KeyObject` per call, unlike `hkdfSync`.
 * The known-answer tests check it against an independent HKDF.
 */
export function deriveDataKey(token: Buffer, passphraseKey: Buffer, salt: Buffer, id: Buffer): Buffer {
  const prk = createHmac('sha256', salt).update(token).update(passphraseKey).digest();
  try {
    return createHmac('sha256', prk).update(KEY_INFO_PREFIX).update(id).update(HKDF_BLOCK_1).digest();
  } finally {
    prk.fill(0);
  }
}

/** Output of {@link seal}. */
export interface Sealed {
  iv: Buffer;
  /** ciphertext followed by the 16-byte tag */
  ciphertext: Buffer;
}

/**
 * Encrypts with AES-256-GCM.
 *
 * @param key - 32-byte data key
 * @param plaintext - bytes to protect (for v2: the frame from {@link frameText})
 * @param aad - associated data from {@link encodeAssociatedData}
 * @param iv - 12 bytes never used before with this key; default: fresh random bytes
 * @returns IV and ciphertext‖tag
 */
export function seal(key: Buffer, plaintext: Buffer, aad: Buffer, iv: Buffer = randomBytes(IV_BYTES)): Sealed {
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { iv, ciphertext };
}

/**
 * Decrypts and authenticates; returns `null` when the tag does not verify.
 *
 * @remarks The tag is always checked at its full 16 bytes; a truncated tag fails.
 * @param key - 32-byte data key
 * @param iv - the record's IV
 * @param ciphertext - ciphertext‖tag
 * @param aad - associated data rebuilt from the record
 * @returns the plaintext (caller zeroes it) or `null`
 */
export function open(key: Buffer, iv: Buffer, ciphertext: Buffer, aad: Buffer): Buffer | null {
  if (iv.length !== IV_BYTES || ciphertext.length < TAG_BYTES) return null;
  const body = ciphertext.subarray(0, ciphertext.length - TAG_BYTES);
  const tag = ciphertext.subarray(ciphertext.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const first = decipher.update(body);
  try {
    const last = decipher.final();
    const plaintext = Buffer.concat([first, last]);
    first.fill(0);
    return plaintext;
  } catch {
    first.fill(0);
    return null;
  }
}
