import { createHmac, scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KDF_PROFILES, parseSecretKey, Vanish } from '../src/index.js';
import { deriveDataKey, deriveLookupId, derivePassphraseKey, encodeAssociatedData, open } from '../src/internal.js';
import { ReferenceStore } from './helpers/reference-store.js';

// RFC 5869 HKDF written out with HMAC, independent of node's hkdfSync.
function hkdf(ikm: Buffer, salt: Buffer, info: Buffer, length: number): Buffer {
  const prk = createHmac('sha256', salt.length ? salt : Buffer.alloc(32)).update(ikm).digest();
  let t = Buffer.alloc(0);
  const out: Buffer[] = [];
  for (let i = 1; Buffer.concat(out).length < length; i++) {
    t = createHmac('sha256', prk).update(Buffer.concat([t, info, Buffer.from([i])])).digest();
    out.push(t);
  }
  return Buffer.concat(out).subarray(0, length);
}

// A v1 record pinned forever: if any of these change, records already stored become unreadable.
const V1 = {
  token: Buffer.alloc(32, 0x11),
  secretKey: 'ARERERERERERERERERERERERERERERERERERERERERER',
  passphrase: 'correct horse battery',
  salt: Buffer.alloc(16, 0x22),
  iv: Buffer.alloc(12, 0x33),
  id: '42ed8ece4e4236fff9563735395da101ca0c98c28321082148bb3df5cf6f60e4',
  passphraseKey: '684563c28bb27c57f656ad4fe6e829fe35694d07445f06377d2ffb02edc8b232',
  dataKey: '04f49215c9e6227daa8be4d8f4ed96be6073beb7666781123ef30e823ef70189',
  aad:
    '76616e69736801010000001000000001000000012042ed8ece4e4236fff9563735395da101ca0c98c28321082148bb3df5cf6f60e4000001b8dac5b400000001b8dafca28000000005',
  ciphertext: '2ade0200f46abbd91b1165faa1ad357039d398e6d538d050031475c54d8810cb9fa8b1e7f6258b075ddd',
  plaintext: 'vanish v1 known answer ✓',
  createdAt: 1893456000000,
  expiresAt: 1893459600000,
};

describe('v1 derivations (known answers)', () => {
  it('lookup id is HKDF-SHA256(T, ∅, "vanish/v1/lookup")', () => {
    const id = deriveLookupId(V1.token);
    expect(id.toString('hex')).toBe(V1.id);
    expect(id).toEqual(hkdf(V1.token, Buffer.alloc(0), Buffer.from('vanish/v1/lookup'), 32));
  });

  it('secret_key is base64url(0x01 ‖ T)', () => {
    expect(parseSecretKey(V1.secretKey)).toEqual(V1.token);
  });

  it('passphrase key is scrypt over the NFKC form (RFC 7914 vector, and NFKC equivalence)', async () => {
    // RFC 7914 §12, third vector, first 32 bytes (PBKDF2 blocks are independent).
    const rfc = await derivePassphraseKey('pleaseletmein', Buffer.from('SodiumChloride'), { N: 16384, r: 8, p: 1 });
    expect(rfc.toString('hex')).toBe('7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2');
    const params = KDF_PROFILES['insecure-test'];
    const ligature = await derivePassphraseKey('\ufb01le secret', V1.salt, params);
    const plain = await derivePassphraseKey('file secret', V1.salt, params);
    expect(ligature).toEqual(plain);
    const kpw = await derivePassphraseKey(V1.passphrase, V1.salt, params);
    expect(kpw.toString('hex')).toBe(V1.passphraseKey);
    expect(kpw).toEqual(scryptSync(Buffer.from(V1.passphrase), V1.salt, 32, { N: 16, r: 1, p: 1 }));
  });

  it('data key is HKDF-SHA256(T ‖ Kpw, salt, "vanish/v1/key" ‖ id)', () => {
    const id = Buffer.from(V1.id, 'hex');
    const kpw = Buffer.from(V1.passphraseKey, 'hex');
    const key = deriveDataKey(V1.token, kpw, V1.salt, id);
    expect(key.toString('hex')).toBe(V1.dataKey);
    expect(key).toEqual(hkdf(Buffer.concat([V1.token, kpw]), V1.salt, Buffer.concat([Buffer.from('vanish/v1/key'), id]), 32));
  });

  it('associated data has the fixed binary layout', () => {
    const aad = encodeAssociatedData({
      v: 1,
      kdf: KDF_PROFILES['insecure-test'],
      id: Buffer.from(V1.id, 'hex'),
      createdAt: V1.createdAt,
      expiresAt: V1.expiresAt,
      maxAttempts: 5,
    });
    expect(aad.toString('hex')).toBe(V1.aad);
  });

  it('the pinned ciphertext opens with the pinned key', () => {
    const plain = open(Buffer.from(V1.dataKey, 'hex'), V1.iv, Buffer.from(V1.ciphertext, 'hex'), Buffer.from(V1.aad, 'hex'));
    expect(plain?.toString('utf8')).toBe(V1.plaintext);
  });

  it('Vanish.reveal reads the pinned v1 record end to end', async () => {
    const store = new ReferenceStore();
    await store.create({
      id: Buffer.from(V1.id, 'hex'),
      v: 1,
      kdf: { ...KDF_PROFILES['insecure-test'] },
      salt: V1.salt,
      iv: V1.iv,
      ciphertext: Buffer.from(V1.ciphertext, 'hex'),
      createdAt: V1.createdAt,
      expiresAt: V1.expiresAt,
      maxAttempts: 5,
      attempts: 0,
    });
    const vanish = new Vanish({ store, clock: () => V1.createdAt + 1000, allowInsecureKdf: true });
    await expect(vanish.reveal({ secretKey: V1.secretKey, passphrase: V1.passphrase })).resolves.toBe(V1.plaintext);
    await store.close();
  });
});
