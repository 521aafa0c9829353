import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliOutputs, removeCliDirs, spawnCli, startCli, stopCli, post, tempDir } from './helpers/cli.js';
import { ENGINES } from './helpers/engines.js';
import { loadConfig, startServer } from '@vanish/server';
import { createLogger } from '../src/logger.js';
import { MemoryStore } from '@vanish/adapters/memory';

const PASS = 'correct horse battery staple';
const outputs = cliOutputs;
const sensitive = new Set<string>([PASS]);

afterAll(removeCliDirs);

describe('the vanish command', () => {
  it('loads the native uWebSockets.js binding on Node 20 (the override ships no binary for 22 or 24)', () => {
    const uws = createRequire(import.meta.url)('uWebSockets.js') as { us_listen_socket_close: unknown };
    const native = String(uws.us_listen_socket_close).includes('[native code]');
    expect(native).toBe(process.versions.node.startsWith('20.'));
  });

  it('serves with SQLite by default on the engine auto picks (saying why), and exits 0 on SIGTERM with the store closed', async () => {
    const child = await startCli({ VANISH_KDF: 'insecure-test', VANISH_ALLOW_INSECURE_KDF: 'true' });
    expect(child.out()).toContain(`"engine":"${ENGINES[0]}"`);
    expect(child.out()).toMatch(/"engineReason":"[^"]*uWebSockets\.js[^"]*"/);
    expect(child.out().split('hyper-express unavailable').length - 1).toBe(ENGINES[0] === 'node' ? 1 : 0);
    expect(child.out()).toContain('"store":"sqlite"');
    expect(child.out()).toContain('INSECURE');
    const created = await post(child.port, '/generate', { secret: 'process secret', passphrase: PASS });
    sensitive.add('process secret').add(created.json.secret_key);
    expect(created.status).toBe(201);
    expect(statSync(child.dbPath).mode & 0o777).toBe(0o600);
    expect(existsSync(`${child.dbPath}-wal`)).toBe(true);
    // Access lines are written in batches: these few are still held in memory when SIGTERM comes.
    for (let i = 0; i < 10; i++) expect((await fetch(`http://127.0.0.1:${child.port}/healthz`)).status).toBe(200);
    child.proc.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    // better-sqlite3 checkpoints and removes the WAL only when the database is closed.
    expect(existsSync(`${child.dbPath}-wal`)).toBe(false);
    // Every line reached stdout before the exit, the last one last.
    const lines = child
      .out()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l['msg'] === 'request').map((l) => l['route'])).toEqual(['/generate', ...Array(10).fill('/healthz')]);
    expect(lines.at(-1)?.['msg']).toBe('shut down');
  });

  it.each(
    (
      [
        ['SIGINT', 'node'],
        ['SIGTERM', 'hyper-express'],
        ['SIGTERM', 'node'],
      ] as const
    ).filter(([, engine]) => ENGINES.includes(engine)),
  )('finishes an in-flight request on %s (%s) before exiting', async (signal, engine) => {
    // A long shutdown timeout: exiting promptly proves keep-alive connections do not hold it open.
    const child = await startCli({ VANISH_KDF: 'strong', VANISH_ENGINE: engine, VANISH_SHUTDOWN_TIMEOUT_MS: '20000', LOG_LEVEL: 'debug' });
    expect(child.out()).toContain(`"engine":"${engine}"`);
    const secret = `in flight ${signal}`;
    sensitive.add(secret);
    const pending = post(child.port, '/generate', { secret, passphrase: PASS });
    // Signal only once the server has the request: then it is surely in flight (scrypt takes ~0.3 s).
    while (!child.out().includes('"msg":"request received"')) await new Promise((r) => setTimeout(r, 5));
    child.proc.kill(signal);
    const signalled = Date.now();
    const res = await pending;
    sensitive.add(res.json.secret_key);
    expect(res.status).toBe(201);
    expect(await child.exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(5000);
  });

  it('two server processes on one SQLite file: 50 parallel reveals across both, 5 rounds → one 200 each', async () => {
    const first = await startCli({ VANISH_KDF: 'insecure-test', VANISH_ALLOW_INSECURE_KDF: 'true', VANISH_RATE_LIMIT: '0' });
    const second = await startCli({
      VANISH_KDF: 'insecure-test',
      VANISH_ALLOW_INSECURE_KDF: 'true',
      VANISH_RATE_LIMIT: '0',
      VANISH_SQLITE_PATH: first.dbPath,
    });
    try {
      for (let round = 0; round < 5; round++) {
        const secret = `shared secret ${round}`;
        sensitive.add(secret);
        const created = await post(first.port, '/generate', { secret, passphrase: PASS });
        sensitive.add(created.json.secret_key);
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            post(i % 2 ? second.port : first.port, `/secrets/${created.json.secret_key}`, { passphrase: PASS }),
          ),
        );
        const ok = results.filter((r) => r.status === 200);
        expect(ok).toHaveLength(1);
        expect(ok[0]!.json).toEqual({ secret });
        expect(results.filter((r) => r.status === 404)).toHaveLength(49);
      }
    } finally {
      first.proc.kill('SIGTERM');
      second.proc.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(await second.exited).toBe(0);
    }
  });

  it.each([
    [{ VANISH_MAX_TTL: 'abc' }, /Invalid VANISH_MAX_TTL \(--max-ttl\)/],
    [{ VANISH_KDF: 'insecure-test' }, /VANISH_ALLOW_INSECURE_KDF=true/],
    [{ VANISH_STORE: 'postgres' }, /Invalid VANISH_STORE/],
    [{ VANISH_STORE: 'redis', REDIS_URL: 'redis+cluster://:hunter22@n1' }, /Invalid REDIS_URL/],
  ])('stops at startup on %j with a message naming the variable', async (env, message) => {
    const child = spawnCli(env);
    expect(await child.exited).toBe(2);
    expect(child.out()).toMatch(message);
    expect(child.out()).not.toContain('hunter22');
  });

  it.each(ENGINES)('refuses an address in use on %s with a clear message and a non-zero exit', async (engine) => {
    const first = await startCli({
      VANISH_ENGINE: engine,
      VANISH_STORE: 'memory',
      VANISH_KDF: 'insecure-test',
      VANISH_ALLOW_INSECURE_KDF: 'true',
    });
    try {
      for (const second of ENGINES) {
        const child = spawnCli({ VANISH_ENGINE: second, VANISH_STORE: 'memory', PORT: String(first.port) });
        expect(await child.exited).toBe(1);
        expect(child.out()).toContain(`127.0.0.1:${first.port} is already in use`);
        expect(child.out()).not.toContain('"msg":"listening"');
      }
    } finally {
      await stopCli(first);
    }
  });

  it('names an unopenable SQLite path', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), 'not a folder');
    const child = spawnCli({ VANISH_SQLITE_PATH: join(dir, 'file', 'vanish.db') });
    // A setting only the store could check is a configuration error like any other: exit 2.
    expect(await child.exited).toBe(2);
    expect(child.out()).toMatch(/VANISH_SQLITE_PATH/);
  });

  it('prints help with aligned columns, the version, and rejects unknown commands', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const args of [['--help'], ['serve', '--help']]) {
      const help = spawnCli({}, args);
      expect(await help.exited).toBe(0);
      expect(help.out()).toContain('VANISH_LEGACY_QUERY_API');
      expect(help.out()).toMatch(/--max-attempts\s+VANISH_MAX_ATTEMPTS\s+5\s/);
      // Every row of the settings table starts its columns at the same offsets, long defaults included.
      const rows = help
        .out()
        .split('\n')
        .filter((l) => /^ {2}--[a-z]/.test(l) && /\b(VANISH_|PORT|HOST|REDIS_URL|MONGODB_URL|LOG_LEVEL)/.test(l));
      expect(rows.length).toBeGreaterThan(20);
      const offsets = (row: string) => [row.search(/ (PORT|HOST|VANISH_|REDIS_URL|MONGODB_URL|LOG_LEVEL)/)];
      expect(new Set(rows.map((r) => offsets(r).join()))).toHaveProperty('size', 1);
      const accepts = rows.map((r) => (r.indexOf(' a port from') >= 0 || r.indexOf(' milliseconds') >= 0 ? r : '')).filter(Boolean);
      expect(new Set(accepts.map((r) => r.search(/ (a port|milliseconds)/)))).toHaveProperty('size', 1);
      expect(help.out()).toContain(`vanish ${version}`);
    }
    for (const flag of ['--version', '-v']) {
      const v = spawnCli({}, [flag]);
      expect(await v.exited).toBe(0);
      expect(v.out()).toBe(`${version}\n`);
    }
    const bad = spawnCli({}, ['launch']);
    expect(await bad.exited).toBe(2);
  });

  it('never writes a secret, passphrase or secret_key to its output', () => {
    expect(outputs.length).toBeGreaterThan(5);
    const all = outputs.join('\n');
    for (const value of sensitive) expect(all).not.toContain(value);
  });
});

describe('engine choice', () => {
  it('falls back to node:http, saying why, when the native binding cannot load', async () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (l: string) => void lines.push(l) });
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', VANISH_STORE: 'memory' });
    const server = await startServer(config, {
      logger,
      store: new MemoryStore(),
      nativeCheck: () => ({ ok: false, reason: 'uWebSockets.js has no native binding for Node 99' }),
    });
    try {
      expect(server.engine).toBe('node');
      expect(lines.join('')).toContain('uWebSockets.js has no native binding for Node 99');
      const res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      expect(res.status).toBe(200);
    } finally {
      await server.close();
      await server.close();
    }
  });

  it('refuses VANISH_ENGINE=hyper-express where it cannot run, and closes the store', async () => {
    const store = new MemoryStore();
    const config = loadConfig({ PORT: '0', VANISH_STORE: 'memory', VANISH_ENGINE: 'hyper-express' });
    await expect(
      startServer(config, { logger: createLogger('silent'), store, nativeCheck: () => ({ ok: false, reason: 'no binary' }) }),
    ).rejects.toThrow(/Invalid VANISH_ENGINE: hyper-express cannot start: no binary/);
    await expect(store.ping()).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('closes the store when the port cannot be bound', async () => {
    const first = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', VANISH_STORE: 'memory', VANISH_ENGINE: 'node' }), {
      logger: createLogger('silent'),
    });
    const store = new MemoryStore();
    try {
      await expect(
        startServer(loadConfig({ PORT: String(first.port), HOST: '127.0.0.1', VANISH_STORE: 'memory', VANISH_ENGINE: 'node' }), {
          logger: createLogger('silent'),
          store,
        }),
      ).rejects.toMatchObject({ code: 'EADDRINUSE', message: expect.stringMatching(/already in use/) });
      await expect(store.ping()).rejects.toMatchObject({ code: 'unavailable' });
    } finally {
      await first.close();
    }
  });
});
