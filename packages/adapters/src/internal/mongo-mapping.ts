import { Binary, type Document, type Filter } from 'mongodb';
import type { SecretRecord } from '@vanish/core';

/**
 * One record as stored. Binary fields are BSON Binary (subtype 0); `expiresAt` is a
 * BSON date so a TTL index can clean it up.
 */
export interface MongoSecretDocument {
  /** the 32-byte lookup id */
  _id: Binary;
  v: number;
  kdf: { N: number; r: number; p: number };
  salt: Binary;
  iv: Binary;
  ct: Binary;
  createdAt: number;
  expiresAt: Date;
  maxAttempts: number;
  attempts: number;
}

function bin(buffer: Buffer): Binary {
  return new Binary(Buffer.from(buffer));
}

function buf(value: unknown): Buffer {
  return value instanceof Binary ? Buffer.from(value.buffer) : Buffer.alloc(0);
}

function num(value: unknown): number {
  return typeof value === 'number' ? value : Number.NaN;
}

/**
 * The document stored for a record.
 *
 * @param r - the record
 * @returns a document with its own copies of the binary fields
 */
export function toMongoDocument(r: SecretRecord): MongoSecretDocument {
  return {
    _id: bin(r.id),
    v: r.v,
    kdf: { N: r.kdf.N, r: r.kdf.r, p: r.kdf.p },
    salt: bin(r.salt),
    iv: bin(r.iv),
    ct: bin(r.ciphertext),
    createdAt: r.createdAt,
    expiresAt: new Date(r.expiresAt),
    maxAttempts: r.maxAttempts,
    attempts: r.attempts,
  };
}

/**
 * The record a stored document holds. Missing or mistyped fields come out as `NaN` or
 * empty buffers, which the core's record check rejects (the core then destroys it).
 *
 * @param doc - a document read from the collection (untrusted)
 * @returns the record
 */
export function fromMongoDocument(doc: Document): SecretRecord {
  const kdf: unknown = doc['kdf'];
  const k = kdf !== null && typeof kdf === 'object' ? (kdf as Record<string, unknown>) : {};
  const expiresAt: unknown = doc['expiresAt'];
  return {
    id: buf(doc['_id']),
    v: num(doc['v']),
    kdf: { N: num(k['N']), r: num(k['r']), p: num(k['p']) },
    salt: buf(doc['salt']),
    iv: buf(doc['iv']),
    ciphertext: buf(doc['ct']),
    createdAt: num(doc['createdAt']),
    expiresAt: expiresAt instanceof Date ? expiresAt.getTime() : Number.NaN,
    maxAttempts: num(doc['maxAttempts']),
    attempts: num(doc['attempts']),
  };
}

/**
 * The filters and updates {@link MongoStore} sends, one per contract method. Each is one
 * single-document operation, atomic on its own, carrying the whole condition.
 */
export const mongoQueries = {
  /** reserve: exists, unexpired, attempts left → `$inc` attempts */
  reserve: (id: Buffer, now: number) => ({
    filter: { _id: bin(id), expiresAt: { $gt: new Date(now) }, $expr: { $lt: ['$attempts', '$maxAttempts'] } },
    update: { $inc: { attempts: 1 } },
  }),
  /** claim: same id, same IV, unexpired */
  claim: (id: Buffer, iv: Buffer, now: number) => ({ _id: bin(id), iv: bin(iv), expiresAt: { $gt: new Date(now) } }),
  /** burn: attempts used up */
  burn: (id: Buffer) => ({ _id: bin(id), $expr: { $gte: ['$attempts', '$maxAttempts'] } }),
  /** delete: the id only */
  delete: (id: Buffer) => ({ _id: bin(id) }),
  /** purge: expired by `now` */
  purge: (now: number) => ({ expiresAt: { $lte: new Date(now) } }),
} satisfies Record<string, (...args: never[]) => Filter<MongoSecretDocument> | { filter: Filter<MongoSecretDocument> }>;
