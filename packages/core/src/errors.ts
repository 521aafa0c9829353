/**
 * Stable, machine-readable error codes. The server maps each to one HTTP status
 * (see `@vanish/server`'s error table); library users can switch on them.
 */
export type VanishErrorCode =
  | 'invalid_request'
  | 'payload_too_large'
  | 'invalid_passphrase'
  | 'secret_not_found'
  | 'unavailable'
  | 'conflict'
  | 'configuration'
  | 'internal';

/**
 * Base class of every error vanish throws on purpose.
 *
 * @remarks
 * Messages are written for people and never contain a secret, a passphrase, a
 * `secret_key` or key material: they are safe to log and to send to a client.
 * The original error, if any, is kept in `cause` for operators (it is never sent
 * to clients by the server).
 */
export class VanishError extends Error {
  /** Stable code; see {@link VanishErrorCode}. */
  readonly code: VanishErrorCode;

  /**
   * @param code - the stable code
   * @param message - a human sentence without any secret material
   * @param options - `cause`: the underlying error, if any
   */
  constructor(code: VanishErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Input was malformed: a wrong type, a missing field, a passphrase of the wrong
 * length, a TTL outside the configured bounds. Nothing was changed.
 */
export class ValidationError extends VanishError {
  /**
   * @param message - what is wrong and how to fix it
   * @param options - `cause`: the underlying error, if any
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid_request', message, options);
  }
}

/** The secret (or request body) is larger than the configured limit. Nothing was changed. */
export class PayloadTooLargeError extends VanishError {
  /** @param message - what the limit is */
  constructor(message: string) {
    super('payload_too_large', message);
  }
}

/**
 * The one answer for every reason a secret cannot be read: unknown, malformed,
 * expired, already read, destroyed, or lost a race. The message is fixed so that
 * callers cannot tell these cases apart.
 */
export class SecretNotFoundError extends VanishError {
  /** The fixed message of every {@link SecretNotFoundError}. */
  static readonly MESSAGE = 'This secret does not exist: it may never have existed, have expired, or have already been read.';

  constructor() {
    super('secret_not_found', SecretNotFoundError.MESSAGE);
  }
}

/**
 * The passphrase did not decrypt the secret. The attempt was counted; after the
 * record's `maxAttempts` wrong tries the secret is destroyed.
 */
export class InvalidPassphraseError extends VanishError {
  /**
   * Wrong passphrases still allowed after this one: `maxAttempts - attempts`.
   * `0` means this was the last one and the secret is now destroyed.
   */
  readonly attemptsLeft: number;

  /** @param attemptsLeft - see {@link InvalidPassphraseError.attemptsLeft} */
  constructor(attemptsLeft: number) {
    super(
      'invalid_passphrase',
      attemptsLeft > 0
        ? 'The passphrase is not correct. The secret is destroyed after too many wrong attempts.'
        : 'The passphrase is not correct. That was the last attempt: the secret has been destroyed.',
    );
    this.attemptsLeft = attemptsLeft;
  }
}

/**
 * The service cannot answer right now: the store is down or timed out, or the
 * key-derivation queue is full. Safe to retry later.
 */
export class UnavailableError extends VanishError {
  /**
   * @param message - what is unavailable (no secret material)
   * @param options - `cause`: the underlying error, if any
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, options);
  }
}

/** The key-derivation queue is full; the request was refused without side effects. */
export class KdfBusyError extends UnavailableError {
  constructor() {
    super('The server is busy deriving keys; retry in a moment.');
  }
}

/** A store was asked to create a record whose id already exists. The existing record is unchanged. */
export class ConflictError extends VanishError {
  /** @param message - which store refused */
  constructor(message = 'A record with this id already exists.', options?: { cause?: unknown }) {
    super('conflict', message, options);
  }
}

/** A configuration value is invalid; the message names the setting. */
export class ConfigurationError extends VanishError {
  /** @param message - names the setting and the accepted values */
  constructor(message: string) {
    super('configuration', message);
  }
}
