import {
  ALG_AES_256_GCM,
  FORMAT_VERSION,
  FORMAT_VERSION_V1,
  IV_BYTES,
  LENGTH_PREFIX_BYTES,
  PAD_MIN_BYTES,
  SALT_BYTES,
  TAG_BYTES,
} from './envelope.js';
import { isAcceptedKdf, type KdfParams } from './kdf.js';
import { ID_BYTES } from './token.js';

/**
 * One stored secret, format v2 (or v1, still read). Nothing in it is readable without the
 * `secret_key` and the passphrase.
 */
export interface SecretRecord {
  /** 32-byte lookup id, `HKDF(T, "vanish/v1/lookup")`. The store's key. */
  id: Buffer;
  /** format version: `2` (padded plaintext frame) for new records, `1` for older ones */
  v: number;
  /** scrypt parameters used for this record */
  kdf: KdfParams;
  /** 16-byte scrypt/HKDF salt */
  salt: Buffer;
  /** 12-byte GCM IV; also the record's identity for {@link SecretStore.claim} */
  iv: Buffer;
  /** ciphertext followed by the 16-byte GCM tag */
  ciphertext: Buffer;
  /** creation time, epoch milliseconds */
  createdAt: number;
  /** expiry time, epoch milliseconds; the record is dead once `expiresAt <= now` */
  expiresAt: number;
  /** reveal attempts allowed before the record is destroyed */
  maxAttempts: number;
  /** reveal attempts counted so far (each {@link SecretStore.reserve} adds one) */
  attempts: number;
}

/** The algorithm every v1 and v2 record uses. */
export const RECORD_ALGORITHM = ALG_AES_256_GCM;

/**
 * Checks that a record read from a store is well-formed v1 or v2 with allow-listed KDF parameters.
 *
 * @remarks Run before any key derivation, so a tampered record cannot make the server run
 * an expensive scrypt or allocate unbounded memory.
 * @param record - untrusted record from a store
 * @param allowInsecureKdf - also accept the `insecure-test` KDF profile; default `false`
 * @returns `true` when the record is safe to try to open
 */
export function isReadableRecord(record: SecretRecord, allowInsecureKdf = false): boolean {
  const { kdf } = record;
  const minCiphertext = record.v === FORMAT_VERSION ? LENGTH_PREFIX_BYTES + PAD_MIN_BYTES + TAG_BYTES : TAG_BYTES;
  return (
    (record.v === FORMAT_VERSION || record.v === FORMAT_VERSION_V1) &&
    kdf !== null &&
    typeof kdf === 'object' &&
    isAcceptedKdf(kdf, allowInsecureKdf) &&
    Buffer.isBuffer(record.id) &&
    record.id.length === ID_BYTES &&
    Buffer.isBuffer(record.salt) &&
    record.salt.length === SALT_BYTES &&
    Buffer.isBuffer(record.iv) &&
    record.iv.length === IV_BYTES &&
    Buffer.isBuffer(record.ciphertext) &&
    record.ciphertext.length >= minCiphertext &&
    Number.isSafeInteger(record.createdAt) &&
    Number.isSafeInteger(record.expiresAt) &&
    record.createdAt >= 0 &&
    record.expiresAt >= 0 &&
    Number.isSafeInteger(record.maxAttempts) &&
    record.maxAttempts >= 1 &&
    record.maxAttempts <= 0xffffffff
  );
}

/**
 * Deep-copies a record so callers and stores never share buffers.
 *
 * @param record - the record to copy
 * @returns an independent copy
 */
export function cloneRecord(record: SecretRecord): SecretRecord {
  return {
    ...record,
    kdf: { N: record.kdf.N, r: record.kdf.r, p: record.kdf.p },
    id: Buffer.from(record.id),
    salt: Buffer.from(record.salt),
    iv: Buffer.from(record.iv),
    ciphertext: Buffer.from(record.ciphertext),
  };
}
