import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVanishClient, errorForCode, VanishApiError } from '@vanish/client';
import { loadConfig, startServer, type RunningServer } from '@vanish/server';
import { HTTP_STATUS } from '../packages/server/src/http/errors.js';
import { createOpenApiDocument, type OpenApiDocument } from '../packages/server/src/http/openapi.js';

// @vanish/client is written by hand; this keeps it equal to the OpenAPI document the server
// serves: every documented error code has its own client class, and every request the client
// sends validates against the documented request schema of its operation.
let server: RunningServer;
let doc: OpenApiDocument;
const sent: { method: string; path: string; body: unknown }[] = [];

beforeAll(async () => {
  server = await startServer(
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      VANISH_STORE: 'memory',
      VANISH_KDF: 'insecure-test',
      VANISH_ALLOW_INSECURE_KDF: 'true',
      LOG_LEVEL: 'silent',
    }),
  );
  doc = (await (await fetch(`http://127.0.0.1:${server.port}/openapi.json`)).json()) as OpenApiDocument;
});
afterAll(() => server.close());

/** Every error code the document pins (`error.code` consts in the error responses). */
function documentedCodes(document: OpenApiDocument): Set<string> {
  const codes = new Set<string>();
  JSON.stringify(document, (key, value: unknown) => {
    if (key === 'code' && value && typeof value === 'object' && 'const' in value) codes.add(String((value as { const: unknown }).const));
    if (key === 'code' && value && typeof value === 'object' && 'enum' in value)
      for (const c of (value as { enum: unknown[] }).enum) codes.add(String(c));
    return value;
  });
  return codes;
}

describe('@vanish/client against the OpenAPI document', () => {
  it('the served document is the one the server code builds', () => {
    const built = createOpenApiDocument({ limits: server.vanish.limits, legacyQueryApi: false });
    expect(doc).toEqual(JSON.parse(JSON.stringify(built)));
  });

  it("has a class of its own for every documented error code, and the document has every code of the server's error table", () => {
    const codes = documentedCodes(doc);
    expect([...codes].sort()).toEqual(Object.keys(HTTP_STATUS).sort());
    for (const code of codes) {
      const err = errorForCode(code, { status: 400, requestId: 'r', message: 'm' });
      expect(err, code).toBeInstanceOf(VanishApiError);
      expect(err.constructor, `${code} has no class of its own`).not.toBe(VanishApiError);
      expect(err.code).toBe(code);
    }
  });

  it('sends only requests the document describes, and reads the documented answers', async () => {
    const base = `http://127.0.0.1:${server.port}`;
    const client = createVanishClient({
      baseUrl: base,
      fetch: async (input, init) => {
        const url = new URL(String(input));
        sent.push({
          method: init?.method ?? 'GET',
          path: url.pathname + url.search,
          body: init?.body ? JSON.parse(String(init.body)) : undefined,
        });
        return fetch(input, init);
      },
    });
    const created = await client.createSecret({ secret: 'contract', passphrase: 'correct horse battery', ttl: 120 });
    await client.revealSecret(created.secretKey, 'wrong passphrase!').catch(() => undefined);
    expect(await client.revealSecret(created.link, 'correct horse battery')).toBe('contract');
    await client.getLimits();

    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    ajv.addVocabulary(Object.keys(doc));
    ajv.addSchema(doc as unknown as object, 'urn:vanish:openapi');
    expect(sent.length).toBe(4);
    for (const request of sent) {
      const op = (doc.paths as Record<string, Record<string, { requestBody?: { content: Record<string, { schema: object }> } }>>)[
        request.path
      ]?.[request.method.toLowerCase()];
      expect(op, `${request.method} ${request.path} is not documented`).toBeDefined();
      if (request.body === undefined) continue;
      const schema = op!.requestBody!.content['application/json']!.schema as { $ref?: string };
      const validate = ajv.getSchema(`urn:vanish:openapi${schema.$ref!}`)!;
      expect(validate(request.body), JSON.stringify(validate.errors)).toBe(true);
      // The key never travels in a URL.
      expect(request.path).not.toContain(created.secretKey);
    }
  });
});
