import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { memory: 'src/memory.ts', sqlite: 'src/sqlite.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: ['@vanish/core', 'better-sqlite3'],
});
