import { createHmac, scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCipheriv } from 'node:crypto';
import { KDF_PROFILES, parseSecretKey, SecretNotFoundError, Vanish, type SecretRecord } from '../src/index.js';
import {
  deriveDataKey,
  deriveLookupId,
  derivePassphraseKey,
  encodeAssociatedData,
  frameText,
  open,
  paddedFrameLength,
  padme,
  seal,
  unframePlaintext,
} from '../src/internal.js';
import { ReferenceStore } from './helpers/reference-store.js';

// RFC 5869 HKDF written out with HMAC, independent of node's hkdfSync.
function hkdf(ikm: Buffer, salt: Buffer, info: Buffer, length: number): Buffer {
  const prk = createHmac('sha256', salt.length ? salt : Buffer.alloc(32))
    .update(ikm)
    .digest();
  let t = Buffer.alloc(0);
  const out: Buffer[] = [];
  for (let i = 1; Buffer.concat(out).length < length; i++) {
    t = createHmac('sha256', prk)
      .update(Buffer.concat([t, info, Buffer.from([i])]))
      .digest();
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
  aad: '76616e69736801010000001000000001000000012042ed8ece4e4236fff9563735395da101ca0c98c28321082148bb3df5cf6f60e4000001b8dac5b400000001b8dafca28000000005',
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

// Format v2: the same derivations, version byte 2 in the associated data, and the
// plaintext framed as u32be(length) ‖ plaintext ‖ zeros, 4 + max(64, padmé(length)) bytes.
// The ciphertexts below were computed with node's AES-256-GCM straight from that
// description (not with vanish's code); they are pinned forever like the v1 vector.
const V2 = {
  aad: '76616e69736802010000001000000001000000012042ed8ece4e4236fff9563735395da101ca0c98c28321082148bb3df5cf6f60e4000001b8dac5b400000001b8dafca28000000005',
  plaintext: 'vanish v2 known answer ✓', // 26 bytes -> 68-byte frame -> 84-byte ciphertext
  ciphertext:
    '5cbf6c73f163f5c659592ee2fcfa303e37ca85b1d12483c5faf5e2024a639467a30e6ddee1e6b05797c50be14862b18aaa7af73e55904fe0e71a816b8f36e6601d86bd7be50f49f1299256cc6cb7105a7785cb22',
  long: 'x'.repeat(100), // 100 bytes -> padmé 104 -> 108-byte frame -> 124-byte ciphertext
  longCiphertext:
    '5cbf6c0dff7ae3d7524976ecb6a2232820c593e9c83288cae7ffba98ae88ec1fdb7615a6999ec82fefbd7399301ac9f2d2028f462de837989f62f913f74e9e1865fec5031d545b8ce8249a869ca77c51a887a36843bb26a378029400f902d28581bb8a3ce88e999cdfa5ca0e83f8d4af3d46b8b35a284e751e365171',
};

function v2Record(ciphertext: Buffer): SecretRecord {
  return {
    id: Buffer.from(V1.id, 'hex'),
    v: 2,
    kdf: { ...KDF_PROFILES['insecure-test'] },
    salt: V1.salt,
    iv: V1.iv,
    ciphertext,
    createdAt: V1.createdAt,
    expiresAt: V1.expiresAt,
    maxAttempts: 5,
    attempts: 0,
  };
}

/** Encrypts an arbitrary frame with the pinned key, IV and v2 associated data, as a faulty writer could. */
function sealFrame(frame: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(V1.dataKey, 'hex'), V1.iv);
  cipher.setAAD(Buffer.from(V2.aad, 'hex'));
  return Buffer.concat([cipher.update(frame), cipher.final(), cipher.getAuthTag()]);
}

describe('v2 envelope (known answers)', () => {
  const key = Buffer.from(V1.dataKey, 'hex');
  const aad = Buffer.from(V2.aad, 'hex');

  it('associated data differs from v1 only in the version byte', () => {
    const aadV2 = encodeAssociatedData({
      v: 2,
      kdf: KDF_PROFILES['insecure-test'],
      id: Buffer.from(V1.id, 'hex'),
      createdAt: V1.createdAt,
      expiresAt: V1.expiresAt,
      maxAttempts: 5,
    });
    expect(aadV2.toString('hex')).toBe(V2.aad);
  });

  it('padmé and the frame sizes', () => {
    expect([1, 2, 3, 9, 64, 65, 100, 1000, 65536, 65537].map(padme)).toEqual([1, 2, 3, 10, 64, 72, 104, 1024, 65536, 67584]);
    for (let n = 1; n <= 65536; n += n < 300 ? 1 : 97) {
      const padded = padme(n);
      expect(padded).toBeGreaterThanOrEqual(n);
      expect(padded / n).toBeLessThanOrEqual(n < 64 ? 2 : 1.12);
    }
    expect(new Set(Array.from({ length: 64 }, (_, i) => paddedFrameLength(i + 1)))).toEqual(new Set([68]));
    expect(paddedFrameLength(65)).toBe(76);
  });

  it('the frame is u32be(length) ‖ plaintext ‖ zeros', () => {
    const plain = Buffer.from(V2.plaintext, 'utf8');
    const frame = frameText(V2.plaintext, plain.length);
    expect(frame).toHaveLength(68);
    expect(frame.readUInt32BE(0)).toBe(26);
    expect(frame.subarray(4, 30)).toEqual(plain);
    expect(frame.subarray(30)).toEqual(Buffer.alloc(38));
    expect(unframePlaintext(frame)).toEqual(plain);
  });

  it.each([
    ['26 bytes', 'plaintext', 'ciphertext'],
    ['100 bytes', 'long', 'longCiphertext'],
  ] as const)('the pinned ciphertext (%s) is what seal writes with the pinned IV, and opens', (_n, textField, ctField) => {
    const plain = Buffer.from(V2[textField], 'utf8');
    const sealed = seal(key, frameText(V2[textField], plain.length), aad, V1.iv);
    expect(sealed.ciphertext.toString('hex')).toBe(V2[ctField]);
    const frame = open(key, V1.iv, Buffer.from(V2[ctField], 'hex'), aad);
    expect(unframePlaintext(frame!)?.toString('utf8')).toBe(V2[textField]);
  });

  it('Vanish.reveal reads the pinned v2 record end to end', async () => {
    const store = new ReferenceStore();
    await store.create(v2Record(Buffer.from(V2.ciphertext, 'hex')));
    const vanish = new Vanish({ store, clock: () => V1.createdAt + 1000, allowInsecureKdf: true });
    await expect(vanish.reveal({ secretKey: V1.secretKey, passphrase: V1.passphrase })).resolves.toBe(V2.plaintext);
    expect(store.size).toBe(0);
  });

  it('new records are v2 and every secret of 1..64 bytes stores the same ciphertext length', async () => {
    const store = new ReferenceStore();
    const vanish = new Vanish({ store, kdf: 'insecure-test' });
    const lengths = new Set<number>();
    for (let n = 1; n <= 64; n++) await vanish.create({ secret: 'a'.repeat(n), passphrase: V1.passphrase });
    await vanish.create({ secret: '🦄'.repeat(16), passphrase: V1.passphrase }); // 64 bytes, 16 characters
    for (const id of store.ids()) {
      const record = store.peek(id)!;
      expect(record.v).toBe(2);
      lengths.add(record.ciphertext.length);
    }
    expect([...lengths]).toEqual([84]);
    await vanish.create({ secret: 'a'.repeat(65), passphrase: V1.passphrase });
    expect(Math.max(...store.ids().map((id) => store.peek(id)!.ciphertext.length))).toBe(4 + 72 + 16);
  });

  const bad: [string, () => Buffer][] = [
    ['length 0', () => Buffer.alloc(68)],
    ['length beyond the frame', () => frameWith(0xffffffff, 68)],
    ['length 65 in a 68-byte frame (not canonical)', () => frameWith(65, 68)],
    [
      'a non-zero padding byte',
      () => {
        const f = frameText(V2.plaintext, Buffer.byteLength(V2.plaintext));
        f[67] = 1;
        return f;
      },
    ],
    ['a frame one byte too long', () => Buffer.concat([frameText(V2.plaintext, Buffer.byteLength(V2.plaintext)), Buffer.alloc(1)])],
    [
      'no padding at all (a v1-style plaintext under v2)',
      () => {
        const p = Buffer.from('a'.repeat(81)); // padmé(81) = 88, so the canonical frame is 92 bytes
        const f = Buffer.alloc(85);
        f.writeUInt32BE(81, 0);
        p.copy(f, 4);
        return f;
      },
    ],
  ];

  it.each(bad)('an authentic v2 frame with %s fails closed: not found, record destroyed', async (_name, frame) => {
    const framed = frame();
    expect(unframePlaintext(framed)).toBeNull();
    const store = new ReferenceStore();
    await store.create(v2Record(sealFrame(framed)));
    const vanish = new Vanish({ store, clock: () => V1.createdAt + 1000, allowInsecureKdf: true });
    await expect(vanish.reveal({ secretKey: V1.secretKey, passphrase: V1.passphrase })).rejects.toBeInstanceOf(SecretNotFoundError);
    expect(store.size).toBe(0);
  });
});

function frameWith(length: number, size: number): Buffer {
  const f = Buffer.alloc(size, 0);
  f.writeUInt32BE(length, 0);
  f.fill(0x61, 4, Math.min(size, 4 + 26));
  return f;
}
