import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  // Runs in browsers, Node >= 20, Deno and Bun: no Node built-ins, only fetch and URL.
  platform: 'neutral',
  target: 'es2022',
});
