/**
 * Counts the UTF-8 bytes of a string the way the server does (`Buffer.byteLength`), without
 * making a copy of it. A lone surrogate counts 3 bytes, as its replacement character does.
 *
 * @param text - the secret
 * @returns UTF-8 bytes
 */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Counts characters as people see them (code points, so an emoji counts once).
 *
 * @param text - the secret
 * @returns characters
 */
export function characterCount(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
    n++;
  }
  return n;
}

/**
 * Formats a whole number with the reader's digit grouping.
 *
 * @param n - the number
 * @param locale - a BCP 47 locale; default the browser's
 * @returns e.g. `65,536`
 */
export function formatNumber(n: number, locale?: string): string {
  return new Intl.NumberFormat(locale).format(n);
}

/** The size line under the secret field. */
export interface SizeLine {
  /** e.g. `12 characters · 14 of 65,536 bytes` */
  text: string;
  /** more bytes than the server takes */
  over: boolean;
}

/**
 * The character and byte count shown under the secret.
 *
 * @param text - the secret
 * @param maxBytes - the server's `max_secret_bytes`
 * @param locale - a BCP 47 locale; default the browser's
 * @returns the line and whether the secret is too large
 */
export function sizeLine(text: string, maxBytes: number, locale?: string): SizeLine {
  const bytes = utf8Bytes(text);
  const chars = characterCount(text);
  const over = bytes > maxBytes;
  const base = `${formatNumber(chars, locale)} ${chars === 1 ? 'character' : 'characters'} · ${formatNumber(bytes, locale)} of ${formatNumber(maxBytes, locale)} bytes`;
  return { text: over ? `${base} — too large by ${formatNumber(bytes - maxBytes, locale)} bytes` : base, over };
}
