/**
 * `@vanish/core/internal`: the low-level building blocks of vanish (envelope, KDF,
 * token and record helpers), exported for vanish's own adapters and server and for
 * audits.
 *
 * @remarks
 * UNSUPPORTED and not for apps: anything here may change or disappear in any
 * release, including patch releases. Apps use `@vanish/core` (the `Vanish` class and
 * the `SecretStore` contract).
 *
 * @packageDocumentation
 */
export {
  ALG_AES_256_GCM,
  deriveDataKey,
  encodeAssociatedData,
  FORMAT_VERSION,
  FORMAT_VERSION_V1,
  frameText,
  IV_BYTES,
  KEY_BYTES,
  LENGTH_PREFIX_BYTES,
  open,
  PAD_MIN_BYTES,
  paddedFrameLength,
  padme,
  SALT_BYTES,
  seal,
  TAG_BYTES,
  unframePlaintext,
  type EnvelopeMetadata,
  type Sealed,
} from './envelope.js';
export {
  ACCEPTED_KDF_PARAMS,
  derivePassphraseKey,
  isAcceptedKdf,
  isInsecureKdf,
  KdfLimiter,
  resolveKdf,
  scryptKey,
  scryptKeyFor,
  scryptMaxmem,
  type KdfLimiterOptions,
} from './kdf.js';
export { cloneRecord, isReadableRecord, RECORD_ALGORITHM } from './record.js';
export { deriveLookupId, generateToken, ID_BYTES, TOKEN_BYTES, TOKEN_VERSION, type GeneratedToken } from './token.js';
export { encodePassphrase } from './vanish.js';
