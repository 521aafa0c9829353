import {
  InvalidLinkError,
  InvalidPassphraseError,
  InvalidRequestError,
  PayloadTooLargeError,
  RateLimitedError,
  SecretNotFoundError,
  UnavailableError,
  VanishNetworkError,
} from '@vanish/client';
import { formatDuration } from './time.js';

/**
 * The one message for every secret that cannot be read. The page never tells "expired" from
 * "already read" from "never existed": the server does not either.
 */
export const NOT_FOUND_SENTENCE =
  'This secret cannot be shown: it does not exist, has expired, or has already been read or destroyed. ' +
  'Ask the sender to share it again.';

/** What the page shows for an error, and what it means for the form. */
export interface ErrorSentence {
  /** a sentence for people; never raw JSON, never secret material */
  text: string;
  /** the secret is gone for good: the reveal form is of no more use */
  final: boolean;
}

function waitPhrase(seconds: number | undefined): string {
  return seconds === undefined ? 'a minute' : formatDuration(Math.max(1, Math.ceil(seconds)));
}

/**
 * Turns whatever a client call threw into a sentence for the page.
 *
 * @param err - the error (a `@vanish/client` error, or anything)
 * @param maxSecretBytes - the server's limit, for the "too large" sentence
 * @returns the sentence and whether the secret is gone for good
 */
export function errorSentence(err: unknown, maxSecretBytes?: number): ErrorSentence {
  if (err instanceof InvalidPassphraseError) {
    const left = err.attemptsLeft;
    if (left === 0) {
      return { text: 'Wrong passphrase. That was the last try: the secret is now destroyed, and nobody can read it.', final: true };
    }
    if (left === undefined) return { text: 'Wrong passphrase. Check it and try again.', final: false };
    return { text: `Wrong passphrase. ${left} ${left === 1 ? 'try' : 'tries'} left before the secret is destroyed.`, final: false };
  }
  if (err instanceof SecretNotFoundError) return { text: NOT_FOUND_SENTENCE, final: true };
  if (err instanceof InvalidLinkError) {
    return { text: 'This link is incomplete: the secret key after "#" is missing. Ask the sender for the whole link.', final: true };
  }
  if (err instanceof RateLimitedError) {
    return { text: `Too many attempts from your network. Wait ${waitPhrase(err.retryAfterSeconds)}, then try again.`, final: false };
  }
  if (err instanceof UnavailableError) {
    return { text: 'The service is busy or briefly unavailable. Nothing was changed; try again in a moment.', final: false };
  }
  if (err instanceof PayloadTooLargeError) {
    const limit = maxSecretBytes === undefined ? '' : ` The limit is ${new Intl.NumberFormat().format(maxSecretBytes)} bytes.`;
    return { text: `The secret is too large.${limit} Shorten it and try again.`, final: false };
  }
  if (err instanceof InvalidRequestError) return { text: `The server refused this: ${err.message}`, final: false };
  if (err instanceof VanishNetworkError) {
    return { text: 'The server could not be reached. Check your connection and try again.', final: false };
  }
  return { text: 'Something went wrong on the server. Nothing was changed; try again later.', final: false };
}

/** What the send form holds when the sender presses "Create link". */
export interface SendInput {
  secret: string;
  passphrase: string;
  /** UTF-8 bytes of the secret */
  bytes: number;
}

/** The bounds the send form checks before sending. */
export interface SendBounds {
  maxSecretBytes: number;
  passphraseMinChars: number;
  passphraseMaxChars: number;
}

/**
 * Checks the send form the way the server will, so the sender learns of a problem before sending.
 *
 * @param input - the form's values
 * @param bounds - from `GET /limits`
 * @returns the field at fault and a sentence, or `undefined` when the form can be sent
 */
export function checkSendForm(input: SendInput, bounds: SendBounds): { field: 'secret' | 'passphrase'; text: string } | undefined {
  if (input.secret.trim() === '') return { field: 'secret', text: 'Write the secret to share.' };
  if (input.bytes > bounds.maxSecretBytes) {
    return { field: 'secret', text: `The secret is too large: at most ${new Intl.NumberFormat().format(bounds.maxSecretBytes)} bytes.` };
  }
  const chars = [...input.passphrase].length;
  if (chars < bounds.passphraseMinChars || chars > bounds.passphraseMaxChars) {
    return {
      field: 'passphrase',
      text: `The passphrase needs ${bounds.passphraseMinChars} to ${bounds.passphraseMaxChars} characters. Press "Generate" for a strong one.`,
    };
  }
  return undefined;
}
