// Load generation for `npm run bench`: wrk with the Lua scripts beside this file when wrk is
// installed, autocannon otherwise; pinned with taskset when there are at least two CPUs.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const LUA_DIR = fileURLToPath(new URL('.', import.meta.url));
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** What this machine offers: wrk or autocannon, taskset pinning, strace. */
export const tools = {
  wrk: !process.env.BENCH_AUTOCANNON && has('wrk'),
  taskset: has('taskset') && availableParallelism() >= 2,
  strace: has('strace'),
};
/** Command prefix that pins a server-side process (app, workers, store) to CPU 0. */
export const serverPin = tools.taskset ? ['taskset', '-c', '0'] : [];
/** Command prefix that pins the load generator to CPU 1. */
export const loadPin = tools.taskset ? ['taskset', '-c', '1'] : [];

/**
 * Runs one load phase.
 * @param {object} o
 * @param {'hello'|'create'|'reveal'} o.kind
 * @param {number} o.port
 * @param {number} o.seconds
 * @param {number} o.connections
 * @param {string} [o.keysOut] file the created keys go to (create)
 * @param {string} [o.keysIn] file of keys to read once (reveal)
 * @param {boolean} [o.pin] pin the load generator (default true)
 * @returns {Promise<{ok:number, other:number, seconds:number, perSecond:number, p50:number, p99:number, exhausted:boolean, cpuSeconds:number|null}>}
 *   latencies in milliseconds; `cpuSeconds` is the load generator's own CPU time (wrk only)
 */
export function load(o) {
  return tools.wrk ? wrkLoad(o) : autocannonLoad(o);
}

function wrkLoad({ kind, port, seconds, connections, keysOut, keysIn, pin = true }) {
  const wrkArgs = [
    '-t1',
    `-c${connections}`,
    `-d${seconds}s`,
    '--timeout',
    '10s',
    '-s',
    `${LUA_DIR}/${kind}.lua`,
    `http://127.0.0.1:${port}`,
  ];
  // `times` prints the shell's children's CPU time after wrk exits: the load generator's share.
  const cmd = [...(pin ? loadPin : []), 'wrk', ...wrkArgs].map((a) => `'${a}'`).join(' ');
  return new Promise((resolve, reject) => {
    const proc = spawn('sh', ['-c', `${cmd}; times`], {
      env: { ...process.env, BENCH_LUA_DIR: LUA_DIR, BENCH_KEYS_OUT: keysOut ?? '', BENCH_KEYS_IN: keysIn ?? '', BENCH_THREADS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (out += d));
    proc.on('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('BENCH '));
      const took = /requests in ([\d.]+)(ms|s|m|h)\b/.exec(out);
      if (!line || !took) return reject(new Error(`wrk failed:\n${out}`));
      const r = JSON.parse(line.slice(6));
      const duration = Number(took[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[took[2]];
      const exhausted = r.exhaustedAfter > 0;
      const times =
        out
          .trim()
          .split('\n')
          .slice(-1)[0]
          .match(/(\d+)m([\d.]+)s/g) ?? [];
      const cpuSeconds =
        times.length === 2
          ? times
              .map((t) => {
                const [, m, s] = /(\d+)m([\d.]+)s/.exec(t);
                return Number(m) * 60 + Number(s);
              })
              .reduce((a, b) => a + b)
          : null;
      resolve({
        ok: r.ok,
        other: r.other,
        seconds: duration,
        perSecond: r.ok / (exhausted ? r.exhaustedAfter : duration),
        p50: r.p50 / 1000,
        p99: r.p99 / 1000,
        exhausted,
        cpuSeconds,
      });
    });
  });
}

async function autocannonLoad({ kind, port, seconds, connections, keysOut, keysIn }) {
  const json = { 'content-type': 'application/json' };
  let ok = 0;
  let other = 0;
  const keys = keysIn ? readFileSync(keysIn, 'utf8').split('\n').filter(Boolean) : [];
  const created = [];
  let next = 0;
  let exhaustedAt = 0;
  const started = performance.now();
  const request =
    kind === 'hello'
      ? { method: 'POST', path: '/hello', headers: json, body: '{}' }
      : kind === 'create'
        ? {
            method: 'POST',
            path: '/generate',
            headers: json,
            body: JSON.stringify({ secret: 'benchmark secret value', passphrase: 'benchmark passphrase' }),
          }
        : {
            method: 'POST',
            headers: json,
            body: JSON.stringify({ passphrase: 'benchmark passphrase' }),
            setupRequest: (req) => {
              if (next >= keys.length && !exhaustedAt) exhaustedAt = performance.now();
              return { ...req, path: `/secrets/${keys[next++] ?? 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'}` };
            },
          };
  const want = kind === 'create' ? 201 : 200;
  request.onResponse = (status, body) => {
    if (status !== want) return void other++;
    ok++;
    if (kind === 'create' && keysOut) created.push(JSON.parse(body).secret_key);
  };
  const r = await new Promise((resolve, reject) =>
    autocannon({ url: `http://127.0.0.1:${port}`, connections, duration: seconds, requests: [request] }, (e, res) =>
      e ? reject(e) : resolve(res),
    ),
  );
  if (keysOut) (await import('node:fs')).writeFileSync(`${keysOut}.0`, `${created.join('\n')}\n`);
  const duration = r.duration;
  const exhausted = exhaustedAt > 0;
  return {
    ok,
    other,
    seconds: duration,
    perSecond: ok / (exhausted ? (exhaustedAt - started) / 1000 : duration),
    p50: r.latency.p50,
    p99: r.latency.p99,
    exhausted,
    cpuSeconds: null,
  };
}
