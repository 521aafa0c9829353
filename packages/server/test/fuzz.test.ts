import { connect, type Socket } from 'node:net';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from './helpers/engines.js';
import { createSecret, sensitive, startTestServer, type TestServer } from './helpers/server.js';

// Generated HTTP requests against both engines over raw sockets (issue 9, "Done when"):
// - no response is >= 500 and nothing is logged at error level;
// - every request that reached the API (it wrote an access-log line) got its reply on the wire;
// - a request refused with a 4xx (other than 401, a counted wrong passphrase) changed nothing
//   in the store, and one that got no reply changed nothing either;
// - no marker from any secret, passphrase, key, header or query shows up in the logs.
// The seed is fixed so CI runs the same requests every time; VANISH_FUZZ_RUNS (per engine) and
// VANISH_FUZZ_SEED run more or other ones, e.g. VANISH_FUZZ_RUNS=50000.

const RUNS = Number(process.env['VANISH_FUZZ_RUNS'] ?? 5000);
const SEED = Number(process.env['VANISH_FUZZ_SEED'] ?? 20261202);
const MARK = 'Qzx7mark';
const PASS = `${MARK} correct passphrase`;

interface FuzzRequest {
  method: string;
  target: string;
  headers: [string, string][];
  body: Buffer;
  chunked: boolean;
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

// ---------------------------------------------------------------- generators

const hex = (b: number) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`;
const markerText = fc.string({ maxLength: 12 }).map((s) => `${MARK}${s}`);
/** Strings a JSON encoder can carry but a careful decoder must judge: lone surrogates, NUL, NFKC expanders, long runs. */
const oddString = fc.oneof(
  markerText,
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => `${MARK}${s}`),
  fc.constantFrom(`${MARK}\ud800`, `\udfff${MARK}`, `${MARK}\u0000`, '\ufdfa'.repeat(300), `${MARK}${'a'.repeat(300)}`, '', ' ', PASS),
);
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: oddString },
  fc.constantFrom(null, true, false, 0, -0, 1e308, -1, 3.5, 2 ** 53 + 1, [], {}, [PASS], { [MARK]: 1 }),
  fc.integer(),
  fc.double(),
);
/** A JSON text, written by hand so that it can repeat keys, use __proto__, and carry numbers JSON.stringify cannot. */
const jsonBody = (keys: string[]) =>
  fc
    .array(
      fc.tuple(
        fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom('secret', 'passphrase', 'ttl', 'secret_key') },
          fc.constantFrom('__proto__', 'constructor', 'prototype', 'text', MARK, 'secret '),
        ),
        fc.oneof(
          { weight: 6, arbitrary: oddValue.map((v) => JSON.stringify(v) ?? 'null') },
          fc.constantFrom(
            '1e400',
            '-1e400',
            '123456789012345678901234567890',
            '0.0000000000000000000001',
            '"\\ud800"',
            '"\\udc00\\ud800"',
            '"\\u0000"',
          ),
          fc.constantFrom(...keys).map((k) => JSON.stringify(k)),
        ),
      ),
      { maxLength: 6 },
    )
    .map((pairs) => `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);
const notAnObject = fc.constantFrom(
  '[]',
  '"x"',
  '1',
  'null',
  'true',
  '{',
  '{"secret":',
  '{"a":1,}',
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  '{"secret":"a" "passphrase":"b"}',
  '\ufeff{}',
);
/** Form fields with good and bad percent escapes and invalid UTF-8. */
const formBody = fc
  .array(
    fc.tuple(
      fc.constantFrom('secret', 'passphrase', 'ttl', 'secret_key', 'text', 'secret-phrase', '__proto__', MARK),
      fc.oneof(
        markerText.map(encodeURIComponent),
        fc.uint8Array({ maxLength: 12 }).map((b) => MARK + [...b].map(hex).join('')),
        fc.constantFrom('%', '%Z', '%ZZ', '%E4%E4%E4%E4', '%FF%FE', '%C0%AF', '%ED%A0%80', '+', '%2', `${MARK}%00`, '60', '1e3'),
      ),
    ),
    { maxLength: 5 },
  )
  .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));

function requests(keys: string[]): fc.Arbitrary<FuzzRequest> {
  const key = fc.constantFrom(...keys);
  const junkSegment = fc.oneof(
    markerText.map(encodeURIComponent),
    fc.uint8Array({ maxLength: 10 }).map((b) => MARK + [...b].map(hex).join('')),
    fc.constantFrom(`${MARK}%`, `${MARK}%zz`, `${MARK}..`, `${MARK}%2F`, `${MARK}%00`, 'A'.repeat(44), `${MARK}${'x'.repeat(2000)}`),
  );
  const path = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('/generate', '/reveal', '/limits', '/healthz', '/readyz') },
    { weight: 4, arbitrary: key.map((k) => `/secrets/${k}`) },
    { weight: 3, arbitrary: junkSegment.map((j) => `/secrets/${j}`) },
    fc.tuple(key, fc.constantFrom('/', '/x', '//', '/..')).map(([k, s]) => `/secrets/${k}${s}`),
    fc.constantFrom('/', '/secrets', '/secrets/', '/generate/', '//generate', '/GENERATE', '/unknown', '/%2e%2e/generate', '/reveal%00'),
    junkSegment.map((j) => `/${j}`),
  );
  const query = fc.oneof(
    { weight: 5, arbitrary: fc.constant('') },
    formBody.map((q) => `?${q}`),
    fc.tuple(key, markerText).map(([k, p]) => `?secret_key=${k}&secret-phrase=${encodeURIComponent(p)}`),
    fc.constantFrom(
      '?',
      '??',
      '?&&',
      `?text=${MARK}&secret-phrase=${encodeURIComponent(PASS)}`,
      `?secret-phrase=${encodeURIComponent(PASS)}`,
      `?ttl=60&ttl=70`,
    ),
  );
  const contentType = fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON;charset="UTF-8"',
    'application/json; charset=latin1',
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=utf-8',
    'text/plain',
    'multipart/form-data; boundary=x',
    `application/${MARK}`,
    '',
  );
  const extraHeader = fc.oneof(
    fc.constantFrom<[string, string]>(
      ['Accept', '*/*'],
      ['Accept-Encoding', 'gzip, br'],
      ['Connection', 'close'],
      ['Connection', 'keep-alive'],
      ['X-Forwarded-For', `203.0.113.9, 2001:db8::${MARK.length}`],
      ['X-Forwarded-For', MARK],
      ['Cookie', `session=${MARK}`],
      ['Authorization', `Bearer ${MARK}`],
      ['Origin', 'https://evil.example'],
      ['Referer', `https://x.example/secrets/${MARK}`],
      ['X-Request-Id', MARK],
    ),
    fc.tuple(
      fc.stringMatching(/^X-[A-Za-z0-9-]{1,20}$/),
      markerText.map((s) => s.replace(/[^\x21-\x7e ]/g, '.')),
    ),
  );
  const body = fc.oneof(
    { weight: 3, arbitrary: fc.constant('') },
    { weight: 8, arbitrary: jsonBody(keys) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(key, markerText, fc.boolean())
        .map(([k, p, right]) => JSON.stringify({ secret_key: k, passphrase: right ? PASS : p })),
    },
    { weight: 3, arbitrary: fc.tuple(markerText, fc.boolean()).map(([p, right]) => JSON.stringify({ passphrase: right ? PASS : p })) },
    { weight: 3, arbitrary: oddString.map((s) => JSON.stringify({ secret: s, passphrase: PASS })) },
    { weight: 2, arbitrary: notAnObject },
    { weight: 4, arbitrary: formBody },
  );
  const rawBody = fc.oneof(
    { weight: 9, arbitrary: body.map((b) => Buffer.from(b, 'utf8')) },
    fc
      .uint8Array({ maxLength: 64 })
      .map((b) => Buffer.concat([Buffer.from(`{"secret":"${MARK}`), Buffer.from(b), Buffer.from(`","passphrase":"${PASS}"}`)])),
    fc.constantFrom(
      Buffer.from([0xc3, 0x28]),
      Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
      Buffer.from(`{"secret":"${MARK}\xed\xa0\x80"}`, 'latin1'),
    ),
  );
  // Requests that get past framing and media type, so the API's own rules are what is fuzzed.
  const json = ['Content-Type', 'application/json'] as [string, string];
  const passphrase = fc.oneof({ weight: 3, arbitrary: fc.constant(PASS) }, oddString);
  const wellFormed = fc.oneof(
    fc.tuple(oddString, passphrase, fc.option(oddValue, { nil: undefined })).map(([secret, p, ttl]) => ({
      method: 'POST',
      target: '/generate',
      headers: [json],
      body: Buffer.from(JSON.stringify({ secret, passphrase: p, ...(ttl === undefined ? {} : { ttl }) })),
      chunked: false,
    })),
    fc.tuple(key, passphrase).map(([k, p]) => ({
      method: 'POST',
      target: `/secrets/${k}`,
      headers: [json],
      body: Buffer.from(JSON.stringify({ passphrase: p })),
      chunked: false,
    })),
    fc.tuple(key, passphrase).map(([k, p]) => ({
      method: 'POST',
      target: '/reveal',
      headers: [json],
      body: Buffer.from(JSON.stringify({ secret_key: k, passphrase: p })),
      chunked: false,
    })),
    fc.tuple(key, formBody).map(([k, f]) => ({
      method: 'POST',
      target: `/secrets/${k}`,
      headers: [['Content-Type', 'application/x-www-form-urlencoded'] as [string, string]],
      body: Buffer.from(f),
      chunked: false,
    })),
  );
  const anything = fc.record({
    method: fc.oneof(
      { weight: 10, arbitrary: fc.constantFrom('POST', 'GET') },
      fc.constantFrom('PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
    ),
    target: fc.tuple(path, query).map(([p, q]) => p + q),
    headers: fc
      .tuple(fc.option(contentType, { nil: undefined }), fc.array(extraHeader, { maxLength: 4 }))
      .map(([ct, extra]) => (ct === undefined ? extra : [['Content-Type', ct] as [string, string], ...extra])),
    body: rawBody,
    chunked: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
  });
  return fc.oneof({ weight: 2, arbitrary: wellFormed }, { weight: 5, arbitrary: anything });
}

// ---------------------------------------------------------------- raw HTTP client

function encode(req: FuzzRequest): Buffer {
  const lines = [`${req.method} ${req.target} HTTP/1.1`, 'Host: vanish.test', ...req.headers.map(([k, v]) => `${k}: ${v}`)];
  if (req.chunked && req.body.length > 0) {
    lines.push('Transfer-Encoding: chunked');
    const half = Math.ceil(req.body.length / 2);
    const parts = [req.body.subarray(0, half), req.body.subarray(half)].filter((p) => p.length > 0);
    const framed = parts.flatMap((p) => [Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')]);
    return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), ...framed, Buffer.from('0\r\n\r\n')]);
  }
  if (req.body.length > 0 || req.method === 'POST') lines.push(`Content-Length: ${req.body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), req.body]);
}

/** One keep-alive connection that sends a request and reads exactly its reply (or notices the close). */
class Connection {
  #socket: Socket | undefined;
  #buffer = Buffer.alloc(0);
  #closed = true;
  #wake: (() => void) | undefined;

  constructor(private readonly port: number) {}

  async #open(): Promise<void> {
    this.#buffer = Buffer.alloc(0);
    this.#closed = false;
    const socket = connect(this.port, '127.0.0.1');
    this.#socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, d]);
      this.#wake?.();
    });
    const gone = () => {
      if (this.#socket === socket) this.#closed = true;
      this.#wake?.();
    };
    socket.on('close', gone);
    socket.on('error', gone);
    await new Promise<void>((resolve) => {
      socket.once('connect', resolve);
      socket.once('close', resolve);
    });
  }

  /** Sends `bytes`; resolves with the reply, or `undefined` when the connection closed (or stayed silent for `ms`) without one. */
  async send(bytes: Buffer, head: boolean, ms = 10_000): Promise<Reply | undefined> {
    if (this.#closed) await this.#open();
    this.#socket!.write(bytes);
    return this.receive(head, ms);
  }

  /** The next reply on the connection, or `undefined` when it closed (or stayed silent for `ms`) first. */
  async receive(head: boolean, ms = 10_000): Promise<Reply | undefined> {
    const until = Date.now() + ms;
    for (;;) {
      const reply = this.#parse(head);
      if (reply) {
        if (/close/i.test(reply.headers['connection'] ?? '')) this.drop();
        return reply;
      }
      if (this.#closed || Date.now() > until) {
        this.drop();
        return undefined;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  }

  #parse(head: boolean): Reply | undefined {
    const end = this.#buffer.indexOf('\r\n\r\n');
    if (end === -1) return undefined;
    const [statusLine = '', ...headerLines] = this.#buffer.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine)?.[1] ?? NaN);
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
    const length = head ? 0 : Number(headers['content-length'] ?? 0);
    if (this.#buffer.length < end + 4 + length) return undefined;
    const body = this.#buffer.subarray(end + 4, end + 4 + length).toString('utf8');
    this.#buffer = this.#buffer.subarray(end + 4 + length);
    return { status, headers, body };
  }

  drop(): void {
    this.#closed = true;
    this.#socket?.destroy();
    this.#socket = undefined;
  }
}

// ---------------------------------------------------------------- the run

describe.each(ENGINES)(`${RUNS} generated requests on %s (seed ${SEED})`, (engine) => {
  let t: TestServer;
  let reader: Database.Database;
  const keys: string[] = [];

  beforeAll(async () => {
    sensitive.add(PASS);
    t = await startTestServer({
      VANISH_ENGINE: engine,
      VANISH_LEGACY_QUERY_API: 'true',
      VANISH_MAX_SECRET_BYTES: '2048',
      VANISH_MAX_ATTEMPTS: '100',
      LOG_LEVEL: 'debug',
    });
    for (let i = 0; i < 40; i++) {
      keys.push(await createSecret(t.url, `${MARK} seeded secret ${i}`, PASS));
    }
    keys.push(`${keys[0]!.slice(0, 43)}A`, 'A'.repeat(44), `${MARK}${'k'.repeat(36)}`);
    reader = new Database(t.dbPath, { readonly: true, fileMustExist: true });
  });
  afterAll(async () => {
    reader?.close();
    await t?.close();
  });

  it('no 5xx, no unanswered request that ran, no change from a refused request, no marker in the logs', { timeout: 600_000 }, async () => {
    const samples = fc.sample(requests(keys), { seed: SEED, numRuns: RUNS });
    // What the store holds (rows, attempt counters, ids, sizes), not PRAGMA data_version: the
    // store's own housekeeping (a WAL checkpoint on its worker connection) moves that version
    // without changing a record.
    const digest = reader
      .prepare(
        "SELECT count(*) || ':' || coalesce(sum(attempts), 0) || ':' || coalesce(hex(min(id)), '') || ':' || coalesce(hex(max(id)), '') || ':' || coalesce(sum(length(ciphertext)), 0) FROM vanish_secrets",
      )
      .pluck();
    const dataVersion = () => digest.get() as string;
    const connection = new Connection(Number(new URL(t.url).port));
    const failures: string[] = [];
    const statusCounts = new Map<number | 'none', number>();
    const createdKeys: string[] = [];
    let version = dataVersion();

    for (const [i, req] of samples.entries()) {
      const from = t.logs.length;
      const reply = await connection.send(encode(req), req.method === 'HEAD');
      if (req.headers.some(([k, v]) => k === 'Connection' && v === 'close')) connection.drop();
      if (!reply) await new Promise((r) => setTimeout(r, 20)); // let anything that did run finish logging
      const lines = t.logs.slice(from).map((l) => JSON.parse(l) as Record<string, unknown>);
      const ran = lines.filter((l) => l.msg === 'request');
      const received = lines.filter((l) => l.msg === 'request received');
      const now = dataVersion();
      const changed = now !== version;
      version = now;
      const what = `#${i} ${req.method} ${req.target.slice(0, 80)} → ${reply?.status ?? 'no reply'}`;
      if (!reply && process.env['VANISH_FUZZ_DEBUG']) console.log('NOREPLY', JSON.stringify(encode(req).toString('latin1').slice(0, 300)));
      statusCounts.set(reply?.status ?? 'none', (statusCounts.get(reply?.status ?? 'none') ?? 0) + 1);

      if (reply && !(reply.status >= 200 && reply.status < 500)) failures.push(`${what}: status`);
      if (lines.some((l) => (l.level as number) >= 50)) failures.push(`${what}: error logged`);
      if (!reply && (ran.length > 0 || received.length > 0)) failures.push(`${what}: ran without a reply`);
      if (reply && ran.length > 1) failures.push(`${what}: ${ran.length} access lines`);
      if (reply && ran.length === 1 && ran[0]!.requestId !== reply.headers['x-request-id'])
        failures.push(`${what}: reply for another request`);
      if (reply?.status === 201) createdKeys.push((JSON.parse(reply.body) as { secret_key: string }).secret_key);
      const refused = !reply || (reply.status >= 400 && reply.status !== 401);
      if (refused && changed) failures.push(`${what}: store changed`);
      if (failures.length > 20) break;
    }
    connection.drop();

    const secretKeys = [...keys.slice(0, 40), ...createdKeys];
    const leaked = t.logs.filter((l) => l.includes(MARK) || l.includes(MARK.toLowerCase()) || secretKeys.some((k) => l.includes(k)));
    expect(failures).toEqual([]);
    expect(leaked).toEqual([]);
    // The run reached the API in all its outcomes, not only its refusals.
    const seen = [...statusCounts.keys()];
    if (RUNS >= 2000) for (const status of [200, 201, 400, 401, 404, 405, 415]) expect(seen).toContain(status);
    expect([...statusCounts.values()].reduce((a, b) => a + b, 0)).toBe(samples.length);
    console.log(`fuzz ${engine}: ${samples.length} requests, statuses ${JSON.stringify(Object.fromEntries([...statusCounts].sort()))}`);
  });
  it('pipelined pairs in one write: every request that ran was answered', { timeout: 600_000 }, async () => {
    const pairs = fc.sample(fc.tuple(requests(keys), requests(keys)), { seed: SEED + 1, numRuns: Math.ceil(RUNS / 10) });
    const failures: string[] = [];
    const outcomes = new Map<string, number>();
    for (const [i, pair] of pairs.entries()) {
      const from = t.logs.length;
      const connection = new Connection(Number(new URL(t.url).port));
      const replies: Reply[] = [];
      const first = await connection.send(Buffer.concat(pair.map(encode)), pair[0].method === 'HEAD', 3000);
      if (first) {
        replies.push(first);
        const second = await connection.receive(pair[1].method === 'HEAD', 3000);
        if (second) replies.push(second);
      }
      connection.drop();
      await new Promise((r) => setTimeout(r, replies.length === 2 ? 0 : 20));
      const lines = t.logs.slice(from).map((l) => JSON.parse(l) as Record<string, unknown>);
      const answered = new Set(replies.map((r) => r.headers['x-request-id']));
      const unanswered = lines.filter((l) => l.msg === 'request' && !answered.has(l.requestId as string));
      const what = `#${i} ${pair.map((r) => `${r.method} ${r.target.slice(0, 40)}`).join(' + ')} → ${replies.map((r) => r.status).join(', ') || 'no reply'}`;
      if (unanswered.length > 0) failures.push(`${what}: ${unanswered.length} ran without a reply`);
      if (unanswered.length > 0 && process.env['VANISH_FUZZ_DEBUG'])
        console.log(
          'UNANSWERED',
          JSON.stringify(pair.map((r) => encode(r).toString('latin1').slice(0, 400))),
          JSON.stringify(replies.map((r) => [r.status, r.headers['connection'], r.body])),
          JSON.stringify(lines.filter((l) => l.msg === 'request')),
        );
      if (replies.some((r) => r.status >= 500) || lines.some((l) => (l.level as number) >= 50)) failures.push(`${what}: 5xx or error`);
      outcomes.set(`${replies.length} replies`, (outcomes.get(`${replies.length} replies`) ?? 0) + 1);
      if (failures.length > 20) break;
    }
    expect(failures).toEqual([]);
    console.log(`fuzz ${engine} pipelined: ${pairs.length} pairs, ${JSON.stringify(Object.fromEntries(outcomes))}`);
  });
});
