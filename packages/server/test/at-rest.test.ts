import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startTestServer } from './helpers/server.js';

function encodings(value: string | Buffer): Buffer[] {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const forms = [
    bytes,
    Buffer.from(bytes.toString('hex')),
    Buffer.from(bytes.toString('hex').toUpperCase()),
    Buffer.from(bytes.toString('base64')),
    Buffer.from(bytes.toString('base64url')),
  ];
  if (typeof value === 'string') forms.push(Buffer.from(value, 'utf16le'), Buffer.from(value.normalize('NFKC'), 'utf8'));
  // base64 of a prefix is stable regardless of alignment for the first 3n bytes
  return forms.map((f) => (f.length > 24 ? f.subarray(0, 24) : f));
}

describe('at rest', () => {
  it('the SQLite file and its WAL hold no secret, passphrase, secret_key or token in any common encoding', async () => {
    const t = await startTestServer({ VANISH_KDF: 'insecure-test' });
    const needles: Buffer[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const secret = `at-rest secret ${randomBytes(12).toString('hex')} ✓`;
        const passphrase = `pass ${randomBytes(9).toString('base64')}`;
        const res = await fetch(`${t.url}/generate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ secret, passphrase }),
        });
        const { secret_key: key } = (await res.json()) as { secret_key: string };
        const token = Buffer.from(key, 'base64url').subarray(1);
        needles.push(...encodings(secret), ...encodings(passphrase), ...encodings(key), ...encodings(token));
        if (i % 2 === 0) {
          const revealed = await fetch(`${t.url}/secrets/${key}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ passphrase }),
          });
          expect(revealed.status).toBe(200);
        }
      }
      expect(t.rowCount()).toBe(10);
      const files = [t.dbPath, `${t.dbPath}-wal`, `${t.dbPath}-shm`].filter((f) => existsSync(f));
      expect(files.length).toBeGreaterThanOrEqual(2);
      const contents = files.map((f) => readFileSync(f));
      expect(contents.reduce((n, c) => n + c.length, 0)).toBeGreaterThan(4096);
      for (const needle of needles) {
        for (const content of contents) expect(content.includes(needle)).toBe(false);
      }
      // The scan can find things: the stored lookup ids are in the file.
      const anyId = Buffer.from(JSON.parse(t.snapshot())[0].id.data);
      expect(contents.some((c) => c.includes(anyId))).toBe(true);
    } finally {
      await t.close();
    }
  });
});
