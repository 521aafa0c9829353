import { describe, expect, it } from 'vitest';
import { parseSecretKey, SECRET_KEY_LENGTH } from '../src/index.js';
import { generateToken } from '../src/internal.js';

describe('secret_key format', () => {
  it('generates 44-character base64url keys that parse back to their token', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { token, secretKey } = generateToken();
      expect(secretKey).toMatch(/^[A-Za-z0-9_-]{44}$/);
      expect(secretKey).toHaveLength(SECRET_KEY_LENGTH);
      expect(parseSecretKey(secretKey)).toEqual(token);
      seen.add(secretKey);
    }
    expect(seen.size).toBe(200);
  });

  it('starts every key with the version byte 0x01', () => {
    const { secretKey } = generateToken();
    expect(Buffer.from(secretKey, 'base64url')[0]).toBe(1);
  });

  it.each([
    ['too short', 'AREREREREREREREREREREREREREREREREREREREREREE'.slice(0, 43)],
    ['too long', 'ARERERERERERERERERERERERERERERERERERERERERERE'],
    ['padding', 'ARERERERERERERERERERERERERERERERERERERERERE='],
    ['standard base64 alphabet', 'ARERERERERERERERERERERERERERERERERERERERER+/'],
    ['whitespace', 'ARERERERERERERERERERERERERERERERERERERERERE '],
    ['wrong version byte', Buffer.concat([Buffer.from([2]), Buffer.alloc(32, 0x11)]).toString('base64url')],
    ['version zero', Buffer.alloc(33).toString('base64url')],
    ['empty', ''],
    ['non-ASCII', 'ÄRERERERERERERERERERERERERERERERERERERERERER'],
  ])('rejects %s', (_name, key) => {
    expect(parseSecretKey(key)).toBeNull();
  });

  it.each([[null], [undefined], [42], [{}], [['ARERERERERERERERERERERERERERERERERERERERERER']]])('rejects the non-string %j', (value) => {
    expect(parseSecretKey(value)).toBeNull();
  });
});
