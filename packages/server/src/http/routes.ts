import { z } from 'zod';
import { PASSPHRASE_MAX_CHARS, PASSPHRASE_MIN_CHARS, type Vanish } from '@vanish/core';
import { decodeForm, formEntries, parseFields, readBody, toFields } from './body.js';
import { HttpError } from './errors.js';
import { createOpenApiDocument } from './openapi.js';
import type { ApiRequest } from './types.js';

/** Largest reveal body: a passphrase of 256 characters and a key, JSON-escaped, fit with room to spare. */
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

const TTL_MESSAGE = '"ttl" must be a whole number of seconds';
const ttl = z
  .unknown()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined) return undefined;
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    let why: string;
    if (value === null) why = 'it is null; leave it out to get the default';
    else if (typeof value === 'number') why = 'it has a fraction or is not finite';
    else if (typeof value === 'string') why = /^\s*-?\d+\s*$/.test(value) ? 'send it as a JSON number, not a string' : 'it is not a number';
    else why = `it is ${Array.isArray(value) ? 'an array' : `a ${typeof value}`}`;
    ctx.addIssue({ code: 'custom', message: `${TTL_MESSAGE} (${why}).` });
    return z.NEVER;
  });
const CreateBody = z.strictObject({
  secret: z.string({ error: '"secret" is required and must be a string.' }),
  passphrase: z.string({ error: '"passphrase" is required and must be a string.' }),
  ttl,
});
const RevealBody = z.strictObject({
  passphrase: z.string({ error: '"passphrase" is required and must be a string.' }),
});
const RevealByKeyBody = z.strictObject({
  secret_key: z.string({ error: '"secret_key" is required and must be a string.' }),
  passphrase: z.string({ error: '"passphrase" is required and must be a string.' }),
});

/**
 * The common case without zod: every field is one of `names`, each string field is a string,
 * and `ttl` (where allowed) is absent or a whole number. Anything else goes through zod, which
 * writes the error message.
 */
function plainFields(fields: Record<string, unknown>, names: readonly string[]): boolean {
  let required = 0;
  for (const name in fields) {
    const value = fields[name];
    if (name === 'ttl' && names.includes('ttl')) {
      if (value !== undefined && !(typeof value === 'number' && Number.isInteger(value))) return false;
    } else if (!names.includes(name) || typeof value !== 'string') {
      return false;
    } else {
      required++;
    }
  }
  return required === names.length - (names.includes('ttl') ? 1 : 0);
}

/** Each body schema with its field names, read from the schema itself. */
const FAST = new Map<z.ZodType, readonly string[]>(
  [CreateBody, RevealBody, RevealByKeyBody].map((schema) => [schema, Object.keys(schema.shape)] as const),
);

function validate<T>(schema: z.ZodType<T>, fields: Record<string, unknown>): T {
  const names = FAST.get(schema);
  // The same result zod gives for a valid body (the fields parseFields made, a null-prototype
  // object of own properties), without its cost on every request.
  if (names && plainFields(fields, names)) return { ...fields } as T;
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

/** A handler's answer before it becomes an HTTP reply. */
export interface Result {
  status: number;
  body: unknown;
  /** the body already serialised as JSON (sent instead of `body`) */
  json?: string;
}

/** One method of one route. */
export type Handler = (req: ApiRequest, param: string) => Promise<Result>;

/** One entry of the route table. */
export interface Route {
  /** how the route appears in logs and in the OpenAPI document (never the raw path, which may hold a key) */
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
 * The methods a route answers with the current settings: the `Allow` header of its 405,
 * and the methods the OpenAPI document lists for it.
 *
 * @param route - one entry of the route table
 * @param legacyQueryApi - whether the legacy query-string forms are served
 * @returns upper-case methods, `HEAD` last when the route answers it
 */
export function allowedMethods(route: Route, legacyQueryApi: boolean): string[] {
  return Object.keys(route.methods)
    .filter((m) => legacyQueryApi || !route.legacy?.includes(m))
    .concat(route.head ? ['HEAD'] : []);
}

/** What the route table needs. */
export interface RouteDeps {
  vanish: Vanish;
  /** serve the query-string forms of the original API */
  legacyQueryApi: boolean;
}

/**
 * The one route table of the JSON API.
 *
 * @remarks `/secrets/{secret_key}` matches one path segment only: `/secrets/KEY/` or
 * `/secrets/KEY/status` is the route error `not_found` ("no such endpoint"), never the
 * uniform `secret_not_found` that would read as the secret's state.
 * @param deps - the core and the legacy switch
 * @returns the routes, matched in order
 */
export function createRoutes(deps: RouteDeps): readonly Route[] {
  const { vanish, legacyQueryApi } = deps;
  const createLimit = createBodyLimit(vanish.limits.maxSecretBytes);

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
  const reveal = async (secretKey: string, passphrase: string): Promise<Result> => ({
    status: 200,
    body: { secret: await vanish.reveal({ secretKey, passphrase }) },
  });
  /** The legacy query API takes only its original parameter names, renamed to the body's. */
  const query = (req: ApiRequest, rename: Readonly<Record<string, string>>) => {
    const params = decodeForm(req.query);
    for (const [name] of params) {
      if (!Object.hasOwn(rename, name)) {
        throw new HttpError(
          'invalid_request',
          `The request has a parameter this endpoint does not accept; allowed: ${Object.keys(rename).join(', ')}.`,
        );
      }
    }
    return toFields(formEntries(params, rename));
  };
  const limits = {
    min_ttl: vanish.limits.minTtlSeconds,
    max_ttl: vanish.limits.maxTtlSeconds,
    default_ttl: vanish.limits.defaultTtlSeconds,
    max_secret_bytes: vanish.limits.maxSecretBytes,
    max_attempts: vanish.limits.maxAttempts,
    passphrase_min_chars: PASSPHRASE_MIN_CHARS,
    passphrase_max_chars: PASSPHRASE_MAX_CHARS,
  };
  const openapi = JSON.stringify(createOpenApiDocument({ limits: vanish.limits, legacyQueryApi }));

  return [
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
      name: '/limits',
      pattern: /^\/limits$/,
      head: true,
      methods: { GET: async () => ({ status: 200, body: limits }) },
    },
    {
      name: '/openapi.json',
      pattern: /^\/openapi\.json$/,
      head: true,
      methods: { GET: async () => ({ status: 200, body: undefined, json: openapi }) },
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
          const input = validate(RevealByKeyBody, await body(req, REVEAL_BODY_LIMIT));
          return reveal(input.secret_key, input.passphrase);
        },
      },
    },
    {
      name: '/secrets/{secret_key}',
      pattern: /^\/secrets\/([^/]*)$/,
      limited: true,
      legacy: ['GET'],
      methods: {
        POST: async (req, key) => reveal(key, validate(RevealBody, await body(req, REVEAL_BODY_LIMIT)).passphrase),
        GET: async (req, key) => {
          if (!legacyQueryApi) throw legacyDisabled('POST /secrets/{secret_key} with a JSON body {"passphrase": "…"}');
          return reveal(key, validate(RevealBody, query(req, { 'secret-phrase': 'passphrase' })).passphrase);
        },
      },
    },
  ];
}
