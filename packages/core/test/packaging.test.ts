import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 20_000 });

// These run the built packages through their exports maps, as an app that installs them would.
describe('published builds', () => {
  it('the README example runs (ESM)', () => {
    expect(run(['examples/embed.mjs'])).toBe('db password: hunter2\nsecret_not_found\n');
  });

  it('every entry point loads with require (CJS) and import (ESM)', () => {
    const cjs = run([
      '-e',
      `const c = require('@vanish/core'); const t = require('@vanish/core/testing');
       const m = require('@vanish/adapters/memory'); const s = require('@vanish/adapters/sqlite');
       console.log([typeof c.Vanish, typeof t.runStoreConformance, typeof m.MemoryStore, typeof s.SqliteStore].join(','))`,
    ]);
    expect(cjs.trim()).toBe('function,function,function,function');
    const esm = run([
      '--input-type=module',
      '-e',
      `const s = await import('@vanish/server'); const m = await import('@vanish/adapters/memory');
       console.log(typeof s.startServer, typeof m.MemoryStore)`,
    ]);
    expect(esm.trim()).toBe('function function');
  });

  it('importing the memory adapter does not load better-sqlite3', () => {
    const out = run(['-e', `require('@vanish/adapters/memory'); console.log(Object.keys(require.cache).some((k) => k.includes('better-sqlite3')))`]);
    expect(out.trim()).toBe('false');
  });
});
