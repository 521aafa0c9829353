import { InvalidLinkError } from './errors.js';

/**
 * Builds the share link for a secret key: `<baseUrl>/s#<secretKey>`.
 *
 * @remarks The key is in the fragment, which browsers never send to a server: it stays out of
 * request lines, proxy logs and `Referer` headers. The reveal page reads it from there and sends
 * it only in a `POST /reveal` body.
 * @param baseUrl - where the vanish server is served, e.g. `https://vanish.example.com` (a path
 *   prefix is kept; a trailing slash, query or fragment is dropped)
 * @param secretKey - the `secret_key` from creating the secret
 * @returns the link
 */
export function buildLink(baseUrl: string | URL, secretKey: string): string {
  const url = new URL(String(baseUrl));
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.origin}${path}/s#${secretKey}`;
}

/**
 * Takes the secret key out of a share link, or returns a bare key as it is.
 *
 * @param linkOrKey - a link like `https://host/s#<key>`, or the key itself (surrounding spaces are ignored)
 * @returns the key
 * @throws {@link InvalidLinkError} when the input is empty, or is a URL without a key after `#`
 */
export function parseLink(linkOrKey: string): string {
  const input = linkOrKey.trim();
  const hash = input.indexOf('#');
  const key = hash === -1 ? input : input.slice(hash + 1).trim();
  if (hash === -1 && /^[a-z][a-z0-9+.-]*:\/\//i.test(input)) {
    throw new InvalidLinkError('The link has no secret key: the part after "#" is missing. Copy the whole link.');
  }
  if (key === '') throw new InvalidLinkError('No secret key was given. Paste the whole link, or the key after "#".');
  return key;
}
