import type { EventEmitter } from 'node:events';
import { PayloadTooLargeError } from '@vanish/core';
import { HttpError } from './errors.js';

/** A request body as both engines expose it: a readable stream of chunks. */
export interface BodySource extends EventEmitter {
  pause(): unknown;
  resume(): unknown;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * How long a request body may take to arrive in all. Shorter than uWebSockets.js's fixed
 * 10 s idle timeout, so a stalled upload gets the same 400 on both engines.
 */
export const BODY_TIMEOUT_MS = 8_000;

/**
 * Reads a request body, refusing it before buffering past `limit` bytes.
 *
 * @remarks
 * A declared `Content-Length` over the limit is refused without reading a byte;
 * a chunked body is counted as it arrives and abandoned at the limit. A request
 * with neither header has no body (HTTP/1.1 rules), so nothing is awaited.
 * Every chunk the stream hands over is zeroed once the body is copied out or abandoned.
 * @param openSource - opens the request stream (called only when there is a body), or hands
 * over the whole body as chunks when it has already arrived (they are wiped like streamed ones)
 * @param headers - `content-length` and `transfer-encoding` values, if any
 * @param limit - most bytes accepted
 * @param timeoutMs - the whole body must arrive within this
 * @returns the body
 * @throws {@link PayloadTooLargeError} past the limit
 * @throws {@link HttpError} `invalid_request` for a malformed `Content-Length`, a
 * `Transfer-Encoding` other than `chunked`, a body slower than `timeoutMs`, or one cut
 * off: shorter than its `Content-Length`, or a stream that errs or closes before its end
 */
export function readBody(
  openSource: () => BodySource | Uint8Array[],
  headers: { contentLength: string | undefined; transferEncoding: string | undefined },
  limit: number,
  timeoutMs = BODY_TIMEOUT_MS,
): Promise<Buffer> {
  const { contentLength, transferEncoding } = headers;
  let declared: number | undefined;
  if (contentLength !== undefined) {
    if (!/^\d{1,15}$/.test(contentLength)) {
      return Promise.reject(new HttpError('invalid_request', 'The Content-Length header is malformed.'));
    }
    declared = Number(contentLength);
    if (declared > limit) return Promise.reject(tooLarge(limit));
    if (declared === 0) return Promise.resolve(Buffer.alloc(0));
  } else if (transferEncoding === undefined) {
    return Promise.resolve(Buffer.alloc(0));
  }
  if (transferEncoding !== undefined && transferEncoding !== 'chunked') {
    // hyper-express streams only an exact "chunked"; anything else would never end.
    return Promise.reject(new HttpError('invalid_request', 'Only "Transfer-Encoding: chunked" is supported.'));
  }
  const source = openSource();
  if (Array.isArray(source)) return wholeBody(source, declared, limit);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const cleanup = () => {
      clearTimeout(deadline);
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      source.off('close', onClose);
    };
    /** Stops reading, wipes what was read, and fails with `err`. */
    const abandon = (err: unknown) => {
      cleanup();
      source.pause();
      for (const c of chunks) c.fill(0);
      reject(err);
    };
    const deadline = setTimeout(() => abandon(new HttpError('invalid_request', 'The request body did not arrive in time.')), timeoutMs);
    const onData = (chunk: Uint8Array) => {
      // A view, never a copy: wiping it wipes the stream's own buffer.
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      total += chunk.byteLength;
      if (total > limit) abandon(tooLarge(limit));
    };
    const onEnd = () => {
      // A stream may end normally when its client went away (hyper-express does): a body
      // short of its declared length is not the body that was sent.
      if (declared !== undefined && total !== declared) return abandon(cutOff());
      cleanup();
      const body = Buffer.concat(chunks, total);
      for (const c of chunks) c.fill(0);
      resolve(body);
    };
    // The client went away mid-body (node:http: "aborted", ECONNRESET): a 400 like any bad body, not a 500.
    const onError = (err: unknown) => abandon(err instanceof HttpError ? err : cutOff());
    const onClose = () => abandon(cutOff());
    source.on('data', onData);
    source.on('end', onEnd);
    source.on('error', onError);
    source.on('close', onClose);
    source.resume();
  });
}

/** {@link readBody} for a body that has wholly arrived: the same checks, no stream. */
function wholeBody(chunks: Uint8Array[], declared: number | undefined, limit: number): Promise<Buffer> {
  let total = 0;
  for (const c of chunks) total += c.byteLength;
  const wipe = () => {
    for (const c of chunks) c.fill(0);
  };
  if (total > limit || (declared !== undefined && total !== declared)) {
    wipe();
    return Promise.reject(total > limit ? tooLarge(limit) : cutOff());
  }
  const body = Buffer.concat(chunks, total);
  wipe();
  return Promise.resolve(body);
}

function cutOff(): HttpError {
  return new HttpError('invalid_request', 'The request body was cut off.');
}

function tooLarge(limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`The request body is larger than this server accepts (${limit} bytes).`);
}

/**
 * Parses a JSON or form-encoded body into a plain field map.
 *
 * @remarks
 * Rejects invalid UTF-8, malformed JSON, non-object JSON, repeated form fields and
 * the keys `__proto__`, `constructor` and `prototype`. Form fields are strings except
 * `ttl`, which becomes a number when it is all digits (JSON's `ttl` must already be one).
 * An empty body parses as `{}` so that a missing field gets the specific 400.
 * @param body - raw body
 * @param contentType - the `Content-Type` header
 * @returns own-property field map with a null prototype
 * @throws {@link HttpError} `unsupported_media_type` or `invalid_request`
 */
export function parseFields(body: Buffer, contentType: string | undefined): Record<string, unknown> {
  if (body.length === 0) return toFields([]);
  const [type = '', ...params] = (contentType ?? '').split(';').map((p) => p.trim().toLowerCase());
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice(8)
    .replaceAll('"', '');
  const supported = type === 'application/json' || type === 'application/x-www-form-urlencoded';
  if (!supported || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
    throw new HttpError(
      'unsupported_media_type',
      'Send the body as application/json (or application/x-www-form-urlencoded), encoded as UTF-8.',
    );
  }
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new HttpError('invalid_request', 'The request body is not valid UTF-8.');
  }
  let entries: [string, unknown][];
  if (type === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new HttpError('invalid_request', 'The request body is not valid JSON.');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new HttpError('invalid_request', 'The request body must be a JSON object.');
    }
    entries = Object.entries(parsed);
    if (hasDuplicateTopLevelKey(text)) throw new HttpError('invalid_request', 'A field is given more than once.');
  } else {
    if (looksLikeJson(text)) {
      throw new HttpError(
        'invalid_request',
        'The body looks like JSON but was sent as a form; add the header Content-Type: application/json.',
      );
    }
    entries = formEntries(decodeForm(text));
  }
  return toFields(entries);
}

/**
 * Copies entries into a null-prototype field map.
 *
 * @param entries - parsed entries
 * @returns the field map
 * @throws {@link HttpError} `invalid_request` for `__proto__`, `constructor` or `prototype`
 */
export function toFields(entries: readonly [string, unknown][]): Record<string, unknown> {
  const fields: Record<string, unknown> = Object.create(null);
  for (const [key, value] of entries) {
    if (FORBIDDEN_KEYS.has(key)) throw new HttpError('invalid_request', `The field name "${key}" is not allowed.`);
    fields[key] = value;
  }
  return fields;
}

/**
 * Turns form or query parameters into entries, rejecting repeated names and
 * converting an all-digit `ttl` to a number.
 *
 * @param params - decoded parameters (see {@link decodeForm})
 * @param rename - maps a parameter name to a field name (the legacy API's `text` → `secret`)
 * @returns entries
 * @throws {@link HttpError} `invalid_request` for a repeated parameter
 */
export function formEntries(params: Iterable<[string, string]>, rename: Readonly<Record<string, string>> = {}): [string, unknown][] {
  const seen = new Set<string>();
  const entries: [string, unknown][] = [];
  for (const [rawKey, value] of params) {
    const key = Object.hasOwn(rename, rawKey) ? (rename[rawKey] as string) : rawKey;
    // The name is not repeated back: it could be a fragment of a secret split on "&".
    if (seen.has(key)) throw new HttpError('invalid_request', 'A field is given more than once.');
    seen.add(key);
    entries.push([key, key === 'ttl' && /^\d{1,15}$/.test(value) ? Number(value) : value]);
  }
  return entries;
}

/** `+` and `%XX` decoding that refuses what does not decode to valid UTF-8 (never U+FFFD). */
function decodeComponent(part: string): string {
  const plus = part.replaceAll('+', ' ');
  if (!plus.includes('%')) return plus;
  const bytes: number[] = [];
  for (let i = 0; i < plus.length; i++) {
    const c = plus.charCodeAt(i);
    if (c === 0x25) {
      const hex = plus.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new HttpError('invalid_request', 'The form data has a malformed percent-escape.');
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      bytes.push(...Buffer.from(plus[i]!, 'utf8'));
    }
  }
  const raw = Buffer.from(bytes);
  try {
    return utf8.decode(raw);
  } catch {
    throw new HttpError('invalid_request', 'The form data is not valid UTF-8 once percent-decoded.');
  } finally {
    raw.fill(0);
    bytes.fill(0);
  }
}

/**
 * Decodes `application/x-www-form-urlencoded` text (a body or a query string) strictly:
 * percent-escapes must be well formed and decode to valid UTF-8, or the request is refused.
 * (`URLSearchParams` would turn invalid bytes into U+FFFD, so two different passphrases
 * could become the same string.)
 *
 * @param text - the encoded text, without a leading `?`
 * @returns name/value pairs in order
 * @throws {@link HttpError} `invalid_request` for a malformed escape or invalid UTF-8
 */
export function decodeForm(text: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? '' : part.slice(eq + 1);
    pairs.push([decodeComponent(name), decodeComponent(value)]);
  }
  return pairs;
}

/** Whether a form-typed body is really a JSON object (`curl -d '{…}'` without a Content-Type). */
function looksLikeJson(text: string): boolean {
  const t = text.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) return false;
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a JSON object text (already known to parse) names a top-level key twice.
 * `JSON.parse` keeps the last silently; the API refuses duplicates, as it does in forms.
 */
function hasDuplicateTopLevelKey(text: string): boolean {
  const keys = new Set<string>();
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1) {
        let k = j + 1;
        while (k < text.length && /\s/.test(text[k]!)) k++;
        if (text[k] === ':') {
          const key = JSON.parse(text.slice(i, j + 1)) as string;
          if (keys.has(key)) return true;
          keys.add(key);
        }
      }
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
    }
  }
  return false;
}
