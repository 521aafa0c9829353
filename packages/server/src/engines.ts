import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import type { Request as HxRequest, Response as HxResponse } from 'hyper-express';
import { HttpError } from './http-errors.js';
import { standaloneErrorReply, type ApiReply, type ApiRequest } from './routes.js';

/** Names of the two HTTP engines. */
export type EngineName = 'hyper-express' | 'node';

/** A listening HTTP server bound to the API. */
export interface HttpEngine {
  readonly name: EngineName;
  /** the port actually bound (useful with port 0) */
  readonly port: number;
  /**
   * Stops accepting connections and waits for in-flight requests, at most `timeoutMs`;
   * then drops what is left.
   */
  close(timeoutMs: number): Promise<void>;
}

type Handle = (req: ApiRequest) => Promise<ApiReply>;

/** Whether uWebSockets.js's native binding loads on this Node, and if not, why. */
export interface NativeCheck {
  ok: boolean;
  reason: string;
}

/**
 * Checks that uWebSockets.js (hyper-express's engine) loaded its native binding.
 *
 * @remarks On a Node version it ships no binary for, it silently falls back to a
 * JavaScript shim that crashes hyper-express; this detects that before serving.
 * @returns `ok` and a reason for the log
 */
export function checkNativeUws(): NativeCheck {
  try {
    const uws = createRequire(import.meta.url)('uWebSockets.js') as { us_listen_socket_close?: unknown };
    if (String(uws.us_listen_socket_close).includes('[native code]')) {
      return { ok: true, reason: 'uWebSockets.js native binding loaded' };
    }
    return { ok: false, reason: `uWebSockets.js has no native binding for Node ${process.versions.node}` };
  } catch (err) {
    return { ok: false, reason: `uWebSockets.js failed to load on Node ${process.versions.node}: ${(err as Error).message}` };
  }
}

function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(false);
      },
    );
  });
}

/**
 * Serves the API with hyper-express (uWebSockets.js).
 *
 * @param handle - the API
 * @param port - port, 0 for any
 * @param host - address
 * @returns the running engine
 * @throws when hyper-express cannot load or bind
 */
export async function startHyperExpress(handle: Handle, port: number, host: string): Promise<HttpEngine> {
  const { default: HyperExpress } = await import('hyper-express');
  // Body limits are enforced by the API itself (so a 413 carries the JSON error and the
  // security headers); hyper-express's own limit is set out of the way.
  const app = new HyperExpress.Server({ auto_close: false, max_body_length: Number.MAX_SAFE_INTEGER });
  app.any('/*', async (req, res) => {
    const reply = await handle({
      method: req.method,
      path: req.path,
      query: req.path_query ?? '',
      header: (name) => req.headers[name],
      remoteAddress: req.ip,
      body: () => {
        // hyper-express's Request is not a full Readable; piping hands out a real one. It ends
        // its stream normally when the client goes away mid-body, so only a body that arrived
        // whole ends ours; a cut-off one errs it.
        const stream = new PassThrough();
        req.pipe(stream, { end: false });
        req.once('end', () => (req.received ? stream.end() : stream.destroy(new Error('The client went away mid-body.'))));
        return stream;
      },
    });
    sendHx(req, res, reply);
  });
  // Never hyper-express's default plain-text 500: fail closed with the JSON error and headers.
  app.set_error_handler((req, res) => {
    if (res.initiated) return void res.close();
    sendHx(req, res, standaloneErrorReply(new Error('hyper-express route failure')));
  });
  await app.listen(port, host);
  return {
    name: 'hyper-express',
    port: app.port,
    async close(timeoutMs) {
      const drained = await withTimeout(app.shutdown(), timeoutMs);
      if (!drained) app.close();
    },
  };
}

/**
 * Writes a reply through hyper-express, closing the connection after it when the reply says
 * `Connection: close` or the request body has not all arrived.
 *
 * @remarks
 * hyper-express holds back a reply until the whole request body has arrived, which a stalled
 * or endless upload never does, and would go on reading (and discarding) such a body after
 * the reply. So a reply before the body's end does what hyper-express's own `send` does first
 * (stop taking body data: a chunk handled after the reply would touch the finished uWS
 * response and throw), then skips the wait; uWebSockets.js writes `Connection: close` itself
 * and closes the connection once the reply is written.
 */
function sendHx(req: HxRequest, res: HxResponse, reply: ApiReply): void {
  const close = !req.received || reply.headers['Connection'] === 'close';
  if (!req.received) {
    // hyper-express 6.17.3 internals (the version is pinned); body-abort.test.ts covers them.
    (req as unknown as { _body_parser_stop(): void })._body_parser_stop();
    req.received = true;
  }
  res.status(reply.status);
  for (const [name, value] of Object.entries(reply.headers)) if (name !== 'Connection') res.header(name, value);
  res.send(reply.body, close);
}

/**
 * Writes a reply through node:http; one sent before the whole request body arrived says
 * `Connection: close`, so node:http closes the connection after it instead of leaving the
 * unread rest of the body (and whatever the client sends next) on a live connection.
 */
function sendNode(req: IncomingMessage, res: ServerResponse, reply: ApiReply): void {
  const headers: Record<string, string | number> = { ...reply.headers, 'Content-Length': Buffer.byteLength(reply.body) };
  if (!req.complete) headers['Connection'] = 'close';
  res.writeHead(reply.status, headers);
  res.end(reply.body);
}

/**
 * Serves the API with `node:http` — the fallback where uWebSockets.js cannot load.
 *
 * @param handle - the API
 * @param port - port, 0 for any
 * @param host - address
 * @returns the running engine
 * @throws when the port cannot be bound
 */
export async function startNodeHttp(handle: Handle, port: number, host: string): Promise<HttpEngine> {
  // node:http's own 400 for an HTTP/1.1 request without Host would carry no security headers;
  // it is answered here instead (uWebSockets.js closes such a connection without a reply).
  const options = { requestTimeout: 30_000, headersTimeout: 10_000, requireHostHeader: false };
  const server = createServer(options, (req: IncomingMessage, res: ServerResponse) => {
    if (req.httpVersion === '1.1' && req.headers.host === undefined) {
      return sendNode(req, res, standaloneErrorReply(new HttpError('invalid_request', 'The Host header is missing.')));
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(', ') : v;
    };
    void handle({
      method: (req.method ?? 'GET').toUpperCase(),
      path: q === -1 ? url : url.slice(0, q),
      query: q === -1 ? '' : url.slice(q + 1),
      header,
      body: () => req,
      remoteAddress: req.socket.remoteAddress ?? '',
    })
      .then((reply) => sendNode(req, res, reply))
      .catch(() => {
        // Fail closed: a generic JSON 500 if nothing was sent yet, otherwise drop the connection.
        if (res.headersSent) return void res.destroy();
        sendNode(req, res, standaloneErrorReply(new Error('node:http reply failure')));
      });
  });
  // node:http's own 417 for an `Expect` other than 100-continue would carry no security headers.
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    sendNode(req, res, standaloneErrorReply(new HttpError('invalid_request', 'Only "Expect: 100-continue" is supported.')));
  });
  // node:http's own answers to unparseable requests would carry no security headers. Only a
  // connection nothing was written to yet gets one: after a reply, a second would be read as
  // the answer to some other request.
  server.on('clientError', (_err, socket: Socket) => {
    if (!socket.writable || socket.bytesWritten > 0) return void socket.destroy();
    const reply = standaloneErrorReply(new HttpError('invalid_request', 'The HTTP request is malformed.'));
    const headers = Object.entries({ ...reply.headers, 'Content-Length': String(Buffer.byteLength(reply.body)), Connection: 'close' })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.end(`HTTP/1.1 ${reply.status} Bad Request\r\n${headers}\r\n${reply.body}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    name: 'node',
    port: (server.address() as AddressInfo).port,
    async close(timeoutMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections turn idle as their in-flight requests finish; close them as they do.
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), 25);
      const drained = await withTimeout(closed, timeoutMs);
      clearInterval(sweep);
      if (!drained) server.closeAllConnections();
    },
  };
}
