export { systemClock, type Clock } from './clock.js';
export {
  ALG_AES_256_GCM,
  deriveDataKey,
  encodeAssociatedData,
  FORMAT_VERSION,
  IV_BYTES,
  KEY_BYTES,
  open,
  SALT_BYTES,
  seal,
  TAG_BYTES,
  type EnvelopeMetadata,
  type Sealed,
} from './envelope.js';
export {
  ConfigurationError,
  ConflictError,
  InvalidPassphraseError,
  KdfBusyError,
  PayloadTooLargeError,
  SecretNotFoundError,
  UnavailableError,
  ValidationError,
  VanishError,
  type VanishErrorCode,
} from './errors.js';
export {
  ACCEPTED_KDF_PARAMS,
  derivePassphraseKey,
  isAcceptedKdf,
  KDF_PROFILES,
  KdfLimiter,
  resolveKdf,
  scryptMaxmem,
  type KdfLimiterOptions,
  type KdfParams,
  type KdfProfileName,
} from './kdf.js';
export { cloneRecord, isReadableRecord, RECORD_ALGORITHM, type SecretRecord } from './record.js';
export type { SecretStore } from './store.js';
export {
  deriveLookupId,
  generateToken,
  ID_BYTES,
  parseSecretKey,
  SECRET_KEY_LENGTH,
  TOKEN_BYTES,
  TOKEN_VERSION,
  type GeneratedToken,
} from './token.js';
export {
  PASSPHRASE_MAX_CHARS,
  PASSPHRASE_MIN_CHARS,
  validatePassphrase,
  Vanish,
  VANISH_DEFAULTS,
  type CreatedSecret,
  type CreateSecretInput,
  type RevealSecretInput,
  type VanishOptions,
} from './vanish.js';
