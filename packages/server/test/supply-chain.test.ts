import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// scripts/audit-lockfile.mjs (SECURITY.md, "Supply chain"): the offline check CI runs.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const script = join(root, 'scripts', 'audit-lockfile.mjs');
const run = (dir: string) => spawnSync(process.execPath, [script, dir], { encoding: 'utf8' });

describe('npm run audit:lockfile', () => {
  it('passes on this repository, with the installed uWebSockets.js files hashed', () => {
    const result = run(root);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /uWebSockets\.js = @trufflesuite\/uws-js-unofficial@20\.30\.0-unofficial\.0 \(integrity pinned, 3 installed files hashed\)/,
    );
  });

  it('fails, naming each problem, on a lockfile with a swapped uWebSockets.js, a git dependency and a package without integrity', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vanish-lock-'));
    try {
      const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
      lock.packages['node_modules/uWebSockets.js'].integrity = `sha512-${'A'.repeat(86)}==`;
      lock.packages['node_modules/fast-check'].resolved = 'git+https://github.com/example/fast-check.git#abc';
      delete lock.packages['node_modules/pino'].integrity;
      writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock));
      writeFileSync(join(dir, 'package.json'), readFileSync(join(root, 'package.json')));
      const result = run(dir);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('uWebSockets.js integrity changed');
      expect(result.stderr).toContain(
        'node_modules/fast-check: resolved from git+https://github.com/example/fast-check.git#abc, not the npm registry',
      );
      expect(result.stderr).toContain('node_modules/pino: no sha512 integrity');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
