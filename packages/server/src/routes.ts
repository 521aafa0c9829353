import { performance } from 'node:perf_hooks';
import { v7 as uuidv7 } from 'uuid';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { z } from 'zod';
import type { Vanish } from '@vanish/core';
import { formEntries, parseFields, readBody, toFields, type BodySource } from './body.js';
import { errorBody, HttpError, toErrorReply } from './http-errors.js';
import type { Logger } from './logger.js';
import { limitsBody, revealByKeyFields } from './web.js';

/** A request as both HTTP engines hand it to the API. */
export interface ApiRequest {
  /** upper-case method */
  method: string;
  /** path without the query string, not decoded */
  path: string;
  /** raw query string without `?` */
  query: string;
  /** a header by lower-case name */
  header(name: string): string | undefined;
  /** opens the body stream (read only through {@link readBody}) */
  body(): BodySource;
  /** the peer's IP address */
  remoteAddress: string;
}

/** What an engine writes back. */
export interface ApiReply {
  status: number;
  headers: Record<string, string>;
  /** serialized JSON, or `''` for HEAD */
  body: string;
}

/** What the API needs to serve. */
export interface ApiOptions {
  vanish: Vanish;
  logger: Logger;
  /** serve the query-string forms of §1.3 */
  legacyQueryApi: boolean;
  /** counts requests per client on /generate and /secrets/…; none turns the limit off */
  rateLimiter: RateLimiterAbstract | undefined;
  /** identify clients by the last `X-Forwarded-For` address (the one a trusted proxy added) */
  trustProxy: boolean;
  /** answers the web page's paths (see `createWebHandler` in web.ts); none: the API only */
  web?: (req: ApiRequest) => ApiReply | undefined;
}

/** Headers on every response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
});

/** Headers on every JSON response: the security headers and the media type. */
export const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  ...SECURITY_HEADERS,
  'Content-Type': 'application/json; charset=utf-8',
});

/** Largest reveal body: a passphrase of 256 characters, JSON-escaped, fits with room to spare. */
export const REVEAL_BODY_LIMIT = 16 * 1024;

/**
 * Largest create body for a given secret limit: every byte of the secret may be
 * escaped (`\u00XX` is 6 bytes for one), plus room for the passphrase and TTL.
 *
 * @param maxSecretBytes - the configured secret limit
 * @returns bytes
 */
export function createBodyLimit(maxSecretBytes: number): number {
  return 6 * maxSecretBytes + REVEAL_BODY_LIMIT;
}

const CreateBody = z.strictObject({
  secret: z.string({ error: '"secret" is required and must be a string.' }),
  passphrase: z.string({ error: '"passphrase" is required and must be a string.' }),
  ttl: z
    .number({ error: '"ttl" must be a whole number of seconds (a JSON number, not a string).' })
    .int({ error: '"ttl" must be a whole number of seconds.' })
    .optional(),
});
const RevealBody = z.strictObject({
  passphrase: z.string({ error: '"passphrase" is required and must be a string.' }),
});

function validate<T>(schema: z.ZodType<T>, fields: Record<string, unknown>): T {
  const result = schema.safeParse(fields);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    // The unknown names are not repeated: a form body split on a stray "&" would echo part of a secret.
    const allowed = Object.keys((schema as unknown as z.ZodObject).shape).join(', ');
    throw new HttpError('invalid_request', `The request has a field this endpoint does not accept; allowed: ${allowed}.`);
  }
  throw new HttpError('invalid_request', issue?.message ?? 'The request is malformed.');
}

function legacyDisabled(form: string): HttpError {
  return new HttpError(
    'invalid_request',
    `Secrets and passphrases are not accepted in URLs, which end up in logs and browser history. Use ${form}. ` +
      'An operator who must keep the old query-string API can set VANISH_LEGACY_QUERY_API=true.',
  );
}

interface Result {
  status: number;
  body: unknown;
}
type Handler = (req: ApiRequest, param: string) => Promise<Result>;
interface Route {
  /** how the route appears in logs (never the raw path, which may hold a key) */
  name: string;
  pattern: RegExp;
  methods: Readonly<Record<string, Handler>>;
  /** answer HEAD with the GET handler (read-only probes only) */
  head?: true;
  /** counts against the per-client rate limit */
  limited?: true;
  /** methods answered only to explain the legacy API being off; left out of `Allow` then */
  legacy?: readonly string[];
}

/**
 * Builds the API: the one route table and the request pipeline (request id,
 * error mapping, security headers, access log) shared by both HTTP engines.
 *
 * @param options - the engine-independent dependencies
 * @returns a function from request to reply; it never rejects
 */
export function createApiHandler(options: ApiOptions): (req: ApiRequest) => Promise<ApiReply> {
  const { vanish, logger, legacyQueryApi } = options;
  const createLimit = createBodyLimit(vanish.limits.maxSecretBytes);
  const { rateLimiter } = options;
  const clientOf = (req: ApiRequest) => {
    const forwarded = options.trustProxy ? req.header('x-forwarded-for')?.split(',').at(-1)?.trim() : undefined;
    return forwarded || req.remoteAddress;
  };
  const limit = async (req: ApiRequest) => {
    if (!rateLimiter) return;
    try {
      await rateLimiter.consume(clientOf(req));
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      throw new HttpError('rate_limited', `Too many requests from this address; retry in ${seconds} seconds.`, {
        'Retry-After': String(seconds),
      });
    }
  };

  const body = async (req: ApiRequest, limit: number) => {
    const raw = await readBody(
      req.body,
      { contentLength: req.header('content-length'), transferEncoding: req.header('transfer-encoding') },
      limit,
    );
    try {
      return parseFields(raw, req.header('content-type'));
    } finally {
      raw.fill(0);
    }
  };

  const create = async (fields: Record<string, unknown>): Promise<Result> => {
    const input = validate(CreateBody, fields);
    const created = await vanish.create({ secret: input.secret, passphrase: input.passphrase, ttlSeconds: input.ttl });
    return {
      status: 201,
      body: { secret_key: created.secretKey, expires_at: new Date(created.expiresAt).toISOString(), ttl: created.ttlSeconds },
    };
  };
  const reveal = async (secretKey: string, fields: Record<string, unknown>): Promise<Result> => {
    const { passphrase } = validate(RevealBody, fields);
    return { status: 200, body: { secret: await vanish.reveal({ secretKey, passphrase }) } };
  };
  /** The legacy query API takes only its original parameter names, renamed to the body's. */
  const query = (req: ApiRequest, rename: Readonly<Record<string, string>>) => {
    const params = new URLSearchParams(req.query);
    for (const name of params.keys()) {
      if (!Object.hasOwn(rename, name)) {
        throw new HttpError('invalid_request', `The request has a parameter this endpoint does not accept; allowed: ${Object.keys(rename).join(', ')}.`);
      }
    }
    return toFields(formEntries(params, rename));
  };

  const routes: readonly Route[] = [
    {
      name: '/healthz',
      pattern: /^\/healthz$/,
      head: true,
      methods: { GET: async () => ({ status: 200, body: { status: 'ok' } }) },
    },
    {
      name: '/readyz',
      pattern: /^\/readyz$/,
      head: true,
      methods: {
        GET: async () => {
          await vanish.ping();
          return { status: 200, body: { status: 'ready' } };
        },
      },
    },
    {
      name: '/generate',
      pattern: /^\/generate$/,
      limited: true,
      legacy: ['GET'],
      methods: {
        POST: async (req) => create(await body(req, createLimit)),
        GET: async (req) => {
          if (!legacyQueryApi) throw legacyDisabled('POST /generate with a JSON body {"secret": "…", "passphrase": "…"}');
          return create(query(req, { text: 'secret', 'secret-phrase': 'passphrase', ttl: 'ttl' }));
        },
      },
    },
    {
      name: '/reveal',
      pattern: /^\/reveal$/,
      limited: true,
      methods: {
        POST: async (req) => {
          const { secretKey, rest } = revealByKeyFields(await body(req, REVEAL_BODY_LIMIT));
          return reveal(secretKey, rest);
        },
      },
    },
    { name: '/limits', pattern: /^\/limits$/, head: true, methods: { GET: async () => ({ status: 200, body: limitsBody(vanish) }) } },
    {
      name: '/secrets/{secret_key}',
      pattern: /^\/secrets\/(.*)$/,
      limited: true,
      legacy: ['GET'],
      methods: {
        POST: async (req, key) => reveal(key, await body(req, REVEAL_BODY_LIMIT)),
        GET: async (req, key) => {
          if (!legacyQueryApi) throw legacyDisabled('POST /secrets/{secret_key} with a JSON body {"passphrase": "…"}');
          return reveal(key, query(req, { 'secret-phrase': 'passphrase' }));
        },
      },
    },
  ];

  const dispatch = async (req: ApiRequest, matched: (name: string) => void): Promise<Result> => {
    for (const route of routes) {
      const match = route.pattern.exec(req.path);
      if (!match) continue;
      matched(route.name);
      // HEAD is answered for the read-only probes only: it never reveals, never changes anything.
      const method = req.method === 'HEAD' && route.head ? 'GET' : req.method;
      const handler = Object.hasOwn(route.methods, method) ? route.methods[method] : undefined;
      if (!handler) {
        const allow = Object.keys(route.methods)
          .filter((m) => legacyQueryApi || !route.legacy?.includes(m))
          .concat(route.head ? ['HEAD'] : [])
          .join(', ');
        throw new HttpError('method_not_allowed', `Use ${allow} for this path.`, { Allow: allow });
      }
      if (route.limited) await limit(req);
      return handler(req, match[1] ?? '');
    }
    throw new HttpError('not_found', 'No such endpoint. The API has POST /generate and POST /secrets/{secret_key}.');
  };

  return async (req) => {
    const page = options.web?.(req);
    if (page) return page;
    const started = performance.now();
    const requestId = uuidv7();
    let result: Result;
    let route = '[unmatched]';
    let extra: Readonly<Record<string, string>> = {};
    try {
      result = await dispatch(req, (name) => {
        route = name;
        logger.debug({ requestId, method: req.method, route }, 'request received');
      });
    } catch (err) {
      const reply = toErrorReply(err);
      result = { status: reply.status, body: errorBody(reply) };
      extra = reply.code === 'payload_too_large' ? { ...reply.headers, Connection: 'close' } : reply.headers;
      if (reply.unexpected) logger.error({ requestId, err: describeError(err) }, 'request failed');
    }
    const headers = { ...JSON_HEADERS, 'X-Request-Id': requestId, ...extra };
    logger.info(
      { requestId, method: req.method, route, status: result.status, ms: Math.round((performance.now() - started) * 10) / 10 },
      'request',
    );
    return { status: result.status, headers, body: req.method === 'HEAD' ? '' : JSON.stringify(result.body) };
  };
}

/**
 * The reply an engine sends for a failure outside the API pipeline (an unparseable
 * request, or the API's own reply failing to write): the JSON error with the
 * security headers and a fresh request id.
 *
 * @param err - what went wrong; unknown errors become a generic 500 `internal`
 * @returns the reply
 */
export function standaloneErrorReply(err: unknown): ApiReply {
  const reply = toErrorReply(err);
  return {
    status: reply.status,
    headers: { ...JSON_HEADERS, ...reply.headers, 'X-Request-Id': uuidv7() },
    body: JSON.stringify(errorBody(reply)),
  };
}

/**
 * Describes an error for the log: type, code, message, and the cause's type and message.
 * vanish's own messages never carry secret material.
 */
export function describeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: typeof err };
  const cause = err.cause instanceof Error ? { type: err.cause.name, message: err.cause.message } : undefined;
  return { type: err.name, code: (err as { code?: unknown }).code, message: err.message, cause, stack: err.stack };
}
