import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { batchedDestination, createLogger, LOG_FLUSH_MS, LOG_MAX_WRITE, LOG_MIN_WRITE } from '../src/logger.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A logger writing through batchedDestination into a file, counting its write(2) calls. */
function fileLogger() {
  const dir = mkdtempSync(join(tmpdir(), 'vanish-log-'));
  dirs.push(dir);
  const file = join(dir, 'out.log');
  const fd = openSync(file, 'w');
  const destination = batchedDestination(fd);
  const writes: number[] = [];
  // (an idle periodic flush reports a write of 0 bytes; only real writes count)
  destination.stream.on('write', (n: number) => n > 0 && writes.push(n));
  const logger = createLogger('info', destination);
  const lines = () =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const close = () => {
    destination.stream.flushSync();
    destination.stream.destroy(); // closes fd
  };
  return { logger, destination, writes, lines, close };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('batchedDestination (the access log under load)', () => {
  it('writes many lines in few writes, each of whole lines and at most PIPE_BUF bytes', async () => {
    const { logger, writes, lines, close } = fileLogger();
    const n = 2000;
    for (let i = 0; i < n; i++) {
      logger.info({ requestId: `r${i}`, method: 'POST', route: '/generate', status: 201, ms: 0.4 }, 'request');
      // requests arrive over many turns of the event loop, as they do from sockets
      if (i % 20 === 0) await new Promise(setImmediate);
    }
    await sleep(LOG_FLUSH_MS * 3);
    const got = lines();
    expect(got).toHaveLength(n);
    expect(got.map((l) => l['requestId'])).toEqual(Array.from({ length: n }, (_, i) => `r${i}`));
    // one write per line would be 2000; a write carries LOG_MIN_WRITE bytes or more
    expect(writes.length).toBeLessThan(n / 10);
    expect(Math.max(...writes)).toBeLessThanOrEqual(LOG_MAX_WRITE);
    expect(writes.slice(0, -1).every((b) => b >= LOG_MIN_WRITE)).toBe(true);
    close();
  });

  it('a lone access line under light traffic is written within the flush period', async () => {
    const { logger, lines, close } = fileLogger();
    logger.info({ requestId: 'r', method: 'GET', route: '/healthz', status: 200, ms: 0.1 }, 'request');
    expect(lines()).toHaveLength(0); // held: below LOG_MIN_WRITE
    await sleep(LOG_FLUSH_MS * 3);
    expect(lines().map((l) => l['requestId'])).toEqual(['r']);
    close();
  });

  it('any other line is written at once, after the access lines held before it', async () => {
    const { logger, lines, close } = fileLogger();
    logger.info({ requestId: 'a', method: 'GET', route: '/healthz', status: 200, ms: 0.1 }, 'request');
    logger.info({ port: 1 }, 'listening');
    await sleep(20); // one thread-pool write, far below LOG_FLUSH_MS
    expect(lines().map((l) => l['msg'])).toEqual(['request', 'listening']);
    close();
  });
});
