import { randomBytes } from 'node:crypto';
import { UsageError } from './args.js';

/** Characters in a passphrase made by {@link generatePassphrase}. */
export const GENERATED_PASSPHRASE_CHARS = 24;

/**
 * Bits of entropy in a passphrase made by {@link generatePassphrase}: 24 base64url characters
 * carry 6 bits each, all drawn from the operating system's CSPRNG.
 */
export const GENERATED_PASSPHRASE_BITS = GENERATED_PASSPHRASE_CHARS * 6;

/**
 * Makes a strong random passphrase: 24 base64url characters (`A–Z a–z 0–9 - _`) from 18 random
 * bytes of `crypto.randomBytes`, 144 bits of entropy.
 *
 * @remarks 144 bits is far beyond guessing even without the server's attempt limit; base64url
 * keeps it one word in a terminal (double-click selects it) and safe in any shell quoting.
 * @returns the passphrase
 */
export function generatePassphrase(): string {
  const bytes = randomBytes(GENERATED_PASSPHRASE_CHARS * 0.75);
  const passphrase = bytes.toString('base64url');
  bytes.fill(0);
  return passphrase;
}

/**
 * The passphrase in a passphrase file: its first line, without the line ending (`\n` or `\r\n`).
 *
 * @remarks Everything after the first line is ignored, so a file may keep notes below it. Spaces
 * are kept: they are part of the passphrase.
 * @param bytes - the file's contents
 * @returns the first line
 * @throws {@link UsageError} when the file is not UTF-8 or its first line is empty
 */
export function passphraseFromFile(bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new UsageError('The passphrase file is not valid UTF-8.');
  }
  const end = text.search(/\r?\n/);
  const line = end === -1 ? text : text.slice(0, end);
  if (line === '') throw new UsageError('The passphrase file is empty: its first line is the passphrase.');
  return line;
}
