import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type {} from '@vanish/testkit/redis-global-setup';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

// What a stranger gets: the packages packed with `npm pack`, installed from the tarballs into a
// fresh app outside this repository (no workspace links, no root overrides), then used through
// `require`, `import`, the `vanish` command and the TypeScript compiler.
const root = fileURLToPath(new URL('../', import.meta.url));
/** What the server needs from the workspace: its page (@vanish/web) comes as a package too. */
const PACKED = ['core', 'adapters', 'server', 'web', 'client'] as const;
/** The libraries whose manifests and types are checked with publint and arethetypeswrong. */
const PACKAGES = ['core', 'adapters', 'server', 'client'] as const;
/** The suite's real Redis (see @vanish/testkit's redis-global-setup.ts); '' when none could be had. */
const redisUrl = inject('redisUrl');
let app: string;
let packs: string;

/** This repository's npm settings (strict allow-scripts, engine-strict) are not a stranger's. */
// (npm_config_nodedir stays: it is the machine's, pointing native builds at the running Node's headers.)
const strangerEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => (!/^npm_/i.test(k) || k.toLowerCase() === 'npm_config_nodedir') && k !== 'NODE_OPTIONS'),
);

function run(cmd: string, args: string[], cwd: string, timeout = 60_000): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'], env: strangerEnv });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${e.message}\n${e.stdout ?? ''}\n${(e.stderr ?? '').slice(-3000)}`);
  }
}

beforeAll(() => {
  packs = mkdtempSync(join(tmpdir(), 'vanish-packs-'));
  app = mkdtempSync(join(tmpdir(), 'vanish-app-'));
  run('npm', ['pack', '--silent', '--pack-destination', packs, ...PACKED.flatMap((p) => ['--workspace', `packages/${p}`])], root);
  const tarballs = readdirSync(packs).filter((f) => f.endsWith('.tgz'));
  expect(tarballs).toHaveLength(PACKED.length);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'stranger-app', version: '1.0.0', private: true }));
  // ioredis is what an app that chose the Redis store adds, and the @types packages what a TypeScript app
  // using the SQLite adapter adds (the adapters README says so); mongodb and hyper-express are left out on purpose.
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      ...tarballs.map((t) => join(packs, t)),
      'ioredis@6.0.0',
      '@types/node@20.19.43',
      '@types/better-sqlite3@7.6.13',
    ],
    app,
    400_000,
  );
}, 420_000);

afterAll(() => {
  rmSync(app, { recursive: true, force: true });
  rmSync(packs, { recursive: true, force: true });
});

const ROUND_TRIP = (load: string) => `
${load}
const vanish = new Vanish({ store: new MemoryStore(), kdf: 'insecure-test', allowInsecureKdf: true });
const { secretKey } = await vanish.create({ secret: 'from a stranger', passphrase: 'correct horse battery' });
const first = await vanish.reveal({ secretKey, passphrase: 'correct horse battery' });
const second = await vanish.reveal({ secretKey, passphrase: 'correct horse battery' }).catch((e) => e.code);
await vanish.close?.();

const server = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', VANISH_STORE: 'memory', VANISH_KDF: 'insecure-test', VANISH_ALLOW_INSECURE_KDF: 'true', LOG_LEVEL: 'silent' }));
const base = 'http://127.0.0.1:' + server.port;
const post = (path, body) => fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const created = await (await post('/generate', { secret: 'over http', passphrase: 'correct horse battery' })).json();
const revealed = await (await post('/secrets/' + created.secret_key, { passphrase: 'correct horse battery' })).json();
const gone = (await post('/secrets/' + created.secret_key, { passphrase: 'correct horse battery' })).status;
await server.close();
console.log(JSON.stringify({ first, second, revealed: revealed.secret, gone, engine: server.engine }));
`;

describe('the packed packages in a fresh app', () => {
  it('work through require (CommonJS): create -> reveal -> second reveal 404, in-process and over HTTP', () => {
    writeFileSync(
      join(app, 'cjs.cjs'),
      `(async () => {${ROUND_TRIP(`const { Vanish } = require('@vanish/core'); const { MemoryStore } = require('@vanish/adapters/memory'); const { startServer, loadConfig } = require('@vanish/server');`)}})().catch((e) => { console.error(e); process.exit(1); });`,
    );
    const out = JSON.parse(run(process.execPath, ['cjs.cjs'], app));
    expect(out).toEqual({ first: 'from a stranger', second: 'secret_not_found', revealed: 'over http', gone: 404, engine: 'node' });
  });

  it('work through import (ESM)', () => {
    writeFileSync(
      join(app, 'esm.mjs'),
      ROUND_TRIP(
        `import { Vanish } from '@vanish/core'; import { MemoryStore } from '@vanish/adapters/memory'; import { startServer, loadConfig } from '@vanish/server';`,
      ),
    );
    const out = JSON.parse(run(process.execPath, ['esm.mjs'], app));
    expect(out).toEqual({ first: 'from a stranger', second: 'secret_not_found', revealed: 'over http', gone: 404, engine: 'node' });
  });

  it('install without hyper-express or uWebSockets.js (no git clone), and serve with node:http', () => {
    expect(readdirSync(join(app, 'node_modules'))).not.toContain('hyper-express');
    expect(readdirSync(join(app, 'node_modules'))).not.toContain('uWebSockets.js');
  });

  it('the vanish command serves with SQLite by default and stops on SIGTERM', async () => {
    const data = join(app, 'data-cli');
    mkdirSync(data, { recursive: true });
    const child = spawn(join(app, 'node_modules/.bin/vanish'), ['serve'], {
      cwd: app,
      env: { PATH: process.env['PATH'] ?? '', PORT: '0', HOST: '127.0.0.1', VANISH_SQLITE_PATH: join(data, 'v.db') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 20_000;
    let port = 0;
    while (!port && Date.now() < deadline) {
      const line = out.split('\n').find((l) => l.includes('"msg":"listening"'));
      if (line) port = (JSON.parse(line) as { port: number }).port;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(out).toContain('"engine":"node"');
    expect(out).toContain('"store":"sqlite"');
    expect(out).toMatch(/"engineReason":"uWebSockets\.js failed to load/);
    const post = (path: string, body: unknown) =>
      fetch(`http://127.0.0.1:${port}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const created = (await (await post('/generate', { secret: 'cli', passphrase: 'correct horse battery' })).json()) as {
      secret_key: string;
    };
    expect((await post('/reveal', { secret_key: created.secret_key, passphrase: 'correct horse battery' })).status).toBe(200);
    // The installed command is a client too, through the packed @vanish/client.
    const bin = join(app, 'node_modules/.bin/vanish');
    const shared = JSON.parse(
      execFileSync(bin, ['share', '--generate', '--json', '--server', `http://127.0.0.1:${port}`], {
        cwd: app,
        input: 'shared by the installed command',
        encoding: 'utf8',
        env: strangerEnv,
      }),
    ) as { link: string; passphrase: string };
    writeFileSync(join(app, 'passphrase'), shared.passphrase);
    expect(
      execFileSync(bin, ['reveal', shared.link, '--passphrase-file', join(app, 'passphrase')], {
        cwd: app,
        encoding: 'utf8',
        env: strangerEnv,
      }),
    ).toBe('shared by the installed command');
    // The installed server finds its web page in the installed @vanish/web.
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 40_000);

  it('a store whose driver is missing names the package to install', () => {
    writeFileSync(
      join(app, 'missing.mjs'),
      `import { startServer, loadConfig } from '@vanish/server';
       await startServer(loadConfig({ PORT: '0', VANISH_STORE: 'mongodb', LOG_LEVEL: 'silent' })).then(() => console.log('started'), (e) => console.log(e.message));`,
    );
    expect(run(process.execPath, ['missing.mjs'], app)).toMatch(/VANISH_STORE=mongodb needs the "mongodb" package.*npm install mongodb@7/);
  });

  it.skipIf(!redisUrl)(
    'choosing Redis does not load the better-sqlite3 binding (skipped only where no redis-server exists; CI fails then)',
    () => {
      writeFileSync(
        join(app, 'redis.cjs'),
        `const { startServer, loadConfig } = require('@vanish/server');
       (async () => {
         const server = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', VANISH_STORE: 'redis', REDIS_URL: process.env.REDIS_URL, VANISH_REDIS_PREFIX: 'vanish-install:', LOG_LEVEL: 'silent' }));
         const loaded = Object.keys(require.cache);
         await server.close();
         console.log(JSON.stringify({ sqlite: loaded.some((k) => k.includes('better-sqlite3')), ioredis: loaded.some((k) => k.includes('ioredis')) }));
       })();`,
      );
      const out = execFileSync(process.execPath, ['redis.cjs'], {
        cwd: app,
        encoding: 'utf8',
        env: { ...strangerEnv, REDIS_URL: redisUrl },
      });
      expect(JSON.parse(out)).toEqual({ sqlite: false, ioredis: true });
    },
  );

  it.each([
    ['nodenext', { module: 'nodenext', moduleResolution: 'nodenext' }],
    ['bundler', { module: 'esnext', moduleResolution: 'bundler' }],
    ['node10', { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true }],
  ])('type-checks an app under %s resolution', (name, options) => {
    const dir = join(app, `ts-${name}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'index.ts'),
      `import { Vanish, SecretNotFoundError, type SecretStore } from '@vanish/core';
       import { runStoreConformance } from '@vanish/core/testing';
       import { MemoryStore } from '@vanish/adapters/memory';
       import { SqliteStore } from '@vanish/adapters/sqlite';
       import { RedisStore } from '@vanish/adapters/redis';
       import { loadConfig, startServer, type RunningServer } from '@vanish/server';
       const store: SecretStore = new MemoryStore();
       const vanish = new Vanish({ store });
       export async function main(): Promise<RunningServer> {
         const { secretKey } = await vanish.create({ secret: 's', passphrase: 'correct horse battery' });
         await vanish.reveal({ secretKey, passphrase: 'correct horse battery' }).catch((e: unknown) => e instanceof SecretNotFoundError);
         void [runStoreConformance, SqliteStore, RedisStore];
         return startServer(loadConfig(process.env));
       }
      `,
    );
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { ...options, target: 'es2022', strict: true, noEmit: true, types: ['node'], ignoreDeprecations: '5.0' },
        files: ['index.ts'],
      }),
    );
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    expect(() => run(process.execPath, [tsc, '-p', 'tsconfig.json'], dir)).not.toThrow();
  });
});

describe.each(PACKAGES)('@vanish/%s as published', (pkg) => {
  it('passes publint', () => {
    const out = run(join(root, 'node_modules/.bin/publint'), ['--strict', `packages/${pkg}`], root);
    expect(out).toContain('All good');
  });

  it('passes arethetypeswrong for node10, node16 (CJS and ESM) and bundler', () => {
    const out = run(join(root, 'node_modules/.bin/attw'), ['--pack', '.', '--format', 'ascii'], join(root, 'packages', pkg));
    expect(out).toContain('No problems found');
  });
});
