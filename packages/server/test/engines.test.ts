import { describe, expect, it } from 'vitest';
import { startHyperExpress, startNodeHttp } from '@vanish/server';

describe.each([
  ['hyper-express', startHyperExpress],
  ['node', startNodeHttp],
] as const)('%s engine, when the API itself fails', (_name, start) => {
  it('answers a generic JSON 500 with the security headers, never a stack trace', async () => {
    const engine = await start(async () => {
      throw new Error('boom at /internal/path.ts:12');
    }, 0, '127.0.0.1');
    try {
      const res = await fetch(`http://127.0.0.1:${engine.port}/generate`, { method: 'POST' });
      expect(res.status).toBe(500);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const text = await res.text();
      expect(JSON.parse(text).error.code).toBe('internal');
      expect(text).not.toContain('boom');
    } finally {
      await engine.close(1000);
    }
  });
});
