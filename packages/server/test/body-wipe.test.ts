import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readBody } from '../src/http/body.js';
import { startHyperExpress, startNodeHttp, type HttpEngine } from '../src/http/engines/index.js';
import { JSON_HEADERS } from '../src/http/headers.js';
import { ENGINES } from './helpers/engines.js';
import type { ApiReply, ApiRequest } from '../src/http/types.js';

const MARKER = 'body-wipe-marker-7f3a';
const has = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(MARKER);
const allZero = (bytes: Uint8Array) => bytes.every((b) => b === 0);

/** Sends a POST whose body comes in two writes: with the headers, and `laterMs` after (with `whole`: in one write with the headers). */
function postInTwoParts(port: number, body: string, laterMs = 60, whole = false): Promise<string> {
  const half = whole ? body.length : Math.floor(body.length / 2);
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `POST /generate HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, half)}`,
      );
      if (!whole) setTimeout(() => socket.write(body.slice(half)), laterMs);
    });
    let data = '';
    socket.on('data', (d) => (data += d));
    socket.on('error', () => {});
    socket.on('close', () => resolve(data));
  });
}

/** The API's use of a body: wait a little (so early chunks are held), read it, check it, wipe it. */
const api = async (req: ApiRequest): Promise<ApiReply> => {
  await new Promise((r) => setTimeout(r, 20));
  const body = await readBody(
    req.body,
    { contentLength: req.header('content-length'), transferEncoding: req.header('transfer-encoding') },
    1 << 20,
  );
  const ok = body.includes(MARKER);
  body.fill(0);
  return { status: ok ? 200 : 400, headers: { ...JSON_HEADERS }, body: '{}' };
};

type Proto = Record<string, (...args: unknown[]) => unknown>;

describe.skipIf(!ENGINES.includes('hyper-express'))(
  'hyper-express: every copy of a request body that JavaScript can reach is wiped (skipped where its binding cannot load)',
  () => {
    let engine: HttpEngine;
    let proto: Proto;
    const saved: Record<string, (...args: unknown[]) => unknown> = {};
    /** uWS's own chunk memory, read while uWS still owns it: before and after hyper-express and the engine took it */
    const raw: { before: Buffer; after: Buffer }[] = [];
    /** hyper-express's copies of chunks that arrived before the API read the body */
    const held: Uint8Array[] = [];
    /** every chunk hyper-express pushed into its stream (copies of held or of later chunks) */
    const pushed: Uint8Array[] = [];
    /** every copy hyper-express made into its held list, seen as it was made */
    const copied: Uint8Array[] = [];

    beforeEach(async () => {
      const { Request } = (await import('hyper-express')) as unknown as { Request: { prototype: Proto } };
      proto = Request.prototype;
      for (const name of ['_body_parser_run', '_body_parser_flush_buffered', 'push']) saved[name] = proto[name]!;
      proto['_body_parser_run'] = function (this: { _raw_response: Record<string, unknown> }, ...args: unknown[]) {
        const uwsResponse = this._raw_response;
        const onData = uwsResponse['onData'] as (handler: (chunk: ArrayBuffer, last: boolean) => void) => unknown;
        uwsResponse['onData'] = (handler: (chunk: ArrayBuffer, last: boolean) => void) =>
          onData.call(uwsResponse, (chunk, last) => {
            const view = new Uint8Array(chunk);
            const before = Buffer.from(view);
            handler(chunk, last);
            raw.push({ before, after: Buffer.from(view) });
            // the copy hyper-express made of this chunk, if it held one
            const copies = (this as unknown as { _body_parser_buffered: Uint8Array[] | null })._body_parser_buffered;
            const copy = copies?.at(-1);
            if (copy && !copied.includes(copy)) copied.push(copy);
          });
        return saved['_body_parser_run']!.apply(this, args);
      };
      proto['_body_parser_flush_buffered'] = function (this: { _body_parser_buffered: Uint8Array[] | null }, ...args: unknown[]) {
        held.push(...(this._body_parser_buffered ?? []));
        return saved['_body_parser_flush_buffered']!.apply(this, args);
      };
      proto['push'] = function (this: unknown, ...args: unknown[]) {
        if (args[0] instanceof Uint8Array) pushed.push(args[0]);
        return saved['push']!.apply(this, args);
      };
      raw.length = held.length = pushed.length = copied.length = 0;
      engine = await startHyperExpress(api, 0, '127.0.0.1');
    });
    afterEach(async () => {
      Object.assign(proto, saved);
      await engine.close(1000);
    });

    it('uWS chunk memory, hyper-express held copies and streamed copies are all zero after the request', async () => {
      const body = JSON.stringify({ secret: `${MARKER} ${'x'.repeat(2000)} ${MARKER}`, passphrase: MARKER });
      const reply = await postInTwoParts(engine.port, body);
      expect(reply).toMatch(/^HTTP\/1\.1 200 /);
      // The capture saw the body where each copy lives …
      expect(raw.some((c) => c.before.includes(MARKER))).toBe(true);
      expect(held.length).toBeGreaterThan(0);
      expect(pushed.length).toBeGreaterThan(held.length);
      // … and none of them still holds a byte of it.
      expect.soft(raw.filter((c) => !allZero(c.after)).length, 'uWS chunks left unwiped').toBe(0);
      expect.soft(held.filter((c) => !allZero(c)).length, 'held copies left unwiped').toBe(0);
      expect.soft(pushed.filter((c) => !allZero(c)).length, 'streamed copies left unwiped').toBe(0);
      expect([...raw.map((c) => c.after), ...held, ...pushed].some(has)).toBe(false);
    });

    it("a body that came whole with its head is read from hyper-express's held copies, without a stream, and they are zero after", async () => {
      const body = JSON.stringify({ secret: `${MARKER} ${'x'.repeat(200)} ${MARKER}`, passphrase: MARKER });
      const reply = await postInTwoParts(engine.port, body, 0, true);
      expect(reply).toMatch(/^HTTP\/1\.1 200 /);
      expect(copied.length).toBeGreaterThan(0);
      expect(copied.some((c) => c.byteLength > 0)).toBe(true);
      expect(pushed).toHaveLength(0); // no stream: the fast path took the copies as they were
      expect.soft(copied.filter((c) => !allZero(c)).length, 'held copies left unwiped').toBe(0);
      expect(copied.some(has)).toBe(false);
    });
  },
);

describe('node:http: the body chunks the API reads are views of the socket read buffers and are wiped', () => {
  it('every chunk the request stream emitted is zero after the request', async () => {
    const chunks: Uint8Array[] = [];
    const engine = await startNodeHttp(
      async (req) => {
        const source = req.body;
        return api({
          ...req,
          body: () => {
            const stream = source();
            if (Array.isArray(stream)) throw new Error('node:http always streams the body');
            stream.on('data', (c: Uint8Array) => chunks.push(c));
            return stream;
          },
        });
      },
      0,
      '127.0.0.1',
    );
    try {
      const body = JSON.stringify({ secret: `${MARKER} ${'y'.repeat(2000)}`, passphrase: MARKER });
      expect(await postInTwoParts(engine.port, body)).toMatch(/^HTTP\/1\.1 200 /);
      expect(chunks.length).toBeGreaterThan(0);
      for (const c of chunks) expect(allZero(c)).toBe(true);
    } finally {
      await engine.close(1000);
    }
  });
});
