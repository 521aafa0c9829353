import { PassThrough } from 'node:stream';
import type { Request as HxRequest, Response as HxResponse } from 'hyper-express';
import { standaloneErrorReply } from '../pipeline.js';
import type { ApiReply } from '../types.js';
import { explainBindFailure, withTimeout, type Handle, type HttpEngine } from './common.js';

/** uWebSockets.js's `LIBUS_LISTEN_EXCLUSIVE_PORT` listen option: no SO_REUSEPORT. */
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;

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
    // Pipelining: uWebSockets.js closes a connection on which a request arrives while an
    // earlier reply is pending (and answers neither). Two defences: from the moment a request
    // has wholly arrived until its reply starts, the connection is not read (a next request
    // waits unread in the socket); and nothing that arrived in the same read as such a request
    // runs: uWS has closed the connection by the next turn of the event loop, and a request
    // whose connection is gone is not run at all.
    const hold = ConnectionHold.of(req, res);
    if (req.received) hold.hold();
    else watchBodyChunks(req, hold);
    await new Promise(setImmediate);
    if (res.completed) return;
    // The body's last chunk (if any) came in a read the connection has outlived: the usual
    // case of a small body sent with its head.
    const whole = req.received;
    const reply = await handle({
      method: req.method,
      path: req.path,
      query: req.path_query ?? '',
      header: (name) => req.headers[name],
      remoteAddress: req.ip,
      body: () => {
        const internals = req as unknown as HxInternals;
        const held = internals._body_parser_buffered;
        // A body that had wholly arrived by the turn above: hyper-express's copies of its
        // chunks are the body (readBody wipes them), no stream needed.
        if (whole && held && !res.completed) {
          internals._body_parser_buffered = null;
          return held;
        }
        // hyper-express's Request is not a full Readable; piping hands out a real one. It ends
        // its stream normally when the client goes away mid-body, so only a body that arrived
        // whole ends ours; a cut-off one errs it.
        const stream = new PassThrough();
        // After an early reply nobody reads the stream any more; its late errors go nowhere.
        stream.on('error', () => {});
        // Chunks that arrived before the API read the body are copies hyper-express holds;
        // piping copies them once more into the stream (whose chunks readBody wipes), so the
        // first copies are wiped here, once the pipe has taken them.
        req.pipe(stream, { end: false });
        for (const chunk of held ?? []) chunk.fill(0);
        req.once('end', () => {
          if (!req.received) return void stream.destroy(new Error('The client went away mid-body.'));
          // The body is whole: end it only if the connection outlived the read it arrived in
          // (otherwise the request is cut off, as above).
          setImmediate(() => (res.completed ? stream.destroy(new Error('The connection was closed.')) : stream.end()));
        });
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
  // uWebSockets.js binds with SO_REUSEPORT unless told otherwise, so a second server on a busy
  // port would "listen" as well and take a share of the connections. Bind exclusively, and fail
  // as node:http does.
  const uws = app.uws_instance as unknown as { listen: (...args: unknown[]) => unknown };
  const listen = uws.listen.bind(uws);
  uws.listen = (h: unknown, p: unknown, cb: unknown) => listen(h, p, LIBUS_LISTEN_EXCLUSIVE_PORT, cb);
  try {
    await app.listen(port, host);
  } catch {
    throw await explainBindFailure(host, port);
  }
  return {
    name: 'hyper-express',
    port: app.port,
    async close(timeoutMs) {
      const drained = await withTimeout(app.shutdown(), timeoutMs);
      if (!drained) app.close();
    },
  };
}

/** hyper-express 6.17.3 internals the engine relies on (the version is pinned; engines.test.ts checks them). */
interface HxInternals {
  /** copies of the body chunks that arrived before the body was read; `null` once handed on */
  _body_parser_buffered: Uint8Array[] | null;
  /** takes each body chunk uWebSockets.js hands over, while uWS still owns the memory */
  _body_parser_on_chunk(response: HxResponse, chunk: ArrayBuffer, isLast: boolean): void;
  _body_parser_stop(): void;
  /** the uWS response (one per request; the connection underneath) */
  _raw_response: { pause(): void; resume(): void };
}

/**
 * Keeps uWebSockets.js from reading a connection while one of its requests is in flight.
 *
 * @remarks hyper-express pauses and resumes the uWS response itself for body backpressure;
 * while held, its resumes are ignored, and only {@link ConnectionHold.release} resumes.
 */
class ConnectionHold {
  static readonly #all = new WeakMap<HxRequest, ConnectionHold>();
  #held = false;
  readonly #raw: { pause(): void; resume(): void };
  readonly #resume: () => void;

  constructor(
    req: HxRequest,
    private readonly res: HxResponse,
  ) {
    const raw = (req as unknown as HxInternals)._raw_response;
    const resume = raw.resume;
    this.#raw = raw;
    this.#resume = () => resume.call(raw);
    raw.resume = () => {
      if (!this.#held) this.#resume();
    };
  }

  /** The request's hold, made on first use. */
  static of(req: HxRequest, res: HxResponse): ConnectionHold {
    let hold = ConnectionHold.#all.get(req);
    if (!hold) {
      hold = new ConnectionHold(req, res);
      ConnectionHold.#all.set(req, hold);
    }
    return hold;
  }

  /** Stops reading the connection (once the request has wholly arrived). */
  hold(): void {
    if (this.#held || this.res.completed) return;
    this.#held = true;
    this.#raw.pause();
  }

  /** Reads the connection again; called just before the reply is written. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    if (!this.res.completed) this.#resume();
  }
}

/**
 * Watches each body chunk uWebSockets.js hands over: holds the connection once the last one
 * is in (whether or not the API reads the body), and zeroes each chunk in uWS's own receive
 * buffer once hyper-express has copied it out (uWS detaches the chunk when the callback
 * returns, so this is the only moment).
 */
function watchBodyChunks(req: HxRequest, hold: ConnectionHold): void {
  const internals = req as unknown as HxInternals;
  const onChunk = internals._body_parser_on_chunk;
  internals._body_parser_on_chunk = function (this: HxInternals, response, chunk, isLast) {
    try {
      onChunk.call(this, response, chunk, isLast);
    } finally {
      new Uint8Array(chunk).fill(0);
      if (isLast) hold.hold();
    }
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
  ConnectionHold.of(req, res).release();
  if (!req.received) {
    // hyper-express 6.17.3 internals (the version is pinned); body-abort.test.ts covers them.
    (req as unknown as HxInternals)._body_parser_stop();
    req.received = true;
  }
  res.status(reply.status);
  for (const [name, value] of Object.entries(reply.headers)) if (name !== 'Connection') res.header(name, value);
  res.send(reply.body, close);
}
