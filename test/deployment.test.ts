import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { validate as validateDockerfile } from 'dockerfile-utils';
import { parse } from 'yaml';

// No Docker engine runs on this project's machines. What can be checked offline is checked
// here: the compose files against the compose-spec schema (dclint) and by Debian's
// docker-compose 1.29 (`config`, which resolves `extends` and catches undefined references),
// the resolved services for each backend, and the Dockerfile against what CI runs.
const root = fileURLToPath(new URL('../', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const STORES = ['mongodb', 'redis', 'sqlite'] as const;

const hasCompose = spawnSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' }).status === 0;
if (!hasCompose) {
  if (process.env['CI']) throw new Error('CI must validate docker-compose.yml: .ci/run installs docker-compose.');
  console.warn(
    '\n!!! docker-compose NOT INSTALLED: the resolved-compose checks are skipped (apt-get install -y --no-install-recommends docker-compose).\n',
  );
}

interface Service {
  image?: string;
  build?: { context: string; args?: Record<string, string> };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: (string | { type: string; source: string; target: string })[];
  ports?: unknown[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

function resolvedCompose(store: string): Compose {
  const out = execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', VANISH_STORE: store },
    encoding: 'utf8',
  });
  return parse(out) as Compose;
}

function volumeSources(service: Service): string[] {
  return (service.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[0]! : v.source));
}

describe('docker-compose.yml', () => {
  it('passes the compose-spec schema and lint (dclint)', () => {
    const result = spawnSync(join(root, 'node_modules/.bin/dclint'), ['docker-compose.yml', 'docker/stores.yml'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(result.stdout + result.stderr).not.toMatch(/error/);
    expect(result.status).toBe(0);
  });

  it.skipIf(!hasCompose).each(STORES)(
    'VANISH_STORE=%s resolves: pinned images, healthchecks, the server waits for a healthy store, named volumes',
    (store) => {
      const compose = resolvedCompose(store);
      expect(Object.keys(compose.services).sort()).toEqual(['store', 'vanish']);
      const { vanish, store: backend } = compose.services as { vanish: Service; store: Service };
      expect(vanish.environment?.['VANISH_STORE']).toBe(store);
      expect(vanish.depends_on).toEqual({ store: { condition: 'service_healthy' } });
      expect(vanish.build?.args?.['NODE_VERSION']).toBe(dockerfileNodeVersion());
      expect(vanish.ports).toHaveLength(1);
      expect(JSON.stringify(vanish.ports)).toContain('127.0.0.1');
      expect(volumeSources(vanish)).toEqual(['vanish-data']);
      for (const service of [vanish, backend]) expect(service.healthcheck?.test.length).toBeGreaterThan(1);
      expect(backend.image).toMatch(/^[a-z]+:\d+\.\d+\.\d+(-[a-z]+)?$/);
      const declared = Object.keys(compose.volumes ?? {});
      for (const source of volumeSources(backend)) expect(declared).toContain(source);
      if (store === 'mongodb') {
        expect(volumeSources(backend)).toEqual(['mongodb-data']);
        expect(vanish.environment?.['MONGODB_URL']).toBe('mongodb://store:27017/vanish');
      }
      if (store === 'redis') {
        expect(volumeSources(backend)).toEqual(['redis-data']);
        expect(backend.command?.join(' ')).toContain('--appendonly yes --appendfsync always');
        expect(vanish.environment?.['REDIS_URL']).toBe('redis://store:6379');
      }
    },
  );

  it.skipIf(!hasCompose)('an unknown VANISH_STORE does not resolve', () => {
    const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
      cwd: root,
      env: { PATH: process.env['PATH'] ?? '', VANISH_STORE: 'postgres' },
      encoding: 'utf8',
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('postgres');
  });
});

function dockerfileNodeVersion(): string {
  const m = /^ARG NODE_VERSION=(\S+)$/m.exec(read('Dockerfile'));
  if (!m) throw new Error('Dockerfile has no ARG NODE_VERSION default');
  return m[1]!;
}

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runs = (stage: string) => [...stage.matchAll(/^RUN (.+(?:\\\n.+)*)$/gm)].map((m) => m[1]!.replace(/\\\n\s*/g, ' '));

  it('is a valid Dockerfile (instructions, arguments, one HEALTHCHECK per stage)', () => {
    expect(validateDockerfile(dockerfile).map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
    const broken = dockerfile
      .replace('USER node', 'USR node')
      .replace('COPY --from=build --chown=root:root /app/package.json ./', 'COPY ./');
    expect(validateDockerfile(broken).length).toBe(2);
  });

  it('builds with the Node CI runs its second suite on (an LTS line; node:http serves there)', () => {
    const version = dockerfileNodeVersion();
    const ci = /^NODE_SECOND=(\S+)$/m.exec(read('.ci/run'))?.[1];
    expect(version).toBe(ci);
    expect(stages.map((s) => s.split('\n')[0])).toEqual([
      'node:$' + '{NODE_VERSION}-bookworm-slim AS build',
      'node:$' + '{NODE_VERSION}-bookworm-slim AS runtime',
    ]);
  });

  it('runs the same install and build commands as CI, then drops dev dependencies', () => {
    const build = runs(stages[0]!);
    const ci = read('.ci/run');
    const install = build.find((r) => r.startsWith('npm ci'));
    expect(install).toBe('npm ci --no-audit --no-fund');
    expect(ci).toContain(`if ! ${install}; then`);
    expect(build).toContain('npm run build');
    expect(JSON.parse(read('package.json')).scripts.test).toMatch(/^npm run build --silent && /);
    expect(build.at(-1)).toBe('npm prune --omit=dev --no-audit --no-fund');
    expect(build.find((r) => r.startsWith('npm install -g npm@'))).toBe(
      `npm install -g npm@${JSON.parse(read('package.json')).packageManager.split('@')[1]} --no-audit --no-fund`,
    );
  });

  it('runtime: production only, non-root, health-checked on /healthz, no build tools', () => {
    const runtime = stages[1]!;
    expect(runtime).toMatch(/^ENV NODE_ENV=production/m);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\n.*\/healthz/m);
    expect(runtime).not.toMatch(/apt-get|npm ci|npm install/);
    expect(runtime).toMatch(/^ENTRYPOINT \["node", "packages\/server\/dist\/cli.js"\]$/m);
  });

  it('runtime: copies the manifest and dist of every workspace package the server depends on (node_modules only links them)', () => {
    const runtime = stages[1]!;
    const deps = Object.keys((JSON.parse(read('packages/server/package.json')) as { dependencies: Record<string, string> }).dependencies);
    const workspace = deps.filter((d) => d.startsWith('@vanish/')).map((d) => d.slice('@vanish/'.length));
    expect(workspace).toEqual(expect.arrayContaining(['core', 'adapters', 'client', 'web']));
    for (const pkg of workspace) {
      expect(runtime, pkg).toContain(`COPY --from=build --chown=root:root /app/packages/${pkg}/package.json packages/${pkg}/\n`);
      expect(runtime, pkg).toContain(`COPY --from=build --chown=root:root /app/packages/${pkg}/dist packages/${pkg}/dist\n`);
    }
  });

  it('every package a built file imports is a production or peer dependency (so the pruned image runs)', () => {
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    for (const pkg of ['core', 'adapters', 'server']) {
      const manifest = JSON.parse(read(`packages/${pkg}/package.json`)) as Record<string, Record<string, string> | undefined>;
      const allowed = new Set([...Object.keys(manifest['dependencies'] ?? {}), ...Object.keys(manifest['peerDependencies'] ?? {})]);
      const dist = join(root, 'packages', pkg, 'dist');
      const imported = new Set<string>();
      for (const file of readdirSync(dist).filter((f) => /\.(c?js)$/.test(f))) {
        const text = readFileSync(join(dist, file), 'utf8');
        for (const m of text.matchAll(/(?:from\s+|import\(|require\()\s*["']([^"'./][^"']*)["']/g)) {
          const spec = m[1]!;
          if (builtins.has(spec)) continue;
          imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
        }
      }
      // core has no runtime dependency at all (node:crypto only); the others import their drivers.
      if (pkg === 'core') expect([...imported], pkg).toEqual([]);
      else expect(imported.size, pkg).toBeGreaterThan(0);
      for (const name of imported) expect(allowed, `${pkg} imports ${name}`).toContain(name);
    }
  });
});
