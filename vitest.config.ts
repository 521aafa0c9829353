import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

// Tests import the TypeScript sources (so coverage maps to real lines); the
// child-process tests run the built CLI in packages/server/dist.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@vanish\/core\/testing$/, replacement: src('core/src/testing/index.ts') },
      { find: /^@vanish\/core\/internal$/, replacement: src('core/src/internal.ts') },
      { find: /^@vanish\/core$/, replacement: src('core/src/index.ts') },
      { find: /^@vanish\/adapters\/memory$/, replacement: src('adapters/src/memory.ts') },
      { find: /^@vanish\/adapters\/sqlite$/, replacement: src('adapters/src/sqlite.ts') },
      { find: /^@vanish\/adapters\/redis$/, replacement: src('adapters/src/redis.ts') },
      { find: /^@vanish\/adapters\/mongodb$/, replacement: src('adapters/src/mongodb.ts') },
      { find: /^@vanish\/server$/, replacement: src('server/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    globalSetup: ['packages/adapters/test/helpers/redis-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default', './scripts/count-reporter.mjs'],
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**/*.ts'],
      exclude: ['packages/server/src/cli.ts', 'packages/*/src/index.ts', 'packages/*/src/testing/index.ts'],
      reporter: ['text-summary', 'text'],
      thresholds: {
        'packages/core/src/**': { lines: 90, branches: 80, functions: 90, statements: 90 },
        'packages/adapters/src/**': { lines: 90, branches: 80, functions: 90, statements: 90 },
        'packages/server/src/**': { lines: 90, branches: 80, functions: 90, statements: 90 },
      },
    },
  },
});
