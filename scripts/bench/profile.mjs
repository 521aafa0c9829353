// CPU profiles of `vanish serve` under wrk load: `node scripts/bench/profile.mjs <out-dir> [seconds]`.
// Server pinned to CPU 0 with `node --cpu-prof`, insecure-test KDF, SQLite; wrk on CPU 1. One
// profile for create, one for read-once (a second server on the same file, reading the keys the
// first one made); each summarised by module and by function (see summarize.mjs).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, serverPin } from './wrk.mjs';
import { summarize } from './summarize.mjs';

const out = resolve(process.argv[2] ?? 'profiles');
const seconds = Number(process.argv[3] ?? 10);
const CLI = fileURLToPath(new URL('../../packages/server/dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vanish-profile-'));
mkdirSync(out, { recursive: true });

async function serve(profDir) {
  const cmd = [...serverPin, process.execPath, '--cpu-prof', `--cpu-prof-dir=${profDir}`, CLI, 'serve'];
  const proc = spawn(cmd[0], cmd.slice(1), {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      VANISH_KDF: 'insecure-test',
      VANISH_ALLOW_INSECURE_KDF: 'true',
      VANISH_KDF_QUEUE: '100000',
      VANISH_RATE_LIMIT: '0',
      VANISH_SQLITE_PATH: join(dir, 'p.db'),
      VANISH_ENGINE: process.env.BENCH_ENGINE ?? 'hyper-express',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((r) => proc.on('exit', r));
  const port = await new Promise((res) => {
    let buf = '';
    const onData = (d) => {
      buf += d;
      const line = buf.split('\n').find((l) => l.includes('"msg":"listening"'));
      if (line) {
        // From here on the access log is only drained, cheaply: a slow reader would fill the pipe.
        proc.stdout.off('data', onData);
        proc.stdout.on('data', () => {});
        res(JSON.parse(line).port);
      }
    };
    proc.stdout.on('data', onData);
  });
  return {
    port,
    stop: async () => {
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

const report = [];
let keys;
for (const kind of ['create', 'reveal']) {
  const profDir = join(dir, kind);
  const s = await serve(profDir);
  let r;
  if (kind === 'create') {
    r = await load({ kind, port: s.port, seconds, connections: 32, keysOut: join(dir, 'keys') });
    keys = join(dir, 'keys.0');
  } else {
    r = await load({ kind, port: s.port, seconds, connections: 32, keysIn: keys });
  }
  await s.stop();
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  const profile = readFileSync(join(profDir, file), 'utf8');
  writeFileSync(join(out, `${kind}.cpuprofile`), profile);
  report.push(
    `## ${kind === 'create' ? 'create (POST /generate)' : 'read-once (POST /secrets/{key})'}\n\n${r.ok} answered in ${r.seconds.toFixed(1)} s under load: ${Math.round(r.perSecond)}/s${r.exhausted ? ' (keys ran out; rate over the time they lasted)' : ''}, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms.\n\n${summarize(JSON.parse(profile), r.ok)}`,
  );
}
writeFileSync(join(out, 'summary.md'), report.join('\n\n'));
console.log(report.join('\n\n'));
rmSync(dir, { recursive: true, force: true });
