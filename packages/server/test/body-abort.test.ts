import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from './helpers/engines.js';
import { createSecret, sensitive, startTestServer, type TestServer } from './helpers/server.js';

const PASS = 'correct horse battery staple';
const FRAMINGS = ['Content-Length', 'chunked'] as const;
type Framing = (typeof FRAMINGS)[number];

async function waitFor(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A raw connection that records what the server wrote and when it closed the connection. */
function open(url: string): Promise<{ socket: Socket; data: () => string; closed: () => boolean }> {
  const { port, hostname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let data = '';
    let closed = false;
    socket.on('data', (d) => (data += d));
    socket.on('end', () => (closed = true));
    socket.on('close', () => (closed = true));
    socket.on('error', () => {});
    socket.once('error', reject);
    socket.once('connect', () => resolve({ socket, data: () => data, closed: () => closed }));
  });
}

describe.each(ENGINES)('request bodies cut off or refused on %s', (engine) => {
  let t: TestServer;
  const lines = (from: number) => t.logs.slice(from).map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeAll(async () => {
    sensitive.add(PASS);
    t = await startTestServer({ VANISH_ENGINE: engine, VANISH_MAX_SECRET_BYTES: '1024', LOG_LEVEL: 'debug' });
  });
  afterAll(async () => {
    await t.close();
  });

  /**
   * Sends the headers of a request and, once the API reads the body, its first bytes only
   * (a complete JSON object on its own), then drops the connection: the body declared 100
   * bytes, or was chunked and never sent its last chunk.
   */
  const cutOff = async (framing: Framing, path: string, json: string) => {
    expect(json.length).toBeLessThan(100);
    const from = t.logs.length;
    const { socket } = await open(t.url);
    const header = framing === 'Content-Length' ? 'Content-Length: 100' : 'Transfer-Encoding: chunked';
    socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${header}\r\n\r\n`);
    await waitFor('the request to reach the API', () => lines(from).some((l) => l.msg === 'request received'));
    socket.write(framing === 'Content-Length' ? json : `${json.length.toString(16)}\r\n${json}\r\n`);
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    await waitFor('the request log line', () => lines(from).some((l) => l.msg === 'request'));
    return lines(from);
  };

  it.each(FRAMINGS)('a create cut off mid-body (%s) stores nothing and logs no error', async (framing) => {
    const secret = 'cut off create secret';
    sensitive.add(secret);
    const rows = t.rowCount();
    const logged = await cutOff(framing, '/generate', JSON.stringify({ secret, passphrase: PASS }));
    expect(logged.find((l) => l.msg === 'request')).toMatchObject({ route: '/generate', status: 400 });
    expect(logged.filter((l) => (l.level as number) >= 50)).toEqual([]);
    expect(t.rowCount()).toBe(rows);
  });

  it.each(FRAMINGS)('a reveal cut off mid-body (%s) counts no attempt and logs no error', async (framing) => {
    const key = await createSecret(t.url, 'kept secret', PASS);
    const before = t.snapshot();
    const logged = await cutOff(framing, `/secrets/${key}`, JSON.stringify({ passphrase: 'not the passphrase' }));
    expect(logged.find((l) => l.msg === 'request')).toMatchObject({ route: '/secrets/{secret_key}', status: 400 });
    expect(logged.filter((l) => (l.level as number) >= 50)).toEqual([]);
    expect(t.snapshot()).toBe(before);
  });

  it('a chunked upload past the limit gets its 413 and the connection closed while the client keeps sending', async () => {
    const before = t.snapshot();
    const { socket, data, closed } = await open(t.url);
    socket.write('POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
    const chunk = `1000\r\n${'a'.repeat(0x1000)}\r\n`;
    const sending = setInterval(() => {
      if (socket.writable) socket.write(chunk);
    }, 2);
    try {
      await waitFor('the server to close the connection', closed, 3000);
    } finally {
      clearInterval(sending);
      socket.destroy();
    }
    expect(data()).toMatch(/^HTTP\/1\.1 413 /);
    expect(data()).toMatch(/\r\nConnection: close\r\n/i);
    expect(data()).toContain('"code":"payload_too_large"');
    expect(data().match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(t.snapshot()).toBe(before);
  });

  it('a body declared over the limit and sent anyway gets its 413 and a closed connection, and the server serves on', async () => {
    const before = t.snapshot();
    for (let i = 0; i < 10; i++) {
      const { socket, data, closed } = await open(t.url);
      socket.write('POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\n\r\n');
      socket.write(Buffer.alloc(2 * 1024 * 1024, 0x61));
      try {
        await waitFor('the server to close the connection', closed, 3000);
      } finally {
        socket.destroy();
      }
      expect(data()).toMatch(/^HTTP\/1\.1 413 /);
      expect(data()).toContain('"code":"payload_too_large"');
    }
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect(t.snapshot()).toBe(before);
  });
});
