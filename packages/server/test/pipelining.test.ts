import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from './helpers/engines.js';
import { createSecret, sensitive, startTestServer, type TestServer } from './helpers/server.js';

const PASS = 'pipelining passphrase';

/**
 * Writes `first` on a raw connection (then `second`, `laterMs` later, when given), and returns
 * everything the server wrote once it closed the connection or `ms` passed.
 */
function exchange(port: number, first: string, options: { second?: string; laterMs?: number; ms?: number } = {}) {
  return new Promise<{ data: string; closed: boolean }>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(first);
      if (options.second !== undefined) setTimeout(() => socket.writable && socket.write(options.second!), options.laterMs ?? 0);
    });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data, closed: false });
    }, options.ms ?? 1500);
    socket.on('data', (d) => (data += d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data, closed: true });
    });
  });
}

/** The status lines of every reply in `data`, in order. */
const statuses = (data: string) => [...data.matchAll(/(?:^|\r\n\r\n|\})HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

const post = (path: string, body: unknown, close = false) => {
  const json = JSON.stringify(body);
  return `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n${close ? 'Connection: close\r\n' : ''}\r\n${json}`;
};
const healthz = (close = false) => `GET /healthz HTTP/1.1\r\nHost: x\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;

describe.each(ENGINES)('pipelined requests on %s', (engine) => {
  let t: TestServer;
  const port = () => Number(new URL(t.url).port);
  /** The access-log lines written since `from`. */
  const requestLines = (from: number) =>
    t.logs
      .slice(from)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'request');
  const settle = () => new Promise((r) => setTimeout(r, 100));

  const create = (secret: string) => createSecret(t.url, secret, PASS);

  beforeAll(async () => {
    sensitive.add(PASS);
    t = await startTestServer({ VANISH_ENGINE: engine, LOG_LEVEL: 'debug' });
    expect(t.server.engine).toBe(engine);
  });
  afterAll(async () => {
    await t.close();
  });

  it('two creates in one write: every create that ran was answered, with the store agreeing', async () => {
    sensitive.add('pipelined create one');
    sensitive.add('pipelined create two');
    const rows = t.rowCount();
    const from = t.logs.length;
    const { data } = await exchange(
      port(),
      post('/generate', { secret: 'pipelined create one', passphrase: PASS }) +
        post('/generate', { secret: 'pipelined create two', passphrase: PASS }, true),
    );
    await settle();
    const answered = statuses(data);
    const ran = requestLines(from);
    // Every request that ran got its reply: as many 201s on the wire as rows stored and access-log lines.
    expect(answered.filter((s) => s === 201)).toHaveLength(t.rowCount() - rows);
    expect(ran).toHaveLength(answered.length);
    if (engine === 'node') expect(answered).toEqual([201, 201]);
    // uWebSockets.js closes a connection that pipelines: then nothing may have run.
    else expect([[201, 201], []]).toContainEqual(answered);
  });

  it.each(['first', 'second'] as const)(
    'a reveal pipelined %s with a create in one write is answered, or the secret is still there',
    async (position) => {
      const secret = `pipelined reveal secret ${position}`;
      const key = await create(secret);
      sensitive.add('pipelined companion');
      const reveal = post(`/secrets/${key}`, { passphrase: PASS }, position === 'second');
      const other = post('/generate', { secret: 'pipelined companion', passphrase: PASS }, position === 'first');
      const { data } = await exchange(port(), position === 'first' ? reveal + other : other + reveal);
      await settle();
      if (data.includes(secret)) {
        expect(statuses(data)).toEqual(position === 'first' ? [200, 201] : [201, 200]);
      } else {
        // Not answered: then it must not have run — the secret is still there to reveal.
        expect(statuses(data)).toEqual([]);
        const again = await fetch(`${t.url}/secrets/${key}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ passphrase: PASS }),
        });
        expect(again.status).toBe(200);
        expect(((await again.json()) as { secret: string }).secret).toBe(secret);
      }
      if (engine === 'node') expect(data).toContain(secret);
    },
  );

  it('a create that says Connection: close, followed by more data: the create that ran is answered, the rest never runs', async () => {
    const secret = 'closing create with trailing data';
    sensitive.add(secret);
    const key = await create('not revealed by trailing data');
    const rows = t.rowCount();
    const from = t.logs.length;
    const { data } = await exchange(
      port(),
      post('/generate', { secret, passphrase: PASS }, true) + post(`/secrets/${key}`, { passphrase: PASS }),
    );
    await settle();
    const answered = statuses(data);
    expect(requestLines(from)).toHaveLength(answered.length);
    // The trailing reveal never ran (its secret is still stored); every stored create was answered.
    expect(t.rowCount()).toBe(rows + answered.filter((s) => s === 201).length);
    expect(data).not.toContain('not revealed by trailing data');
    if (engine === 'node') expect(answered).toEqual([201]);
  });

  it('a reveal pipelined after a request whose reply closes the connection (its body left unread) does not run unanswered', async () => {
    const secret = 'pipelined after a closing reply';
    const key = await create(secret);
    const from = t.logs.length;
    const closing = post('/healthz', { ignored: true }); // 405 before the body is read: the reply closes the connection
    const { data } = await exchange(port(), closing + post(`/secrets/${key}`, { passphrase: PASS }));
    await settle();
    const answered = statuses(data);
    expect(requestLines(from)).toHaveLength(answered.length);
    if (!data.includes(secret)) {
      const again = await fetch(`${t.url}/secrets/${key}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ passphrase: PASS }),
      });
      expect(again.status).toBe(200);
    }
    if (engine === 'node') expect(answered).toEqual([405]);
  });
});

describe.each(ENGINES)('a request sent while another is in flight on the same connection, on %s', (engine) => {
  let t: TestServer;

  beforeAll(async () => {
    sensitive.add(PASS);
    // The real KDF, so that a create is still in flight when the next request arrives.
    t = await startTestServer({
      VANISH_ENGINE: engine,
      VANISH_KDF: 'default',
      VANISH_ALLOW_INSECURE_KDF: 'false',
      VANISH_LEGACY_QUERY_API: 'true',
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('waits for the first reply, and both are answered', async () => {
    sensitive.add('in-flight create');
    const rows = t.rowCount();
    const { data } = await exchange(Number(new URL(t.url).port), post('/generate', { secret: 'in-flight create', passphrase: PASS }), {
      second: healthz(true),
      laterMs: 5,
      ms: 10_000,
    });
    expect(statuses(data)).toEqual([201, 200]);
    expect(t.rowCount()).toBe(rows + 1);
  });

  it('a reveal in flight is answered when the next request arrives before its reply', async () => {
    const key = await createSecret(t.url, 'in-flight reveal', PASS);
    const { data } = await exchange(Number(new URL(t.url).port), post(`/secrets/${key}`, { passphrase: PASS }), {
      second: healthz(true),
      laterMs: 5,
      ms: 10_000,
    });
    expect(statuses(data)).toEqual([200, 200]);
    expect(data).toContain('in-flight reveal');
  });

  it('a reveal that never reads the body it was sent (legacy GET) is answered when the next request arrives before its reply', async () => {
    const key = await createSecret(t.url, 'legacy in-flight reveal', PASS);
    const request = `GET /secrets/${key}?secret-phrase=${encodeURIComponent(PASS)} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}`;
    const { data } = await exchange(Number(new URL(t.url).port), request, { second: healthz(true), laterMs: 5, ms: 10_000 });
    expect(statuses(data)).toEqual([200, 200]);
    expect(data).toContain('legacy in-flight reveal');
  });
});

describe.each(ENGINES)('requests the HTTP parser refuses, on %s', (engine) => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer({ VANISH_ENGINE: engine, LOG_LEVEL: 'debug' });
  });
  afterAll(async () => {
    await t.close();
  });

  const headers = (n: number) => Array.from({ length: n }, (_, i) => `X-Filler-${i}: v\r\n`).join('');
  const CASES = [
    ['a lower-case method', 'get /healthz HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['an unknown method', 'FROB /healthz HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a WebDAV method', 'PROPFIND /healthz HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['more than 48 header lines', `GET /healthz HTTP/1.1\r\nHost: x\r\n${headers(48)}\r\n`],
    ['no Host header', 'GET /healthz HTTP/1.1\r\n\r\n'],
    ['an asterisk-form target', 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['an absolute-form target', 'GET http://x/healthz HTTP/1.1\r\nHost: x\r\n\r\n'],
  ] as const;

  // docs: README "Engines" — uWebSockets.js refuses these in its C++ parser before any
  // JavaScript runs, so vanish cannot answer them there; node:http answers a JSON reply.
  it.each(CASES)('%s: node answers JSON below 500; uWebSockets.js answers nothing and runs nothing', async (_name, request) => {
    const from = t.logs.length;
    const { data } = await exchange(Number(new URL(t.url).port), request, { ms: 700 });
    const ran = t.logs.slice(from).filter((l) => /"msg":"request(?: received)?"/.test(l));
    if (engine === 'node') {
      const [status] = statuses(data);
      expect(status).toBeLessThan(500);
      expect(data).toMatch(/\r\nContent-Type: application\/json; charset=utf-8\r\n/i);
      expect(data).toMatch(/\r\nX-Content-Type-Options: nosniff\r\n/i);
    } else {
      expect(data).toBe('');
      expect(ran).toEqual([]);
    }
  });

  it('48 header lines in all are still served on both engines', async () => {
    const { data } = await exchange(
      Number(new URL(t.url).port),
      `GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers(45)}\r\n`,
    );
    expect(statuses(data)).toEqual([200]);
  });
});
