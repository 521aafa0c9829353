import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

// The quick start must work with the npm each supported Node ships, and every package must
// install on each supported Node (with `engine-strict=true`, as this repository's .npmrc sets).
const root = fileURLToPath(new URL('../', import.meta.url));
const manifest = (path: string) =>
  JSON.parse(readFileSync(`${root}${path}/package.json`, 'utf8')) as { engines?: { node?: string; npm?: string }; private?: boolean };
const PACKAGES = ['core', 'adapters', 'server', 'client', 'web'];

describe('engines', () => {
  it('the repository installs with the npm bundled with Node 20 (10.8), 22 (10.9) and 24 (11)', () => {
    const range = manifest('.').engines?.npm ?? '*';
    for (const npm of ['10.8.2', '10.9.2', '11.6.2']) expect(semver.satisfies(npm, range), `npm ${npm} vs ${range}`).toBe(true);
  });

  it.each(['.', ...PACKAGES.map((p) => `packages/${p}`)])('%s runs on Node 20.19+, 22 and 24, and says it needs 20.19 at least', (path) => {
    const range = manifest(path).engines?.node;
    expect(range, path).toBeDefined();
    for (const node of ['20.19.0', '20.20.2', '22.12.0', '24.21.0', '26.0.0'])
      expect(semver.satisfies(node, range!), `${node} vs ${range}`).toBe(true);
    for (const node of ['18.20.0', '20.18.0']) expect(semver.satisfies(node, range!), `${node} vs ${range}`).toBe(false);
  });

  it('every published package has a license, and the repository has LICENSE, SECURITY.md and CHANGELOG.md', () => {
    for (const p of PACKAGES) expect((manifest(`packages/${p}`) as { license?: string }).license, p).toBe('MIT');
    for (const file of ['LICENSE', 'SECURITY.md', 'CHANGELOG.md'])
      expect(readFileSync(`${root}${file}`, 'utf8').length, file).toBeGreaterThan(200);
  });
});
