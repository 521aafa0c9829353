import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { HttpError } from '../errors.js';
import { standaloneErrorReply } from '../pipeline.js';
import type { ApiReply } from '../types.js';
import { addressInUse, withTimeout, type Handle, type HttpEngine } from './common.js';

/** Replies that close their connection after them (node:http keeps that in a private field). */
const closingReplies = new WeakSet<ServerResponse>();

/**
 * Writes a reply through node:http; one sent before the whole request body arrived says
 * `Connection: close`, so node:http closes the connection after it instead of leaving the
 * unread rest of the body (and whatever the client sends next) on a live connection.
 */
function sendNode(req: IncomingMessage, res: ServerResponse, reply: ApiReply): void {
  const headers: Record<string, string | number> = { ...reply.headers, 'Content-Length': Buffer.byteLength(reply.body) };
  if (!req.complete) headers['Connection'] = 'close';
  if (headers['Connection'] === 'close') closingReplies.add(res);
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
  // node:http hands pipelined requests over at once and only queues their replies; when an
  // earlier reply closes the connection (`Connection: close`, a body left unread), the later
  // ones have run and their replies are dropped. So a request waits for the reply before it on
  // its connection, and does not run at all if that reply closed the connection.
  const lastReply = new WeakMap<Socket, { settled: boolean; kept: Promise<boolean> }>();
  const server = createServer(options, (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    const previous = lastReply.get(socket);
    const mine = { settled: false, kept: Promise.resolve(false) };
    mine.kept = new Promise<boolean>((resolve) => {
      const settle = (open: boolean) => {
        mine.settled = true;
        resolve(open);
      };
      res.once('finish', () => settle(res.shouldKeepAlive && !closingReplies.has(res) && !socket.destroyed));
      res.once('close', () => settle(false));
    });
    lastReply.set(socket, mine);
    if (!previous) return serve(req, res);
    void previous.kept.then((open) => (open && !socket.destroyed ? serve(req, res) : undefined));
  });
  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.httpVersion === '1.1' && req.headers.host === undefined) {
      sendNode(req, res, standaloneErrorReply(new HttpError('invalid_request', 'The Host header is missing.')));
      return;
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
  };
  // node:http's own 417 for an `Expect` other than 100-continue would carry no security headers.
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    sendNode(req, res, standaloneErrorReply(new HttpError('invalid_request', 'Only "Expect: 100-continue" is supported.')));
  });
  // node:http's own answers to unparseable requests would carry no security headers. Only a
  // connection nothing was written to yet gets one: after a reply, a second would be read as
  // the answer to some other request.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // Unparseable data after a request still in flight (say, data after its `Connection:
    // close`): that request's reply goes out first, then the connection ends without a second.
    // (A connection that failed or ended mid-request is destroyed at once, as below, so the
    // request in flight sees its body cut off.)
    const inFlight = lastReply.get(socket);
    const garbage = err.code?.startsWith('HPE_') && err.code !== 'HPE_INVALID_EOF_STATE';
    if (inFlight && !inFlight.settled && socket.writable && garbage) return void inFlight.kept.then(() => socket.end());
    if (!socket.writable || socket.bytesWritten > 0) return void socket.destroy();
    const reply = standaloneErrorReply(new HttpError('invalid_request', 'The HTTP request is malformed.'));
    const headers = Object.entries({ ...reply.headers, 'Content-Length': String(Buffer.byteLength(reply.body)), Connection: 'close' })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.end(`HTTP/1.1 ${reply.status} Bad Request\r\n${headers}\r\n${reply.body}`);
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? addressInUse(host, port) : err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
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
