import { InvalidPassphraseError, VanishError, type VanishErrorCode } from '@vanish/core';

/** Every error code the HTTP API sends. Stable: clients may switch on them. */
export type HttpErrorCode =
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

/** The one table from error code to HTTP status. */
export const HTTP_STATUS: Readonly<Record<HttpErrorCode, number>> = Object.freeze({
  invalid_request: 400,
  invalid_passphrase: 401,
  secret_not_found: 404,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
});

/** How library error codes surface over HTTP; codes that must never reach a client become `internal`. */
const FROM_CORE: Readonly<Record<VanishErrorCode, HttpErrorCode>> = Object.freeze({
  invalid_request: 'invalid_request',
  payload_too_large: 'payload_too_large',
  invalid_passphrase: 'invalid_passphrase',
  secret_not_found: 'secret_not_found',
  unavailable: 'unavailable',
  conflict: 'internal',
  configuration: 'internal',
  internal: 'internal',
});

const INTERNAL_MESSAGE = 'Something went wrong on the server; the request changed nothing you can observe. Try again.';

/** An error the HTTP layer raises itself (routing, media types). */
export class HttpError extends Error {
  /** stable code; the status comes from {@link HTTP_STATUS} */
  readonly code: HttpErrorCode;
  /** extra response headers, e.g. `Allow` */
  readonly headers: Readonly<Record<string, string>>;

  /**
   * @param code - stable code
   * @param message - a sentence a person can act on; never secret material
   * @param headers - extra response headers
   */
  constructor(code: HttpErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.code = code;
    this.headers = headers;
  }
}

/** The JSON error body and status for one failure. */
export interface ErrorReply {
  status: number;
  code: HttpErrorCode;
  message: string;
  headers: Readonly<Record<string, string>>;
  /** true when the error was unexpected (the caller logs it) */
  unexpected: boolean;
  /** `invalid_passphrase` only: wrong tries left (0: the secret is destroyed) */
  attemptsLeft?: number;
}

/**
 * Maps any thrown value to the reply the client sees.
 *
 * @remarks Unknown errors become a generic 500 `internal`: no message, no stack trace leaks.
 * @param err - what was thrown
 * @returns status, code, message and extra headers
 */
export function toErrorReply(err: unknown): ErrorReply {
  if (err instanceof HttpError) {
    return { status: HTTP_STATUS[err.code], code: err.code, message: err.message, headers: err.headers, unexpected: false };
  }
  if (err instanceof VanishError) {
    const code = FROM_CORE[err.code];
    const internal = code === 'internal';
    return {
      status: HTTP_STATUS[code],
      code,
      message: internal ? INTERNAL_MESSAGE : err.message,
      headers: code === 'unavailable' ? { 'Retry-After': '1' } : {},
      unexpected: internal || code === 'unavailable',
      ...(err instanceof InvalidPassphraseError && err.attemptsLeft !== undefined ? { attemptsLeft: err.attemptsLeft } : {}),
    };
  }
  return { status: 500, code: 'internal', message: INTERNAL_MESSAGE, headers: {}, unexpected: true };
}

/**
 * The JSON error body every failure carries.
 *
 * @param reply - code and message (and `attemptsLeft` for `invalid_passphrase`)
 * @returns `{ error: { code, message } }`, plus `attempts_left` for `invalid_passphrase`
 */
export function errorBody(
  reply: Pick<ErrorReply, 'code' | 'message' | 'attemptsLeft'>,
): { error: { code: HttpErrorCode; message: string; attempts_left?: number } } {
  const attempts = reply.attemptsLeft === undefined ? {} : { attempts_left: reply.attemptsLeft };
  return { error: { code: reply.code, message: reply.message, ...attempts } };
}
