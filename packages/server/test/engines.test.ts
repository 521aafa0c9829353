import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { readBody } from '../src/http/body.js';
import { startHyperExpress, startNodeHttp, type HttpEngine } from '../src/http/engines/index.js';
import { JSON_HEADERS } from '../src/http/headers.js';
import { ENGINES as AVAILABLE } from './helpers/engines.js';
import type { ApiReply, ApiRequest } from '../src/http/types.js';

const ENGINES = (
  [
    ['hyper-express', startHyperExpress],
    ['node', startNodeHttp],
  ] as const
).filter(([name]) => AVAILABLE.includes(name));

/**
 * Writes `request` on a raw connection (then `later`, once the server has answered), and
 * returns everything the server wrote and whether it closed the connection within `ms`.
 */
function exchange(engine: HttpEngine, request: string, options: { later?: string; ms?: number } = {}) {
  return new Promise<{ data: string; closed: boolean }>((resolve) => {
    const socket = connect(engine.port, '127.0.0.1', () => socket.write(request));
    let data = '';
    let closed = false;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data, closed });
    }, options.ms ?? 2000);
    socket.on('data', (d) => {
      data += d;
      if (options.later !== undefined && /\r\n\r\n/.test(data)) socket.write(options.later);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ data, closed });
    });
  });
}

const json = (status: number, body: unknown): ApiReply => ({ status, headers: { ...JSON_HEADERS }, body: JSON.stringify(body) });

describe.each(ENGINES)('%s engine, when the API itself fails', (_name, start) => {
  it('answers a generic JSON 500 with the security headers, never a stack trace', async () => {
    const engine = await start(
      async () => {
        throw new Error('boom at /internal/path.ts:12');
      },
      0,
      '127.0.0.1',
    );
    try {
      const res = await fetch(`http://127.0.0.1:${engine.port}/generate`, { method: 'POST' });
      expect(res.status).toBe(500);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const text = await res.text();
      expect(JSON.parse(text).error.code).toBe('internal');
      expect(text).not.toContain('boom');
    } finally {
      await engine.close(1000);
    }
  });
});

describe.each(ENGINES)('%s engine, connections', (_name, start) => {
  /** The API's use of the body, with a short deadline. */
  const readWithDeadline = async (req: ApiRequest): Promise<ApiReply> => {
    try {
      const body = await readBody(
        req.body,
        { contentLength: req.header('content-length'), transferEncoding: req.header('transfer-encoding') },
        1000,
        100,
      );
      return json(200, { bytes: body.length });
    } catch (err) {
      return json(400, { error: { code: 'invalid_request', message: (err as Error).message } });
    }
  };

  it('a reply sent before the body has all arrived is whole, says Connection: close, and ends the connection', async () => {
    const engine = await start(readWithDeadline, 0, '127.0.0.1');
    try {
      const { data, closed } = await exchange(engine, 'POST /generate HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"secret":');
      expect(closed).toBe(true);
      expect(data).toMatch(/^HTTP\/1\.1 400 /);
      expect(data).toMatch(/\r\nConnection: close\r\n/i);
      expect(data).toMatch(/\r\n\r\n\{"error":\{"code":"invalid_request","message":"The request body did not arrive in time\."\}\}$/);
      expect(data.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    } finally {
      await engine.close(1000);
    }
  });

  it('a malformed request after a reply on a kept-alive connection gets no second reply (node:http closes the connection)', async () => {
    const engine = await start(async () => json(200, { status: 'ok' }), 0, '127.0.0.1');
    try {
      const { data, closed } = await exchange(engine, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', {
        later: 'NOT A REQUEST\r\n\r\n',
        ms: 1000,
      });
      expect(data).toMatch(/^HTTP\/1\.1 200 /);
      expect(data.match(/HTTP\/1\.1 /g)).toHaveLength(1);
      if (engine.name === 'node') expect(closed).toBe(true);
    } finally {
      await engine.close(1000);
    }
  });

  it('an HTTP/1.1 request without Host gets the JSON 400 with the security headers (node) or a closed connection (uWebSockets.js)', async () => {
    let called = 0;
    const engine = await start(
      async () => {
        called++;
        return json(200, { status: 'ok' });
      },
      0,
      '127.0.0.1',
    );
    try {
      const { data, closed } = await exchange(engine, 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n');
      expect(closed).toBe(true);
      if (engine.name === 'node') {
        expect(data).toMatch(/^HTTP\/1\.1 400 /);
        for (const [name, value] of Object.entries(JSON_HEADERS)) expect(data).toContain(`\r\n${name}: ${value}\r\n`);
        expect(data).toMatch(/\r\n\r\n\{"error":\{"code":"invalid_request","message":"The Host header is missing\."\}\}$/);
      } else {
        expect(data).toBe('');
      }
      expect(called).toBe(0);
    } finally {
      await engine.close(1000);
    }
  });
});

describe('node engine, an Expect header other than 100-continue', () => {
  it('gets the JSON 400 invalid_request with the security headers, not a bare 417', async () => {
    let called = 0;
    const engine = await startNodeHttp(
      async () => {
        called++;
        return json(201, {});
      },
      0,
      '127.0.0.1',
    );
    try {
      const { data, closed } = await exchange(
        engine,
        'POST /generate HTTP/1.1\r\nHost: x\r\nExpect: foo\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
      );
      expect(data).toMatch(/^HTTP\/1\.1 400 /);
      for (const [name, value] of Object.entries(JSON_HEADERS)) expect(data).toContain(`\r\n${name}: ${value}\r\n`);
      expect(data).toMatch(/\r\nX-Request-Id: [0-9a-f-]{36}\r\n/);
      expect(data).toMatch(/\r\n\r\n\{"error":\{"code":"invalid_request","message":"Only \\"Expect: 100-continue\\" is supported\."\}\}$/);
      expect(closed).toBe(true);
      expect(called).toBe(0);
    } finally {
      await engine.close(1000);
    }
  });
});

describe.skipIf(!AVAILABLE.includes('hyper-express'))(
  'hyper-express internals the binding relies on (skipped where its binding cannot load)',
  () => {
    it('Request has the private _body_parser_stop of hyper-express 6.17 (an early reply calls it; re-check on upgrade)', async () => {
      const { Request } = (await import('hyper-express')) as unknown as { Request: { prototype: Record<string, unknown> } };
      expect(typeof Request.prototype['_body_parser_stop']).toBe('function');
    });

    it('Request has _body_parser_on_chunk and _body_parser_flush_buffered (the body wipe hooks them; body-wipe.test.ts proves it)', async () => {
      const { Request } = (await import('hyper-express')) as unknown as { Request: { prototype: Record<string, unknown> } };
      expect(typeof Request.prototype['_body_parser_on_chunk']).toBe('function');
      expect(typeof Request.prototype['_body_parser_flush_buffered']).toBe('function');
    });
  },
);

describe.each(ENGINES)('binding on %s', (_, start) => {
  it('an address that is not this machine\'s fails with its own reason (EADDRNOTAVAIL), not "in use"', async () => {
    const handle = async (): Promise<ApiReply> => ({ status: 200, headers: { ...JSON_HEADERS }, body: '{}' });
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never assigned to a host
    const err = await start(handle, 0, '192.0.2.1').then(
      (engine) => engine.close(100).then(() => undefined),
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'EADDRNOTAVAIL' });
    expect(String((err as Error).message)).not.toMatch(/in use/);
  });
});
