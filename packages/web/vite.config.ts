import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Two pages: / (send) and /s (read). Assets get content-hashed names under /assets/, which the
// server caches as immutable. Nothing is inlined: the CSP forbids inline script and style, and
// small assets would otherwise become data: URLs.
export default defineConfig({
  root: here('.'),
  base: '/',
  publicDir: false,
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    cssCodeSplit: true,
    modulePreload: { polyfill: false },
    sourcemap: false,
    rollupOptions: {
      input: { send: here('index.html'), reveal: here('s/index.html') },
    },
  },
});
