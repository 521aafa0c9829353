import { performance } from 'node:perf_hooks';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { v7 as uuidv7 } from 'uuid';
import type { Vanish } from '@vanish/core';
import { ACCESS_MESSAGE, type Logger } from '../logger.js';
import { clientKey } from './client-address.js';
import { errorBody, HttpError, toErrorReply } from './errors.js';
import { JSON_HEADERS } from './headers.js';
import { allowedMethods, createRoutes, type Handler, type Result, type Route } from './routes.js';
import type { ApiHandler, ApiReply, ApiRequest } from './types.js';

/** What the API needs to serve. */
export interface ApiOptions {
  vanish: Vanish;
  logger: Logger;
  /** serve the query-string forms of the original API */
  legacyQueryApi: boolean;
  /** counts requests per client on the secret routes; none turns the limit off */
  rateLimiter: RateLimiterAbstract | undefined;
  /** identify clients by the last `X-Forwarded-For` address (the one a trusted proxy added) */
  trustProxy: boolean;
  /** IPv6 clients are counted per prefix of this many bits (default 64) */
  ipv6PrefixBits?: number;
  /** the web page (see `createWebHandler`): answers `/`, `/s` and `/assets/…`, `undefined` for any other path */
  web?: (req: ApiRequest) => ApiReply | undefined;
}

/** A matched route: the handler for the method (if the route has one) and the path parameter. */
interface Match {
  route: Route;
  handler: Handler | undefined;
  param: string;
}

/**
 * Step 1, routing: finds the route for the path and the handler for the method.
 *
 * @returns the match, or `undefined` for a path no route serves
 */
function matchRoute(routes: readonly Route[], req: ApiRequest): Match | undefined {
  for (const route of routes) {
    const match = route.pattern.exec(req.path);
    if (!match) continue;
    // HEAD is answered for the read-only probes only: it never reveals, never changes anything.
    const method = req.method === 'HEAD' && route.head ? 'GET' : req.method;
    return { route, handler: Object.hasOwn(route.methods, method) ? route.methods[method] : undefined, param: match[1] ?? '' };
  }
  return undefined;
}

/** The 405 for a route that has no handler for the method, with the methods it has in `Allow`. */
function methodNotAllowed(route: Route, legacyQueryApi: boolean): HttpError {
  const allow = allowedMethods(route, legacyQueryApi).join(', ');
  return new HttpError('method_not_allowed', `Use ${allow} for this path.`, { Allow: allow });
}

const NO_SUCH_ENDPOINT =
  'No such endpoint. The API has POST /generate, POST /reveal and POST /secrets/{secret_key}; GET /openapi.json describes it all.';

/**
 * Step 2, the query string: a POST carries everything in its body, so a query string there
 * is refused rather than silently dropped (`POST /generate?ttl=60` would lose the TTL).
 */
function refuseQueryOnPost(req: ApiRequest): void {
  if (req.method === 'POST' && req.query !== '') {
    throw new HttpError('invalid_request', 'This endpoint takes no query string; send every field in the body.');
  }
}

/** Step 3, the rate limit: counts the request against its client. */
async function limit(rateLimiter: RateLimiterAbstract, key: string): Promise<void> {
  try {
    await rateLimiter.consume(key);
  } catch (res) {
    if (!(res instanceof RateLimiterRes)) throw res;
    const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    throw new HttpError('rate_limited', `Too many requests from this address; retry in ${seconds} seconds.`, {
      'Retry-After': String(seconds),
    });
  }
}

/** Step 5, failures: the JSON error, its headers, and a log line for the unexpected ones. */
function failure(err: unknown, logger: Logger, requestId: string): { result: Result; headers: Readonly<Record<string, string>> } {
  const reply = toErrorReply(err);
  if (reply.code === 'unavailable') {
    // Expected during an outage or a KDF flood: one short line per request, no stack (the
    // outage itself is logged once, when it starts and when it ends).
    logger.warn({ requestId, code: reply.code, type: err instanceof Error ? err.name : typeof err }, 'request answered 503');
  } else if (reply.unexpected) {
    logger.error({ requestId, error: describeError(err) }, 'request failed');
  }
  const headers = reply.code === 'payload_too_large' ? { ...reply.headers, Connection: 'close' } : reply.headers;
  return { result: { status: reply.status, body: errorBody(reply) }, headers };
}

/**
 * Builds the API: the route table behind one request pipeline shared by both HTTP engines.
 *
 * @remarks The steps, in order: the web page's own paths (when it is on) → request id → {@link matchRoute} → {@link refuseQueryOnPost}
 * → rate limit (limited routes only) → handler → error mapping → security headers → access
 * log (method, route template, status, milliseconds; never a path, query or body).
 * @param options - the engine-independent dependencies
 * @returns a function from request to reply; it never rejects
 */
export function createApiHandler(options: ApiOptions): ApiHandler {
  const { logger, legacyQueryApi, rateLimiter, trustProxy } = options;
  const ipv6PrefixBits = options.ipv6PrefixBits ?? 64;
  const routes = createRoutes({ vanish: options.vanish, legacyQueryApi });
  const clientOf = (req: ApiRequest) => {
    const forwarded = trustProxy ? req.header('x-forwarded-for')?.split(',').at(-1)?.trim() : undefined;
    return clientKey(forwarded || req.remoteAddress, ipv6PrefixBits);
  };

  // The access line's fields are fixed and carry nothing secret (request id, method, route
  // template, status, ms), so it skips the logger's redaction pass (3–4 µs a line); every
  // other line keeps it.
  const access = logger.child({}, { redact: { paths: [] } });
  const { web } = options;
  return async (req): Promise<ApiReply> => {
    const page = web?.(req);
    if (page) return page;
    const started = performance.now();
    const requestId = uuidv7();
    let routeName = '[unmatched]';
    let result: Result;
    let extra: Readonly<Record<string, string>> = {};
    try {
      const match = matchRoute(routes, req);
      if (!match) throw new HttpError('not_found', NO_SUCH_ENDPOINT);
      const { route, handler, param } = match;
      routeName = route.name;
      if (logger.isLevelEnabled('debug')) logger.debug({ requestId, method: req.method, route: routeName }, 'request received');
      if (!handler) throw methodNotAllowed(route, legacyQueryApi);
      refuseQueryOnPost(req);
      if (route.limited && rateLimiter) await limit(rateLimiter, clientOf(req));
      result = await handler(req, param);
    } catch (err) {
      ({ result, headers: extra } = failure(err, logger, requestId));
    }
    const headers = { ...JSON_HEADERS, 'X-Request-Id': requestId, ...extra };
    access.info(
      { requestId, method: req.method, route: routeName, status: result.status, ms: Math.round((performance.now() - started) * 10) / 10 },
      ACCESS_MESSAGE,
    );
    return { status: result.status, headers, body: req.method === 'HEAD' ? '' : (result.json ?? JSON.stringify(result.body)) };
  };
}

/**
 * The reply an engine sends for a failure outside the API pipeline (an unparseable
 * request, or the API's own reply failing to write): the JSON error with the
 * security headers and a fresh request id.
 *
 * @param err - what went wrong; unknown errors become a generic 500 `internal`
 * @param requestId - the id the caller logged the request under; a fresh one by default
 * @returns the reply
 */
export function standaloneErrorReply(err: unknown, requestId: string = uuidv7()): ApiReply {
  const reply = toErrorReply(err);
  return {
    status: reply.status,
    headers: { ...JSON_HEADERS, ...reply.headers, 'X-Request-Id': requestId },
    body: JSON.stringify(errorBody(reply)),
  };
}

/**
 * Describes an error for the log: type, code, message, and the cause's type and message.
 * vanish's own messages never carry secret material.
 *
 * @param err - what was thrown
 * @returns a plain object for the log line
 */
export function describeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: typeof err };
  const cause = err.cause instanceof Error ? { type: err.cause.name, message: err.cause.message } : undefined;
  return { type: err.name, code: (err as { code?: unknown }).code, message: err.message, cause, stack: err.stack };
}
