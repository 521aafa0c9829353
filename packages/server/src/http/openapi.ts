import { PASSPHRASE_MAX_CHARS, PASSPHRASE_MIN_CHARS, SECRET_KEY_LENGTH, type Vanish } from '@vanish/core';
import { HTTP_STATUS, type HttpErrorCode } from './errors.js';

/*
 * The OpenAPI 3.1 document of the JSON API, served at GET /openapi.json.
 *
 * Why a typed object and not a JSON file shipped in the package: the document depends on the
 * configuration (the legacy query-string forms are listed only when VANISH_LEGACY_QUERY_API is
 * on; the TTL bounds, the secret size limit and the attempt limit are this server's), so a static
 * file would have to be patched at startup anyway. As TypeScript it is bundled by tsup (no file to
 * find at run time), every error code is checked against `HttpErrorCode` by the compiler, and
 * the route table serialises it once, at startup. test/openapi.test.ts proves it matches the
 * route table and the error table, validates it with @seriousme/openapi-schema-validator, and
 * validates real responses of both engines against it.
 */

/** A JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON Schema 2020-12 object (the OpenAPI 3.1 dialect). */
export type SchemaObject = { [keyword: string]: JsonValue };

/** A `$ref` to a reusable component. */
export interface Reference {
  $ref: string;
}

/** A response header. */
export interface HeaderObject {
  description: string;
  required?: boolean;
  schema: SchemaObject;
}

/** One media type of a request or response body. */
export interface MediaTypeObject {
  schema: SchemaObject;
}

/** A response: description, headers, body by media type. */
export interface ResponseObject {
  description: string;
  headers?: Record<string, HeaderObject | Reference>;
  content?: Record<string, MediaTypeObject>;
}

/** A path or query parameter. */
export interface ParameterObject {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  description: string;
  schema: SchemaObject;
}

/** One method of one path. */
export interface OperationObject {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  deprecated?: boolean;
  parameters?: (ParameterObject | Reference)[];
  requestBody?: { required: boolean; description?: string; content: Record<string, MediaTypeObject> };
  /** by status code */
  responses: Record<string, ResponseObject | Reference>;
}

/** The methods the API uses, as OpenAPI spells them. */
export type HttpMethod = 'get' | 'head' | 'post';

/** The operations of one path. */
export type PathItemObject = Partial<Record<HttpMethod, OperationObject>>;

/** The OpenAPI 3.1 document (the parts vanish uses). */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; summary: string; description: string; license: { name: string; identifier: string } };
  jsonSchemaDialect: string;
  /** where the API is: relative to the document, i.e. this server */
  servers: { url: string; description: string }[];
  /** none: the API has no authentication (the key and the passphrase are the request's content) */
  security: never[];
  tags: { name: string; description: string }[];
  paths: Record<string, PathItemObject>;
  components: {
    schemas: Record<string, SchemaObject>;
    responses: Record<string, ResponseObject>;
    headers: Record<string, HeaderObject>;
    parameters: Record<string, ParameterObject>;
  };
  /**
   * Answers to requests no operation describes (a path not listed, a method a path does not
   * list, an HTTP request too malformed to route), by status. OpenAPI has no place for them.
   */
  'x-unlisted-requests': Record<string, Reference>;
}

/** What the document is built from: this server's limits and switches. */
export interface OpenApiOptions {
  /** the core's effective limits (`vanish.limits`) */
  limits: Vanish['limits'];
  /** list the deprecated query-string forms (`VANISH_LEGACY_QUERY_API`) */
  legacyQueryApi: boolean;
}

/** `info.version` of the document: the version of `@vanish/server` (the test holds them equal). */
export const OPENAPI_INFO_VERSION = '0.1.0';

const json = (schema: SchemaObject): Record<string, MediaTypeObject> => ({ 'application/json': { schema } });
const ref = (kind: 'schemas' | 'responses' | 'headers' | 'parameters', name: string): Reference => ({
  $ref: `#/components/${kind}/${name}`,
});
const schemaRef = (name: string): SchemaObject => ({ $ref: `#/components/schemas/${name}` });

/** What every error code means (its status is in the one error table, `HTTP_STATUS`); `HttpErrorCode` makes the compiler check the list is whole. */
const ERRORS: Readonly<Record<HttpErrorCode, { description: string; headers?: Record<string, Reference> }>> = {
  invalid_request: {
    description:
      'The request is malformed: invalid JSON or form data, a wrong type, a missing or unknown field, invalid Unicode, a passphrase ' +
      `outside ${PASSPHRASE_MIN_CHARS}–${PASSPHRASE_MAX_CHARS} characters, a TTL outside the bounds or not a whole number, a query ` +
      'string on a POST, or a query-string request while the legacy API is off.',
  },
  invalid_passphrase: {
    description:
      'The passphrase is wrong; the attempt counted. `attempts_left` says how many wrong tries remain (0: the secret is now destroyed).',
  },
  secret_not_found: {
    description:
      'The one answer for a secret that is unknown, malformed, expired, already read or destroyed: the cases cannot be told apart.',
  },
  not_found: { description: 'No such endpoint.' },
  method_not_allowed: {
    description: 'The path does not take this method; `Allow` lists the methods it takes with the current settings.',
    headers: { Allow: ref('headers', 'Allow') },
  },
  payload_too_large: { description: 'The secret is over the size limit, or the request body is over its limit.' },
  unsupported_media_type: { description: 'The body is not application/json or application/x-www-form-urlencoded in UTF-8.' },
  rate_limited: {
    description: 'This client went over the per-minute request limit (`VANISH_RATE_LIMIT`; only when it is not 0).',
    headers: { 'Retry-After': ref('headers', 'Retry-After') },
  },
  internal: { description: 'A bug; the message is generic and nothing changed that the client can observe.' },
  unavailable: {
    description: 'The store is down or slow, or the key-derivation queue is full. Safe to retry.',
    headers: { 'Retry-After': ref('headers', 'Retry-After') },
  },
};

function errorResponse(code: HttpErrorCode): ResponseObject {
  const { description, headers } = ERRORS[code];
  const error: SchemaObject =
    code === 'invalid_passphrase'
      ? { $ref: '#/components/schemas/InvalidPassphraseError' }
      : {
          allOf: [schemaRef('Error'), { type: 'object', properties: { error: { type: 'object', properties: { code: { const: code } } } } }],
        };
  return {
    description,
    headers: { 'X-Request-Id': ref('headers', 'X-Request-Id'), ...headers },
    content: json(error),
  };
}

/** The error responses an operation can answer, by code. */
function errors(...codes: HttpErrorCode[]): Record<string, Reference> {
  const out: Record<string, Reference> = {};
  for (const code of codes) {
    const status = String(HTTP_STATUS[code]);
    if (status in out) throw new Error(`two error codes for status ${status} on one operation`);
    out[status] = ref('responses', code);
  }
  return out;
}

function ok(description: string, status: number, schema: SchemaObject): Record<string, ResponseObject> {
  return { [status]: { description, headers: { 'X-Request-Id': ref('headers', 'X-Request-Id') }, content: json(schema) } };
}

/** The HEAD twin of a GET probe: same statuses and headers, no body. */
function headOf(get: OperationObject): OperationObject {
  const responses: Record<string, ResponseObject | Reference> = {};
  for (const [status, response] of Object.entries(get.responses)) {
    responses[status] =
      '$ref' in response ? response : { description: response.description, ...(response.headers ? { headers: response.headers } : {}) };
  }
  return { ...get, operationId: `${get.operationId}Head`, summary: `${get.summary} (headers only)`, responses };
}

/**
 * Builds the OpenAPI 3.1 document of the JSON API for one configuration.
 *
 * @remarks The legacy query-string forms (`GET /generate`, `GET /secrets/{secret_key}`) are
 * listed, marked deprecated, only when `legacyQueryApi` is on; the request schemas carry this
 * server's TTL bounds, secret size limit and attempt limit. The route table serialises the
 * result once, at startup, and serves it at `GET /openapi.json`.
 * @param options - the limits and the legacy switch
 * @returns the document, a plain JSON-serialisable object
 */
export function createOpenApiDocument(options: OpenApiOptions): OpenApiDocument {
  const { limits, legacyQueryApi } = options;
  const secretKey: SchemaObject = {
    type: 'string',
    pattern: `^[A-Za-z0-9_-]{${SECRET_KEY_LENGTH}}$`,
    description: `${SECRET_KEY_LENGTH} base64url characters; half of what opens the secret (the passphrase is the other half).`,
  };
  const passphrase: SchemaObject = {
    type: 'string',
    minLength: PASSPHRASE_MIN_CHARS,
    maxLength: PASSPHRASE_MAX_CHARS,
    description: `${PASSPHRASE_MIN_CHARS} to ${PASSPHRASE_MAX_CHARS} Unicode characters (code points).`,
  };
  const ttl: SchemaObject = {
    type: 'integer',
    minimum: limits.minTtlSeconds,
    maximum: limits.maxTtlSeconds,
    default: limits.defaultTtlSeconds,
    description: `Lifetime in whole seconds, from ${limits.minTtlSeconds} to ${limits.maxTtlSeconds}; default ${limits.defaultTtlSeconds}. Never clamped: outside the bounds is a 400.`,
  };
  const secret: SchemaObject = {
    type: 'string',
    minLength: 1,
    maxLength: limits.maxSecretBytes,
    description: `The secret text: 1 to ${limits.maxSecretBytes} bytes of UTF-8 (\`maxLength\` bounds the characters; the byte limit is checked too, 413 beyond it).`,
  };
  const schemas: Record<string, SchemaObject> = {
    SecretKey: secretKey,
    Passphrase: passphrase,
    CreateRequest: {
      type: 'object',
      required: ['secret', 'passphrase'],
      additionalProperties: false,
      properties: { secret, passphrase: schemaRef('Passphrase'), ttl },
    },
    Created: {
      type: 'object',
      required: ['secret_key', 'expires_at', 'ttl'],
      additionalProperties: false,
      properties: {
        secret_key: schemaRef('SecretKey'),
        expires_at: { type: 'string', format: 'date-time', description: 'When the secret expires (UTC, ISO 8601).' },
        ttl: {
          type: 'integer',
          minimum: limits.minTtlSeconds,
          maximum: limits.maxTtlSeconds,
          description: 'The effective lifetime in seconds.',
        },
      },
    },
    RevealRequest: {
      type: 'object',
      required: ['secret_key', 'passphrase'],
      additionalProperties: false,
      properties: { secret_key: schemaRef('SecretKey'), passphrase: schemaRef('Passphrase') },
    },
    RevealByPathRequest: {
      type: 'object',
      required: ['passphrase'],
      additionalProperties: false,
      properties: { passphrase: schemaRef('Passphrase') },
    },
    Revealed: {
      type: 'object',
      required: ['secret'],
      additionalProperties: false,
      properties: { secret: { type: 'string', description: 'The secret; it is destroyed on the server as this is sent.' } },
    },
    Limits: {
      type: 'object',
      description: "This server's limits, for a front end to check input before sending it.",
      required: ['min_ttl', 'max_ttl', 'default_ttl', 'max_secret_bytes', 'max_attempts', 'passphrase_min_chars', 'passphrase_max_chars'],
      additionalProperties: false,
      properties: {
        min_ttl: { type: 'integer', const: limits.minTtlSeconds, description: 'Shortest TTL, seconds.' },
        max_ttl: { type: 'integer', const: limits.maxTtlSeconds, description: 'Longest TTL, seconds.' },
        default_ttl: { type: 'integer', const: limits.defaultTtlSeconds, description: 'TTL when none is given, seconds.' },
        max_secret_bytes: { type: 'integer', const: limits.maxSecretBytes, description: 'Largest secret, UTF-8 bytes.' },
        max_attempts: { type: 'integer', const: limits.maxAttempts, description: 'Wrong passphrases before the secret is destroyed.' },
        passphrase_min_chars: { type: 'integer', const: PASSPHRASE_MIN_CHARS },
        passphrase_max_chars: { type: 'integer', const: PASSPHRASE_MAX_CHARS },
      },
    },
    Health: {
      type: 'object',
      required: ['status'],
      additionalProperties: false,
      properties: { status: { const: 'ok' } },
    },
    Ready: {
      type: 'object',
      required: ['status'],
      additionalProperties: false,
      properties: { status: { const: 'ready' } },
    },
    ErrorCode: { enum: Object.keys(ERRORS), description: 'Stable, machine-readable; clients may switch on it.' },
    Error: {
      type: 'object',
      description: 'The body of every failure.',
      required: ['error'],
      additionalProperties: false,
      properties: {
        error: {
          type: 'object',
          required: ['code', 'message'],
          additionalProperties: false,
          properties: {
            code: schemaRef('ErrorCode'),
            message: { type: 'string', description: 'A sentence a person can act on; never secret material.' },
            attempts_left: { type: 'integer', minimum: 0, description: 'Only with `invalid_passphrase`.' },
          },
        },
      },
    },
    InvalidPassphraseError: {
      allOf: [
        schemaRef('Error'),
        {
          type: 'object',
          properties: {
            error: {
              type: 'object',
              required: ['attempts_left'],
              properties: {
                code: { const: 'invalid_passphrase' },
                attempts_left: {
                  type: 'integer',
                  maximum: limits.maxAttempts - 1,
                  description: 'Wrong tries left before the secret is destroyed; 0: it is now destroyed.',
                },
              },
            },
          },
        },
      ],
    },
    OpenApiDocument: {
      type: 'object',
      description: 'This document.',
      required: ['openapi', 'info', 'paths'],
      properties: { openapi: { type: 'string', pattern: '^3\\.1\\.\\d+$' }, info: { type: 'object' }, paths: { type: 'object' } },
    },
  };

  const responses: Record<string, ResponseObject> = {};
  for (const code of Object.keys(ERRORS) as HttpErrorCode[]) responses[code] = errorResponse(code);

  const bodyOf = (schema: string, description: string) => ({
    required: true,
    description: `${description} As JSON, or as application/x-www-form-urlencoded with the same field names (UTF-8).`,
    content: {
      'application/json': { schema: schemaRef(schema) },
      'application/x-www-form-urlencoded': { schema: schemaRef(schema) },
    },
  });
  const revealErrors = errors(
    'invalid_request',
    'invalid_passphrase',
    'secret_not_found',
    'payload_too_large',
    'unsupported_media_type',
    'rate_limited',
    'internal',
    'unavailable',
  );
  const revealOk = ok('The secret, exactly once: the record is deleted before this is sent.', 200, schemaRef('Revealed'));

  const probe = (
    operationId: string,
    summary: string,
    description: string,
    body: SchemaObject,
    extra: HttpErrorCode[] = [],
  ): PathItemObject => {
    const get: OperationObject = {
      operationId,
      summary,
      description,
      tags: ['operations'],
      responses: { ...ok(summary, 200, body), ...errors('internal', ...extra) },
    };
    return { get, head: headOf(get) };
  };

  const paths: Record<string, PathItemObject> = {
    '/healthz': probe('health', 'Liveness', 'Answers 200 while the process runs; touches no store.', schemaRef('Health')),
    '/readyz': probe('ready', 'Readiness', 'Answers 200 when the store answers, 503 when it does not.', schemaRef('Ready'), [
      'unavailable',
    ]),
    '/limits': probe(
      'limits',
      "This server's limits",
      'TTL bounds, secret size limit, attempt limit and passphrase length.',
      schemaRef('Limits'),
    ),
    '/openapi.json': probe(
      'openapi',
      'This document',
      'The OpenAPI 3.1 document of this server, built from its configuration.',
      schemaRef('OpenApiDocument'),
    ),
    '/generate': {
      post: {
        operationId: 'createSecret',
        summary: 'Create a secret',
        description: 'Encrypts the secret under the passphrase and a fresh random key; answers the key. Nothing readable is stored.',
        tags: ['secrets'],
        requestBody: bodyOf('CreateRequest', 'The secret, the passphrase, and optionally the TTL.'),
        responses: {
          ...ok('Created.', 201, schemaRef('Created')),
          ...errors('invalid_request', 'payload_too_large', 'unsupported_media_type', 'rate_limited', 'internal', 'unavailable'),
        },
      },
    },
    '/reveal': {
      post: {
        operationId: 'revealSecret',
        summary: 'Reveal a secret (key in the body)',
        description:
          'Like POST /secrets/{secret_key}, with the key in the body so that it appears in no URL (for the web page, whose links carry the key in the fragment).',
        tags: ['secrets'],
        requestBody: bodyOf('RevealRequest', 'The key and the passphrase.'),
        responses: { ...revealOk, ...revealErrors },
      },
    },
    '/secrets/{secret_key}': {
      post: {
        operationId: 'revealSecretByPath',
        summary: 'Reveal a secret',
        description:
          'Counts the attempt, decrypts, and deletes the record; only one request ever gets the secret. A wrong passphrase answers 401 and the secret survives until the attempt limit.',
        tags: ['secrets'],
        parameters: [ref('parameters', 'secret_key')],
        requestBody: bodyOf('RevealByPathRequest', 'The passphrase.'),
        responses: { ...revealOk, ...revealErrors },
      },
    },
  };

  if (legacyQueryApi) {
    const legacy =
      'Deprecated: secrets and passphrases in URLs reach proxy logs and browser history. Served only while VANISH_LEGACY_QUERY_API is on; only the listed parameters are accepted.';
    paths['/generate']!.get = {
      operationId: 'createSecretLegacy',
      summary: 'Create a secret (legacy query-string form)',
      description: legacy,
      tags: ['legacy'],
      deprecated: true,
      parameters: [
        { name: 'text', in: 'query', required: true, description: 'The secret.', schema: secret },
        { name: 'secret-phrase', in: 'query', required: true, description: 'The passphrase.', schema: schemaRef('Passphrase') },
        { name: 'ttl', in: 'query', required: false, description: 'Lifetime in seconds.', schema: ttl },
      ],
      responses: {
        ...ok('Created.', 201, schemaRef('Created')),
        ...errors('invalid_request', 'payload_too_large', 'rate_limited', 'internal', 'unavailable'),
      },
    };
    paths['/secrets/{secret_key}']!.get = {
      operationId: 'revealSecretLegacy',
      summary: 'Reveal a secret (legacy query-string form)',
      description: legacy,
      tags: ['legacy'],
      deprecated: true,
      parameters: [
        ref('parameters', 'secret_key'),
        { name: 'secret-phrase', in: 'query', required: true, description: 'The passphrase.', schema: schemaRef('Passphrase') },
      ],
      responses: {
        ...revealOk,
        ...errors('invalid_request', 'invalid_passphrase', 'secret_not_found', 'rate_limited', 'internal', 'unavailable'),
      },
    };
  }
  // Web pages (VANISH_WEB, GET/HEAD / and /s) are not in this route table yet. When they join it,
  // list them here as text/html responses: test/openapi.test.ts fails until every route is listed.

  return {
    openapi: '3.1.0',
    info: {
      title: 'vanish',
      version: OPENAPI_INFO_VERSION,
      summary: 'One-time secrets: create with a passphrase, reveal exactly once.',
      description: [
        "Every response carries `X-Request-Id` (a UUID v7, also on the request's log line) and the security headers ",
        '(`Cache-Control: no-store`, `Referrer-Policy: no-referrer`, `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, ',
        'a restrictive `Content-Security-Policy`). Every failure is `{"error": {"code", "message"}}` with a stable code.\n\n',
        'A path this document does not list answers 404 `not_found`; a method a path does not list answers 405 ',
        '`method_not_allowed` with `Allow`; an HTTP request too malformed to route answers 400 `invalid_request` ',
        '(see `x-unlisted-requests`), and so does `GET /generate` or `GET /secrets/{secret_key}` while the legacy ',
        'query-string API is off (the message names the POST form). `POST /generate`, `POST /reveal` and `/secrets/{secret_key}` count against the ',
        'per-client rate limit.',
      ].join(''),
      license: { name: 'MIT', identifier: 'MIT' },
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    servers: [{ url: '/', description: 'The server that serves this document.' }],
    security: [],
    tags: [
      { name: 'secrets', description: 'Create and reveal one-time secrets.' },
      { name: 'operations', description: 'Health, readiness, limits and this document.' },
      ...(legacyQueryApi ? [{ name: 'legacy', description: 'The original query-string API (deprecated).' }] : []),
    ],
    paths,
    components: {
      schemas,
      responses,
      headers: {
        'X-Request-Id': {
          description: 'A UUID v7 naming this request; the server logs it with the request.',
          required: true,
          schema: { type: 'string', format: 'uuid' },
        },
        'Retry-After': { description: 'Seconds to wait before retrying.', required: true, schema: { type: 'integer', minimum: 1 } },
        Allow: {
          description: 'The methods this path takes with the current settings, comma-separated.',
          required: true,
          schema: { type: 'string', pattern: '^[A-Z]+(, [A-Z]+)*$' },
        },
      },
      parameters: {
        secret_key: {
          name: 'secret_key',
          in: 'path',
          required: true,
          description: 'The key from POST /generate. A malformed key answers the same 404 `secret_not_found` as an unknown one.',
          schema: schemaRef('SecretKey'),
        },
      },
    },
    'x-unlisted-requests': {
      400: ref('responses', 'invalid_request'),
      404: ref('responses', 'not_found'),
      405: ref('responses', 'method_not_allowed'),
      500: ref('responses', 'internal'),
    },
  };
}
