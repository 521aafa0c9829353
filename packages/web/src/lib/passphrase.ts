/**
 * Letters and digits a person can read aloud and retype without confusing them: no `l`, `o`,
 * `I`, `O`, `0` or `1`. 56 symbols, so each one carries log2(56) ≈ 5.8 bits.
 */
export const PASSPHRASE_ALPHABET = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** Shape of a generated passphrase: groups of characters joined by `-`. */
export interface PassphraseShape {
  /** number of groups; default 5 */
  groups?: number;
  /** characters per group; default 4 */
  groupSize?: number;
}

/** Fills a byte array with random bytes; `crypto.getRandomValues` by default. */
export type RandomBytes = (bytes: Uint8Array) => Uint8Array;

const cryptoRandom: RandomBytes = (bytes) => globalThis.crypto.getRandomValues(bytes);

/**
 * Generates a strong random passphrase in the browser, e.g. `Hq7v-mcKe-9tPz-aW3n-xRfu`.
 *
 * @remarks Each character is drawn uniformly from {@link PASSPHRASE_ALPHABET} by rejection
 * sampling over `crypto.getRandomValues` bytes (a byte ≥ 224 = 4 × 56 is discarded, so no
 * character is likelier than another). The default 5 groups of 4 give 20 characters,
 * about 116 bits — beyond brute force even against a stolen database.
 * @param shape - groups and group size
 * @param random - the random source (tests pass a fixed one)
 * @returns the passphrase (24 characters with the default shape)
 */
export function generatePassphrase(shape: PassphraseShape = {}, random: RandomBytes = cryptoRandom): string {
  const groups = shape.groups ?? 5;
  const groupSize = shape.groupSize ?? 4;
  const n = PASSPHRASE_ALPHABET.length;
  const limit = 256 - (256 % n);
  const chars: string[] = [];
  const buffer = new Uint8Array(64);
  while (chars.length < groups * groupSize) {
    random(buffer);
    for (const byte of buffer) {
      if (byte >= limit) continue;
      chars.push(PASSPHRASE_ALPHABET[byte % n]!);
      if (chars.length === groups * groupSize) break;
    }
  }
  buffer.fill(0);
  const parts: string[] = [];
  for (let i = 0; i < groups; i++) parts.push(chars.slice(i * groupSize, (i + 1) * groupSize).join(''));
  return parts.join('-');
}

/**
 * The strength of a generated passphrase.
 *
 * @param shape - groups and group size
 * @returns bits of entropy, rounded down
 */
export function passphraseBits(shape: PassphraseShape = {}): number {
  return Math.floor((shape.groups ?? 5) * (shape.groupSize ?? 4) * Math.log2(PASSPHRASE_ALPHABET.length));
}
