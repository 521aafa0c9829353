// The supported public API of @vanish/core: what an app embedding vanish or an
// adapter author needs. Low-level building blocks live in ./internal.ts
// (`@vanish/core/internal`), which is unsupported and may change in any release.
export { systemClock, type Clock } from './clock.js';
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
export { KDF_PROFILES, type KdfParams, type KdfProfileName } from './kdf.js';
export type { SecretRecord } from './record.js';
export type { SecretStore } from './store.js';
export { parseSecretKey, SECRET_KEY_LENGTH } from './token.js';
export {
  PASSPHRASE_MAX_BYTES,
  PASSPHRASE_MAX_CHARS,
  PASSPHRASE_MIN_CHARS,
  Vanish,
  VANISH_DEFAULTS,
  type CreatedSecret,
  type CreateSecretInput,
  type RevealSecretInput,
  type VanishOptions,
} from './vanish.js';
