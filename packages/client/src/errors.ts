/**
 * Every error code the vanish HTTP API sends, in `{"error": {"code": …}}`.
 * Stable: the client has one error class per code (see {@link errorForCode}).
 */
export type ApiErrorCode =
  | 'invalid_request'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'invalid_passphrase'
  | 'secret_not_found'
  | 'rate_limited'
  | 'unavailable'
  | 'internal'
  | 'not_found'
  | 'method_not_allowed';

/**
 * Base class of every error this client throws.
 *
 * @remarks Messages never contain a secret, a passphrase or a secret key.
 */
export class VanishClientError extends Error {
  /**
   * @param message - a sentence without secret material
   * @param options - `cause`: the underlying error, if any
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** What the API said about a failure, as the error classes receive it. */
export interface ApiErrorInit {
  /** the HTTP status */
  status: number;
  /** the server's `X-Request-Id`, for its operator's logs */
  requestId: string | undefined;
  /** the server's sentence */
  message: string;
  /** seconds from `Retry-After`, when the response had one */
  retryAfterSeconds?: number | undefined;
  /** `attempts_left` from an `invalid_passphrase` body */
  attemptsLeft?: number | undefined;
}

/**
 * The API answered with an error. Each API error code has its own subclass; a code this client
 * does not know (a newer server) arrives as this base class with the code as sent.
 */
export class VanishApiError extends VanishClientError {
  /** the API's error code (see {@link ApiErrorCode}; a newer server may send others) */
  readonly code: string;
  /** the HTTP status */
  readonly status: number;
  /** the server's `X-Request-Id`, if it sent one: quote it to the server's operator */
  readonly requestId: string | undefined;

  /**
   * @param code - the API's error code
   * @param init - status, request id and message
   */
  constructor(code: string, init: ApiErrorInit) {
    super(init.message);
    this.code = code;
    this.status = init.status;
    this.requestId = init.requestId;
  }
}

/** 400 `invalid_request`: a field is missing or wrong (a TTL out of bounds, a passphrase too short or long). */
export class InvalidRequestError extends VanishApiError {
  /** @param init - what the server said */
  constructor(init: ApiErrorInit) {
    super('invalid_request', init);
  }
}

/** 401 `invalid_passphrase`: the passphrase is wrong; the try was counted. */
export class InvalidPassphraseError extends VanishApiError {
  /**
   * Wrong tries the secret still allows; `0` means this try destroyed it.
   * `undefined` only from a server too old to say.
   */
  readonly attemptsLeft: number | undefined;

  /** @param init - what the server said, with `attemptsLeft` */
  constructor(init: ApiErrorInit) {
    super('invalid_passphrase', init);
    this.attemptsLeft = init.attemptsLeft;
  }
}

/**
 * 404 `secret_not_found`: the one answer for every unreadable secret — never existed, expired,
 * already read, or destroyed after too many wrong passphrases.
 */
export class SecretNotFoundError extends VanishApiError {
  /** @param init - what the server said */
  constructor(init: ApiErrorInit) {
    super('secret_not_found', init);
  }
}

/** 404 `not_found`: no such endpoint — usually a wrong `baseUrl`. */
export class EndpointNotFoundError extends VanishApiError {
  /** @param init - what the server said */
  constructor(init: ApiErrorInit) {
    super('not_found', init);
  }
}

/** 405 `method_not_allowed`: the endpoint exists but not with this method (a proxy rewrote the request?). */
export class MethodNotAllowedError extends VanishApiError {
  /** @param init - what the server said */
  constructor(init: ApiErrorInit) {
    super('method_not_allowed', init);
  }
}

/** 413 `payload_too_large`: the secret is larger than the server's `max_secret_bytes` (UTF-8 bytes). */
export class PayloadTooLargeError extends VanishApiError {
  /** @param init - what the server said */
  constructor(init: ApiErrorInit) {
    super('payload_too_large', init);
  }
}

/** 415 `unsupported_media_type`: the body's media type was not JSON or a form (a proxy rewrote it?). */
export class UnsupportedMediaTypeError extends VanishApiError {
  /** @param init - what the server said */
  constructor(init: ApiErrorInit) {
    super('unsupported_media_type', init);
  }
}

/** 429 `rate_limited`: too many requests from this address. Nothing was changed. */
export class RateLimitedError extends VanishApiError {
  /** seconds to wait before retrying, from `Retry-After` (`undefined` if the server sent none) */
  readonly retryAfterSeconds: number | undefined;

  /** @param init - what the server said, with `retryAfterSeconds` */
  constructor(init: ApiErrorInit) {
    super('rate_limited', init);
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

/** 503 `unavailable`: the server's store or key derivation is busy or down. Safe to retry. */
export class UnavailableError extends VanishApiError {
  /** seconds to wait before retrying, from `Retry-After` (`undefined` if the server sent none) */
  readonly retryAfterSeconds: number | undefined;

  /** @param init - what the server said, with `retryAfterSeconds` */
  constructor(init: ApiErrorInit) {
    super('unavailable', init);
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

/** 500 `internal`: the server failed unexpectedly; the request changed nothing observable. */
export class InternalServerError extends VanishApiError {
  /** @param init - what the server said */
  constructor(init: ApiErrorInit) {
    super('internal', init);
  }
}

/** The server could not be reached: DNS, refused connection, TLS, CORS, an abort or a redirect. */
export class VanishNetworkError extends VanishClientError {}

/** The server answered something that is not the vanish API (not JSON, or the wrong shape). */
export class VanishProtocolError extends VanishClientError {
  /** the HTTP status of the unexpected answer */
  readonly status: number;

  /**
   * @param message - what was wrong with the answer
   * @param status - its HTTP status
   */
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

/** A link or key given to the client has no key in it (nothing was sent). */
export class InvalidLinkError extends VanishClientError {}

const CLASSES: Readonly<Record<ApiErrorCode, new (init: ApiErrorInit) => VanishApiError>> = {
  invalid_request: InvalidRequestError,
  invalid_passphrase: InvalidPassphraseError,
  secret_not_found: SecretNotFoundError,
  not_found: EndpointNotFoundError,
  method_not_allowed: MethodNotAllowedError,
  payload_too_large: PayloadTooLargeError,
  unsupported_media_type: UnsupportedMediaTypeError,
  rate_limited: RateLimitedError,
  unavailable: UnavailableError,
  internal: InternalServerError,
};

/**
 * Builds the error for an API error code.
 *
 * @param code - `error.code` from the body
 * @param init - status, request id, message and the code's data
 * @returns an instance of the code's class, or of {@link VanishApiError} for an unknown code
 */
export function errorForCode(code: string, init: ApiErrorInit): VanishApiError {
  const Class = Object.hasOwn(CLASSES, code) ? CLASSES[code as ApiErrorCode] : undefined;
  return Class ? new Class(init) : new VanishApiError(code, init);
}
