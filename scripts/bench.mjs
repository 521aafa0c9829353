// npm run bench — throughput of vanish over HTTP, beside its own baselines, measured in one run.
//
// Absolute numbers move with the machine's load; the ratios in the last column are the
// point: the server against a bare hello route on the same engine, against raw scrypt
// calls, and against raw store operations. Every reachable store is measured: SQLite
// always; Redis on BENCH_REDIS_URL, or on a redis-server started here when one is installed;
// MongoDB when MONGODB_URL is set. Environment: BENCH_SECONDS (default 5),
// BENCH_CONNECTIONS (default 16), BENCH_ENGINE (hyper-express or node; default hyper-express).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes, scrypt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { makeTestRecord } from '../packages/core/dist/testing/index.js';
import { SqliteStore } from '../packages/adapters/dist/sqlite.js';
import { RedisStore } from '../packages/adapters/dist/redis.js';
import { MongoStore } from '../packages/adapters/dist/mongodb.js';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const ENGINE = process.env.BENCH_ENGINE ?? 'hyper-express';
const CLI = fileURLToPath(new URL('../packages/server/dist/cli.js', import.meta.url));
const HELLO = fileURLToPath(new URL('./hello-server.mjs', import.meta.url));
const PASSPHRASE = 'benchmark passphrase';
const dir = mkdtempSync(join(tmpdir(), 'vanish-bench-'));

function startProcess(args, env, ready) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const port = ready(out);
      if (port) resolve({ proc, port });
    });
    proc.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

const startHello = () =>
  startProcess([HELLO, ENGINE], {}, (out) => out.includes('"port"') && JSON.parse(out.split('\n')[0]).port);

// Starts `vanish serve` on a random port (SQLite in its own file unless `storeEnv` says
// otherwise); the port comes from the "listening" log line.
async function startVanishServer(kdf, name, storeEnv = {}) {
  const proc = spawn(process.execPath, [CLI, 'serve'], {
    env: {
      ...process.env, PORT: '0', HOST: '127.0.0.1', VANISH_ENGINE: ENGINE, LOG_LEVEL: 'info', VANISH_KDF: kdf,
      VANISH_ALLOW_INSECURE_KDF: 'true', VANISH_SQLITE_PATH: join(dir, `${name}.db`), VANISH_KDF_QUEUE: '100000', VANISH_RATE_LIMIT: '0',
      ...storeEnv,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.includes('"msg":"listening"'));
      if (line) {
        proc.stdout.off('data', onData);
        proc.stdout.resume(); // keep draining request logs
        resolve({ proc, port: JSON.parse(line).port });
      }
    };
    proc.stdout.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`vanish exited with ${code}`)));
  });
}

function load(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, ...opts }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

async function benchHello(port) {
  const r = await load({ url: `http://127.0.0.1:${port}/hello`, method: 'POST', duration: SECONDS, body: '{}', headers: { 'content-type': 'application/json' } });
  return r.requests.average;
}

async function benchVanish(port) {
  const keys = [];
  const created = await load({
    url: `http://127.0.0.1:${port}`,
    duration: SECONDS,
    requests: [{
      method: 'POST', path: '/generate', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ secret: 'benchmark secret value', passphrase: PASSPHRASE }),
      onResponse: (status, body) => { if (status === 201) keys.push(JSON.parse(body).secret_key); },
    }],
  });
  let next = 0;
  const started = process.hrtime.bigint();
  const revealed = await load({
    url: `http://127.0.0.1:${port}`,
    amount: keys.length,
    requests: [{
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ passphrase: PASSPHRASE }),
      setupRequest: (req) => ({ ...req, path: `/secrets/${keys[next++ % keys.length]}` }),
    }],
  });
  const secondsTaken = Number(process.hrtime.bigint() - started) / 1e9;
  const ok200 = revealed['2xx'];
  return {
    creates: created['2xx'] / created.duration,
    createErrors: created.non2xx + created.errors,
    reveals: ok200 / secondsTaken,
    revealErrors: revealed.non2xx + revealed.errors,
    revealed: ok200,
  };
}

async function benchScrypt(params) {
  const concurrency = availableParallelism();
  const salt = randomBytes(16);
  let calls = 0;
  const deadline = Date.now() + SECONDS * 1000;
  const worker = async () => {
    while (Date.now() < deadline) {
      await new Promise((res, rej) => scrypt('benchmark passphrase', salt, 32, { ...params, maxmem: 256 * params.N * params.r * params.p + 2 ** 20 }, (e) => (e ? rej(e) : res())));
      calls++;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return calls / ((Date.now() - started) / 1000);
}

// Full create + reserve + claim cycles per second through the adapter itself, with
// `parallel` loops (the server's connections overlap calls the same way).
async function benchStore(store, parallel) {
  const now = Date.now();
  let n = 0;
  const deadline = Date.now() + SECONDS * 1000;
  const started = Date.now();
  const loop = async () => {
    while (Date.now() < deadline) {
      for (let i = 0; i < 50; i++) {
        const r = makeTestRecord(now);
        await store.create(r);
        await store.reserve(r.id, now);
        await store.claim(r.id, r.iv, now);
        n++;
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, loop));
  const seconds = (Date.now() - started) / 1000;
  await store.close();
  return n / seconds;
}

async function freePort() {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// A redis-server for the run (no persistence), stopped by its pid; null when none is installed.
async function startRedisServer() {
  if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) return null;
  const port = await freePort();
  const pidfile = join(dir, 'redis.pid');
  execFileSync('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--daemonize', 'yes', '--pidfile', pidfile, '--dir', dir, '--logfile', join(dir, 'redis.log')]);
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { retryStrategy: () => 50 });
  await probe.ping();
  await probe.quit();
  return { url, stop: () => process.kill(Number(readFileSync(pidfile, 'utf8')), 'SIGTERM') };
}

const fmt = (n) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
const ratio = (a, b) => `${((a / b) * 100).toFixed(1)} %`;

async function httpAndRaw(label, storeEnv, rawStore, parallel, rows, totals) {
  const server = await startVanishServer('insecure-test', label, storeEnv);
  const res = await benchVanish(server.port);
  server.proc.kill('SIGTERM');
  const raw = await benchStore(rawStore, parallel);
  rows.push(
    [`raw ${label} create+reserve+claim cycles (${parallel} loop${parallel > 1 ? 's' : ''})`, fmt(raw), '(store baseline)'],
    [`create over HTTP, ${label}, insecure-test KDF`, fmt(res.creates), `${ratio(res.creates, totals.hello)} of hello`],
    [`reveal over HTTP, ${label}, insecure-test KDF`, fmt(res.reveals), `${ratio(res.reveals, totals.hello)} of hello, ${ratio(res.reveals, raw)} of raw ${label}`],
  );
  totals.revealed += res.revealed;
  totals.errors += res.createErrors + res.revealErrors;
}

async function main() {
  console.log(`vanish bench — engine ${ENGINE}, ${CONNECTIONS} connections, ${SECONDS} s per phase, ${availableParallelism()} cores, Node ${process.versions.node}`);
  const hello = await startHello();
  const helloRps = await benchHello(hello.port);
  hello.proc.kill('SIGTERM');
  const totals = { hello: helloRps, revealed: 0, errors: 0 };
  const skipped = [];

  const rows = [['bare hello route (POST, same engine)', fmt(helloRps), '100 % (baseline)']];
  await httpAndRaw('SQLite', {}, new SqliteStore({ database: new Database(join(dir, 'raw.db')), purgeIntervalMs: 0, closeClient: true }), 1, rows, totals);

  const redis = process.env.BENCH_REDIS_URL ? { url: process.env.BENCH_REDIS_URL, stop() {} } : await startRedisServer();
  if (redis) {
    try {
      const prefix = `vanish-bench:${Date.now()}:`;
      await httpAndRaw('Redis', { VANISH_STORE: 'redis', REDIS_URL: redis.url, VANISH_REDIS_PREFIX: prefix },
        new RedisStore({ client: new Redis(redis.url), prefix, closeClient: true }), CONNECTIONS, rows, totals);
    } finally {
      redis.stop();
    }
  } else {
    skipped.push('Redis (no redis-server installed and BENCH_REDIS_URL unset)');
  }

  if (process.env.MONGODB_URL) {
    const client = new MongoClient(process.env.MONGODB_URL);
    const collection = `vanish_bench_${Date.now()}`;
    await httpAndRaw('MongoDB', { VANISH_STORE: 'mongodb', MONGODB_URL: process.env.MONGODB_URL, VANISH_MONGODB_COLLECTION: collection },
      new MongoStore({ db: client.db(), collectionName: collection, client, closeClient: true }), CONNECTIONS, rows, totals);
  } else {
    skipped.push('MongoDB (MONGODB_URL unset)');
  }

  const slow = await startVanishServer('default', 'default');
  const slowRes = await benchVanish(slow.port);
  slow.proc.kill('SIGTERM');
  const scryptDefault = await benchScrypt({ N: 2 ** 15, r: 8, p: 1 });
  rows.push(
    [`raw scrypt N=2^15 calls (${availableParallelism()} in parallel)`, fmt(scryptDefault), '(KDF baseline)'],
    ['create over HTTP, SQLite, default KDF', fmt(slowRes.creates), `${ratio(slowRes.creates, scryptDefault)} of raw scrypt`],
    ['reveal over HTTP, SQLite, default KDF', fmt(slowRes.reveals), `${ratio(slowRes.reveals, scryptDefault)} of raw scrypt`],
  );
  totals.revealed += slowRes.revealed;
  totals.errors += slowRes.createErrors + slowRes.revealErrors;

  const w = [Math.max(...rows.map((r) => r[0].length)), Math.max('per second'.length, ...rows.map((r) => r[1].length))];
  console.log(`\n| ${'measure'.padEnd(w[0])} | ${'per second'.padStart(w[1])} | ratio |`);
  console.log(`|${'-'.repeat(w[0] + 2)}|${'-'.repeat(w[1] + 2)}|-------|`);
  for (const r of rows) console.log(`| ${r[0].padEnd(w[0])} | ${r[1].padStart(w[1])} | ${r[2]} |`);
  console.log(`\nrevealed ${totals.revealed} secrets; non-2xx or errors during load: ${totals.errors}`);
  for (const s of skipped) console.log(`not measured: ${s}`);
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
