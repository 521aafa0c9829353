import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { memory: 'src/memory.ts', sqlite: 'src/sqlite.ts', redis: 'src/redis.ts', mongodb: 'src/mongodb.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: ['@vanish/core', 'better-sqlite3', 'ioredis', 'mongodb'],
  shims: true, // import.meta.url in the CommonJS build (the SQLite checkpoint worker finds the driver with it)
});
