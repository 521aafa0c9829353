import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Binary, MongoClient, MongoServerError, type Db } from 'mongodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '@vanish/core';
import { isReadableRecord } from '@vanish/core/internal';
import { makeTestRecord } from '@vanish/core/testing';
import { MongoStore } from '@vanish/adapters/mongodb';
import { fromMongoDocument, mongoQueries, toMongoDocument } from '../src/internal/mongo-mapping.js';

// Unit tests of the document mapping and of the exact operations MongoStore sends. The
// store's behaviour against a database is proven only by the conformance run against a
// real MongoDB (mongodb.conformance.test.ts, with MONGODB_URL); the fake below records
// calls and answers what a test tells it to — it evaluates no queries.
const now = Date.UTC(2030, 0, 1);

interface Call {
  op: string;
  args: unknown[];
}

function fakeDb(answers: Partial<Record<string, (...args: unknown[]) => unknown>> = {}) {
  const calls: Call[] = [];
  const collectionOptions: unknown[] = [];
  const record =
    (op: string) =>
    async (...args: unknown[]) => {
      calls.push({ op, args });
      const answer = answers[op];
      return answer ? answer(...args) : undefined;
    };
  const collection = {
    createIndex: record('createIndex'),
    insertOne: record('insertOne'),
    findOneAndUpdate: record('findOneAndUpdate'),
    deleteOne: record('deleteOne'),
    deleteMany: record('deleteMany'),
  };
  const db = {
    collection: (name: string, options: unknown) => {
      collectionOptions.push({ name, options });
      return collection;
    },
    command: record('command'),
  } as unknown as Db;
  return { db, calls, collectionOptions };
}

describe('MongoDB document mapping', () => {
  it('round-trips every field, binary as BSON Binary and expiry as a date', () => {
    const record = makeTestRecord(now, { attempts: 2 });
    const doc = toMongoDocument(record);
    expect(doc._id).toBeInstanceOf(Binary);
    expect(doc.ct).toBeInstanceOf(Binary);
    expect(doc.expiresAt).toEqual(new Date(record.expiresAt));
    expect(Object.keys(doc).sort()).toEqual(['_id', 'attempts', 'createdAt', 'ct', 'expiresAt', 'iv', 'kdf', 'maxAttempts', 'salt', 'v']);
    const back = fromMongoDocument(doc);
    expect(back).toEqual(record);
    record.ciphertext.fill(0);
    expect(Buffer.from(doc.ct.buffer)).not.toEqual(record.ciphertext);
  });

  it('maps missing or mistyped fields to a record the core refuses to open', () => {
    const good = toMongoDocument(makeTestRecord(now));
    const broken = [
      {},
      { ...good, kdf: null },
      { ...good, kdf: { N: '32768', r: 8, p: 1 } },
      { ...good, expiresAt: now + 1000 },
      { ...good, salt: 'c2FsdA==' },
      { ...good, v: '1' },
    ];
    for (const doc of broken) expect(isReadableRecord(fromMongoDocument(doc))).toBe(false);
    expect(isReadableRecord(fromMongoDocument(good))).toBe(true);
  });

  it('every query carries its whole condition', () => {
    const id = randomBytes(32);
    const iv = randomBytes(12);
    const reserve = mongoQueries.reserve(id, now);
    expect(reserve.filter).toEqual({
      _id: new Binary(id),
      expiresAt: { $gt: new Date(now) },
      $expr: { $lt: ['$attempts', '$maxAttempts'] },
    });
    expect(reserve.update).toEqual({ $inc: { attempts: 1 } });
    expect(mongoQueries.claim(id, iv, now)).toEqual({ _id: new Binary(id), iv: new Binary(iv), expiresAt: { $gt: new Date(now) } });
    expect(mongoQueries.burn(id)).toEqual({ _id: new Binary(id), $expr: { $gte: ['$attempts', '$maxAttempts'] } });
    expect(mongoQueries.delete(id)).toEqual({ _id: new Binary(id) });
    expect(mongoQueries.purge(now)).toEqual({ expiresAt: { $lte: new Date(now) } });
  });
});

describe('MongoStore operations', () => {
  it('uses majority write concern and creates the TTL index once, before the first operation', async () => {
    const { db, calls, collectionOptions } = fakeDb({
      deleteOne: () => ({ acknowledged: true, deletedCount: 0 }),
      deleteMany: () => ({ acknowledged: true, deletedCount: 4 }),
    });
    const store = new MongoStore({ db, collectionName: 'secrets', expiryGraceMs: 90_000 });
    expect(collectionOptions).toEqual([{ name: 'secrets', options: { writeConcern: { w: 'majority' } } }]);
    const id = randomBytes(32);
    expect(await store.delete(id)).toBe(false);
    expect(await store.burnIfExhausted(id)).toBe(false);
    expect(await store.purgeExpired(now)).toBe(4);
    await store.ping();
    expect(calls.map((c) => c.op)).toEqual(['createIndex', 'deleteOne', 'deleteOne', 'deleteMany', 'command']);
    expect(calls[0]!.args).toEqual([{ expiresAt: 1 }, { name: 'vanish_ttl', expireAfterSeconds: 90 }]);
    expect(calls[1]!.args).toEqual([mongoQueries.delete(id)]);
    expect(calls[2]!.args).toEqual([mongoQueries.burn(id)]);
    expect(calls[4]!.args).toEqual([{ ping: 1 }]);
  });

  it('reserve asks for the document after the increment and maps it', async () => {
    const record = makeTestRecord(now, { attempts: 1 });
    const { db, calls } = fakeDb({ findOneAndUpdate: () => toMongoDocument(record) });
    const store = new MongoStore({ db });
    expect(await store.reserve(record.id, now)).toEqual(record);
    const call = calls.find((c) => c.op === 'findOneAndUpdate')!;
    const { filter, update } = mongoQueries.reserve(record.id, now);
    expect(call.args).toEqual([filter, update, { returnDocument: 'after' }]);
    const empty = new MongoStore({ db: fakeDb({ findOneAndUpdate: () => null }).db });
    expect(await empty.reserve(record.id, now)).toBeNull();
  });

  it('claim is one conditional deleteOne; true only when it deleted', async () => {
    const record = makeTestRecord(now);
    let deleted = 1;
    const { db, calls } = fakeDb({ deleteOne: () => ({ acknowledged: true, deletedCount: deleted-- > 0 ? 1 : 0 }) });
    const store = new MongoStore({ db });
    expect(await store.claim(record.id, record.iv, now)).toBe(true);
    expect(await store.claim(record.id, record.iv, now)).toBe(false);
    expect(calls.filter((c) => c.op === 'deleteOne').map((c) => c.args)).toEqual([
      [mongoQueries.claim(record.id, record.iv, now)],
      [mongoQueries.claim(record.id, record.iv, now)],
    ]);
  });

  it('a duplicate key becomes a conflict; any other driver error passes through', async () => {
    const duplicate = new MongoServerError({ message: 'E11000 duplicate key error', code: 11000 });
    const store = new MongoStore({ db: fakeDb({ insertOne: () => Promise.reject(duplicate) }).db });
    await expect(store.create(makeTestRecord(now))).rejects.toMatchObject({ code: 'conflict' });
    const down = new Error('server selection timed out');
    const other = new MongoStore({ db: fakeDb({ insertOne: () => Promise.reject(down) }).db });
    await expect(other.create(makeTestRecord(now))).rejects.toBe(down);
  });

  it('rounds expiryGraceMs up to whole seconds for the TTL index', async () => {
    const { db, calls } = fakeDb();
    await new MongoStore({ db, expiryGraceMs: 1500 }).ensureIndexes();
    expect(calls[0]!.args).toEqual([{ expiresAt: 1 }, { name: 'vanish_ttl', expireAfterSeconds: 2 }]);
  });

  it('a failed index creation fails the call and is retried by the next one', async () => {
    let fail = true;
    const { db, calls } = fakeDb({
      createIndex: () => (fail ? Promise.reject(new Error('not authorized')) : 'vanish_ttl'),
      deleteOne: () => ({ acknowledged: true, deletedCount: 1 }),
    });
    const store = new MongoStore({ db });
    await expect(store.delete(randomBytes(32))).rejects.toThrow('not authorized');
    fail = false;
    expect(await store.delete(randomBytes(32))).toBe(true);
    expect(calls.map((c) => c.op)).toEqual(['createIndex', 'createIndex', 'deleteOne']);
  });

  it('validates its options, refuses calls once closed, closes the given client once', async () => {
    const { db } = fakeDb();
    expect(() => new MongoStore({ db, collectionName: 'system.users' })).toThrow(ConfigurationError);
    expect(() => new MongoStore({ db, collectionName: 'a b' })).toThrow(ConfigurationError);
    expect(() => new MongoStore({ db, expiryGraceMs: -1 })).toThrow(ConfigurationError);
    expect(() => new MongoStore({ db, expiryGraceMs: 0.5 })).toThrow(ConfigurationError);
    expect(() => new MongoStore({ db, closeClient: true })).toThrow(/client/);
    expect(() => new MongoStore({ db, connect: true })).toThrow(ConfigurationError);
    expect(() => new MongoStore({ db, connect: 'yes' as unknown as boolean })).toThrow(ConfigurationError);
    expect(() => new MongoStore({ db, closeClient: 'yes' as unknown as boolean })).toThrow(ConfigurationError);
    let closes = 0;
    const client = { close: async () => void closes++ } as unknown as MongoClient;
    const kept = new MongoStore({ db, client });
    await kept.close();
    expect(closes).toBe(0);
    const store = new MongoStore({ db, client, closeClient: true });
    await store.close();
    await store.close();
    expect(closes).toBe(1);
    await expect(store.reserve(randomBytes(32), now)).rejects.toMatchObject({ code: 'unavailable' });
    await expect(store.ping()).rejects.toMatchObject({ code: 'unavailable' });
  });
});

// A real MongoClient dialling loopback ports where no MongoDB answers: one refuses every
// connection, the other accepts and hangs up at once (so the test can count the dials).
describe('MongoStore with connect: dialling until the first connection succeeds', () => {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => void rejections.push(reason);
  beforeEach(() => {
    rejections.length = 0;
    process.on('unhandledRejection', onRejection);
  });
  afterEach(() => {
    process.off('unhandledRejection', onRejection);
  });

  async function listen(onSocket: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
    const server = createServer(onSocket);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { server, port: (server.address() as { port: number }).port };
  }
  const clientFor = (port: number) =>
    new MongoClient(`mongodb://127.0.0.1:${port}/vanish?directConnection=true`, { serverSelectionTimeoutMS: 150, connectTimeoutMS: 150 });

  it('keeps dialling with back-off, reports the outage once, and stops on close', async () => {
    let dials = 0;
    const sockets = new Set<Socket>();
    const { server, port } = await listen((socket) => {
      dials++;
      sockets.add(socket);
      socket.destroy();
    });
    const client = clientFor(port);
    const states: string[] = [];
    const store = new MongoStore({
      db: client.db(),
      client,
      closeClient: true,
      connect: true,
      connectRetryMaxMs: 100,
      onConnectionChange: (state) => void states.push(state),
    });
    expect(await store.firstConnectAttempt()).toBe(false);
    const afterFirst = dials;
    await expect.poll(() => dials, { timeout: 5000, interval: 50 }).toBeGreaterThan(afterFirst + 1);
    await expect(store.ping()).rejects.toThrow();
    expect(states).toEqual(['disconnected']);
    await store.close();
    await store.close();
    const atClose = dials;
    await new Promise((r) => setTimeout(r, 600));
    expect(dials).toBe(atClose);
    expect(rejections).toEqual([]);
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it('a refused port: close() during the first dial ends it, no retries, no unhandled rejections', async () => {
    const { server, port } = await listen(() => {});
    await new Promise((r) => server.close(r)); // nothing listens there now
    const client = clientFor(port);
    const states: string[] = [];
    const store = new MongoStore({
      db: client.db(),
      client,
      closeClient: true,
      connect: true,
      onConnectionChange: (s) => void states.push(s),
    });
    await store.close();
    expect(await store.firstConnectAttempt()).toBe(false);
    await new Promise((r) => setTimeout(r, 400));
    expect(states).toEqual([]);
    expect(rejections).toEqual([]);
    await expect(store.reserve(randomBytes(32), now)).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('without connect it never dials by itself, and a throwing listener does not break it', async () => {
    let dials = 0;
    const { server, port } = await listen((socket) => {
      dials++;
      socket.destroy();
    });
    const client = clientFor(port);
    const idle = new MongoStore({ db: client.db(), client, closeClient: true });
    expect(await idle.firstConnectAttempt()).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(dials).toBe(0);
    await idle.close();
    const other = clientFor(port);
    const throwing = () => {
      throw new Error('listener');
    };
    const store = new MongoStore({
      db: other.db(),
      client: other,
      closeClient: true,
      connect: true,
      connectRetryMaxMs: 50,
      onConnectionChange: throwing,
    });
    expect(await store.firstConnectAttempt()).toBe(false);
    const afterFirst = dials;
    await expect.poll(() => dials, { timeout: 5000, interval: 50 }).toBeGreaterThan(afterFirst);
    await store.close();
    expect(rejections).toEqual([]);
    await new Promise((r) => server.close(r));
  });
});
