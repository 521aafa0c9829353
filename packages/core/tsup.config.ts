import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts', 'internal/index': 'src/internal.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  // One copy of each module in the CommonJS build too: without it `internal/index.cjs` carries its
  // own copies of the error classes, and `instanceof` fails across the two entries.
  splitting: true,
  target: 'node20',
});
