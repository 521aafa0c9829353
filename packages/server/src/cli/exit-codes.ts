import {
  EndpointNotFoundError,
  InvalidLinkError,
  InvalidPassphraseError,
  InvalidRequestError,
  PayloadTooLargeError,
  RateLimitedError,
  SecretNotFoundError,
  UnavailableError,
  VanishApiError,
  VanishNetworkError,
  VanishProtocolError,
} from '@vanish/client';
import { UsageError } from './args.js';

/**
 * The exit codes of `vanish share` and `vanish reveal`, one per kind of failure, stable across
 * releases so scripts can branch on them.
 */
export const EXIT = {
  /** done */
  ok: 0,
  /** anything else: a server error (500), an answer that is not the vanish API, an unexpected failure */
  other: 1,
  /** wrong usage or input refused: an unknown flag, a bad --ttl, empty or non-UTF-8 input, a passphrase argument, a link without key, a request the server called invalid (400) */
  usage: 2,
  /** the secret does not exist: never did, expired, already read, or destroyed (404) */
  notFound: 3,
  /** wrong passphrase (401); stderr says how many tries are left */
  wrongPassphrase: 4,
  /** rate limited (429); stderr says when to retry */
  rateLimited: 5,
  /** the server is unreachable (network, DNS, TLS, refused connection) or unavailable (503) */
  unavailable: 6,
  /** the secret is larger than the server accepts (413) */
  tooLarge: 7,
  /** cancelled at the prompt (Ctrl-C), like a shell's 128 + SIGINT */
  cancelled: 130,
} as const;

/** The exit-code table as `--help` and the README print it. */
export const EXIT_CODE_HELP: readonly (readonly [number, string])[] = [
  [EXIT.ok, 'done'],
  [EXIT.other, 'another failure (a server error, an answer that is not a vanish server)'],
  [EXIT.usage, 'usage or input refused (unknown flag, bad --ttl, empty or non-UTF-8 input, a request the server called invalid)'],
  [EXIT.notFound, 'secret not found: never existed, expired, already read or destroyed'],
  [EXIT.wrongPassphrase, 'wrong passphrase (stderr says how many tries are left)'],
  [EXIT.rateLimited, 'rate limited (stderr says when to retry)'],
  [EXIT.unavailable, 'server unreachable or unavailable (network, refused connection, 503)'],
  [EXIT.tooLarge, 'the secret is larger than the server accepts'],
  [EXIT.cancelled, 'cancelled at the prompt (Ctrl-C)'],
];

/** Ctrl-C or Ctrl-D at a prompt. */
export class CancelledError extends Error {
  constructor() {
    super('Cancelled.');
    this.name = 'CancelledError';
  }
}

/** What the command prints and returns for a failure. */
export interface Failure {
  /** the exit code (see {@link EXIT}) */
  code: number;
  /** one or more sentences for stderr, without secret material */
  message: string;
}

function retryIn(seconds: number | undefined): string {
  return seconds === undefined ? 'Try again later.' : `Retry in ${seconds} second${seconds === 1 ? '' : 's'}.`;
}

function withRequestId(message: string, err: VanishApiError): string {
  return err.requestId === undefined ? message : `${message} (request id ${err.requestId})`;
}

/**
 * Maps an error of a client command to its exit code and a message.
 *
 * @remarks Messages come from the client's error classes and the server's error bodies, which
 * never carry a secret, a passphrase or a key; an unexpected error shows only its class name.
 * @param err - what the command threw
 * @returns the exit code and the message for stderr
 */
export function describeFailure(err: unknown): Failure {
  if (err instanceof UsageError || err instanceof InvalidLinkError) return { code: EXIT.usage, message: err.message };
  if (err instanceof CancelledError) return { code: EXIT.cancelled, message: err.message };
  if (err instanceof InvalidPassphraseError) {
    const left = err.attemptsLeft;
    const tail =
      left === undefined
        ? ''
        : left === 0
          ? ' That was the last try: the secret is now destroyed.'
          : ` ${left} ${left === 1 ? 'try' : 'tries'} left.`;
    return { code: EXIT.wrongPassphrase, message: `Wrong passphrase.${tail}` };
  }
  if (err instanceof SecretNotFoundError) {
    return {
      code: EXIT.notFound,
      message: 'Secret not found: it never existed, expired, was already read, or was destroyed after too many wrong passphrases.',
    };
  }
  if (err instanceof RateLimitedError) {
    return { code: EXIT.rateLimited, message: `Rate limited: too many requests from this address. ${retryIn(err.retryAfterSeconds)}` };
  }
  if (err instanceof UnavailableError) {
    return {
      code: EXIT.unavailable,
      message: withRequestId(`The server is unavailable right now. ${retryIn(err.retryAfterSeconds)}`, err),
    };
  }
  if (err instanceof VanishNetworkError) return { code: EXIT.unavailable, message: err.message };
  if (err instanceof PayloadTooLargeError) return { code: EXIT.tooLarge, message: `Too large: ${err.message}` };
  if (err instanceof InvalidRequestError) return { code: EXIT.usage, message: `Refused by the server: ${err.message}` };
  if (err instanceof EndpointNotFoundError) {
    return { code: EXIT.other, message: 'The server has no such endpoint: is --server (or VANISH_URL) the address of a vanish server?' };
  }
  if (err instanceof VanishApiError)
    return { code: EXIT.other, message: withRequestId(`The server answered ${err.status} ${err.code}: ${err.message}`, err) };
  if (err instanceof VanishProtocolError) return { code: EXIT.other, message: err.message };
  const name = err instanceof Error ? err.name : typeof err;
  return { code: EXIT.other, message: `Unexpected failure (${name}).` };
}
