import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { ConfigurationError, ConflictError, UnavailableError, type SecretRecord, type SecretStore } from '@vanish/core';
import { checkCloseClient, checkMs } from './internal/options.js';

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /**
   * A connected (or connecting) ioredis `Redis` or `Cluster` client, built by the caller.
   * It must not set ioredis' own `keyPrefix` option: use {@link RedisStoreOptions.prefix}.
   */
  client: Redis | Cluster;
  /**
   * Prepended to every key: letters, digits and `_ : . - { }`, at most 100 characters;
   * default `"vanish:"`. Stores with different prefixes never see each other's records.
   * A Cluster hash tag such as `"{vanish}:"` pins every record to one slot (rarely wanted).
   */
  prefix?: string;
  /**
   * Extra life of the Redis key after `expiresAt`, ms; default 60 000. Expiry is decided
   * by the caller's clock inside every script; the key's own expiry is cleanup only, and
   * the grace keeps a Redis clock that runs ahead from deleting live records early.
   */
  expiryGraceMs?: number;
  /** The store owns `client` and `quit()`s it in {@link RedisStore.close}; default `false`. */
  closeClient?: boolean;
  /**
   * Replicas that must acknowledge every write before it counts; default 0 (no waiting).
   * With replicas (Sentinel, Cluster), set it to 1 or more: Redis replicates asynchronously,
   * so a master that acknowledges a claim and dies before passing it on would let a promoted
   * replica hand the secret out again. Each write is followed by `WAIT` on the same
   * connection; too few acknowledgements within {@link RedisStoreOptions.replicaTimeoutMs}
   * reject with `UnavailableError` (the reveal answers 503, never the secret).
   */
  minReplicas?: number;
  /** how long `WAIT` waits for the replicas, ms; default 500 */
  replicaTimeoutMs?: number;
}

/** Field names of the hash that holds one record. */
const F = {
  v: 'v',
  n: 'n',
  r: 'r',
  p: 'p',
  salt: 'salt',
  iv: 'iv',
  ct: 'ct',
  created: 'c',
  expires: 'e',
  max: 'm',
  attempts: 'a',
} as const;

/**
 * Whether `prefix` is a valid {@link RedisStoreOptions.prefix}: letters, digits and
 * `_ : . - { }`, at most 100 characters (no glob characters, so `SCAN MATCH prefix*` is exact).
 *
 * @param prefix - candidate key prefix
 * @returns `true` when {@link RedisStore} accepts it
 */
export function isValidRedisPrefix(prefix: string): boolean {
  return /^[A-Za-z0-9_:.{}-]{0,100}$/.test(prefix);
}

/**
 * A Lua script run by `EVALSHA`, falling back to `EVAL` when the server does not know it
 * (after a restart, a failover or `SCRIPT FLUSH`; `EVAL` also caches it again).
 */
interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

// Each script touches exactly one key (KEYS[1]), so it is valid on Redis Cluster.
// Numbers are epoch milliseconds (below 2^53, exact in Lua's doubles).

/** ARGV: v n r p salt iv ct created expires max attempts, cleanupAt. Returns 1, or 0 if the key exists. */
const CREATE = script(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1],
  '${F.v}', ARGV[1], '${F.n}', ARGV[2], '${F.r}', ARGV[3], '${F.p}', ARGV[4],
  '${F.salt}', ARGV[5], '${F.iv}', ARGV[6], '${F.ct}', ARGV[7],
  '${F.created}', ARGV[8], '${F.expires}', ARGV[9], '${F.max}', ARGV[10], '${F.attempts}', ARGV[11])
redis.call('PEXPIREAT', KEYS[1], ARGV[12])
return 1
`);

/** ARGV: now. Counts an attempt and returns the hash, or false. */
const RESERVE = script(`
local f = redis.call('HMGET', KEYS[1], '${F.expires}', '${F.max}', '${F.attempts}')
local e, m, a = tonumber(f[1]), tonumber(f[2]), tonumber(f[3])
if not e or not m or not a then return false end
if e <= tonumber(ARGV[1]) or a >= m then return false end
redis.call('HINCRBY', KEYS[1], '${F.attempts}', 1)
return redis.call('HGETALL', KEYS[1])
`);

/** ARGV: iv, now. Deletes the record if its IV matches and it is unexpired; returns 1 or 0. */
const CLAIM = script(`
local f = redis.call('HMGET', KEYS[1], '${F.iv}', '${F.expires}')
local e = tonumber(f[2])
if f[1] ~= ARGV[1] or not e or e <= tonumber(ARGV[2]) then return 0 end
return redis.call('DEL', KEYS[1])
`);

/** Deletes the record if its attempts are used up; returns 1 or 0. */
const BURN = script(`
local f = redis.call('HMGET', KEYS[1], '${F.max}', '${F.attempts}')
local m, a = tonumber(f[1]), tonumber(f[2])
if not m or not a or a < m then return 0 end
return redis.call('DEL', KEYS[1])
`);

/** Deletes the record unconditionally; returns 1 or 0. */
const DELETE = script(`return redis.call('DEL', KEYS[1])`);

/** ARGV: now. Deletes the record if it has expired; returns 1 or 0. */
const PURGE_ONE = script(`
local e = tonumber(redis.call('HGET', KEYS[1], '${F.expires}'))
if not e or e > tonumber(ARGV[1]) then return 0 end
return redis.call('DEL', KEYS[1])
`);

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

function toInt(value: Buffer | undefined): number {
  return value === undefined ? Number.NaN : Number(value.toString('latin1'));
}

/**
 * Turns a flat `HGETALL` reply (field, value, field, value…) into a record.
 * Missing or malformed fields come out as `NaN` or empty buffers, which the core's
 * record check rejects (the core then destroys the record).
 */
function toRecord(id: Buffer, reply: Buffer[]): SecretRecord {
  const h = new Map<string, Buffer>();
  for (let i = 0; i + 1 < reply.length; i += 2) h.set(reply[i]!.toString('latin1'), reply[i + 1]!);
  const empty = Buffer.alloc(0);
  return {
    id: Buffer.from(id),
    v: toInt(h.get(F.v)),
    kdf: { N: toInt(h.get(F.n)), r: toInt(h.get(F.r)), p: toInt(h.get(F.p)) },
    salt: h.get(F.salt) ?? empty,
    iv: h.get(F.iv) ?? empty,
    ciphertext: h.get(F.ct) ?? empty,
    createdAt: toInt(h.get(F.created)),
    expiresAt: toInt(h.get(F.expires)),
    maxAttempts: toInt(h.get(F.max)),
    attempts: toInt(h.get(F.attempts)),
  };
}

/**
 * A {@link SecretStore} in Redis through ioredis: standalone, Sentinel or Cluster.
 *
 * @remarks
 * One hash per record at `prefix + hex(id)`. Create, reserve, claim, burn and the purge
 * of one key are Lua scripts, run with `EVALSHA` (falling back to `EVAL` once when the
 * server has not cached them), so each is atomic, and each touches a single key, so
 * they are correct on Redis Cluster. A record's key always carries an expiry
 * (`PEXPIREAT expiresAt + expiryGraceMs`, set in the same script that writes it), and
 * no script writes a key that does not exist, so no key is ever left without one.
 *
 * With `minReplicas`, every write also waits for that many replicas to acknowledge it.
 *
 * Failures of the client (disconnected, timed out, `READONLY`) reject; the store never
 * turns them into `null` or `false`. Build the client so that it neither waits nor replays:
 * `enableOfflineQueue: false`, `maxRetriesPerRequest: 0`, `autoResendUnfulfilledCommands:
 * false` and a `commandTimeout` (as the server does). ioredis' defaults re-send a command
 * whose answer was lost in a reconnect, so a reserve could count two attempts and a claim
 * that already ran would answer `false` (a 404 instead of a 503).
 */
export class RedisStore implements SecretStore {
  readonly #client: Redis | Cluster;
  readonly #prefix: string;
  readonly #graceMs: number;
  readonly #closeClient: boolean;
  readonly #minReplicas: number;
  readonly #replicaTimeoutMs: number;
  #closed = false;

  /**
   * @param options - client, key prefix and expiry grace
   * @throws {@link ConfigurationError} when an option is invalid, or the client sets `keyPrefix`
   */
  constructor(options: RedisStoreOptions) {
    const prefix = options.prefix ?? 'vanish:';
    if (!isValidRedisPrefix(prefix)) {
      throw new ConfigurationError('prefix may hold only letters, digits and _ : . - { }, at most 100 characters.');
    }
    const graceMs = checkMs(options.expiryGraceMs, 60_000, 'expiryGraceMs', 0);
    const minReplicas = options.minReplicas ?? 0;
    if (!Number.isSafeInteger(minReplicas) || minReplicas < 0) {
      throw new ConfigurationError('minReplicas must be a whole number, 0 or more.');
    }
    const replicaTimeoutMs = checkMs(options.replicaTimeoutMs, 500, 'replicaTimeoutMs', 1);
    const clientPrefix = (options.client.options as { keyPrefix?: unknown } | undefined)?.keyPrefix;
    if (typeof clientPrefix === 'string' && clientPrefix !== '') {
      throw new ConfigurationError("The ioredis client sets keyPrefix; leave it unset and pass RedisStore's prefix option.");
    }
    this.#client = options.client;
    this.#prefix = prefix;
    this.#graceMs = graceMs;
    this.#closeClient = checkCloseClient(options.closeClient);
    this.#minReplicas = minReplicas;
    this.#replicaTimeoutMs = replicaTimeoutMs;
  }

  #assertOpen(): void {
    if (this.#closed) throw new UnavailableError('The Redis store is closed.');
  }

  #key(id: Buffer): string {
    this.#assertOpen();
    return this.#prefix + id.toString('hex');
  }

  async #run(s: Script, key: string, args: (Buffer | string | number)[]): Promise<unknown> {
    if (this.#minReplicas > 0) return this.#runReplicated(s, key, args);
    try {
      return await this.#client.callBuffer('EVALSHA', s.sha, 1, key, ...args);
    } catch (err) {
      if (!isNoScript(err)) throw err;
      return this.#client.callBuffer('EVAL', s.source, 1, key, ...args);
    }
  }

  /** The script, then `WAIT` on the same connection (one pipeline, routed by the key's slot). */
  async #runReplicated(s: Script, key: string, args: (Buffer | string | number)[]): Promise<unknown> {
    const send = async (command: 'EVALSHA' | 'EVAL', body: string) => {
      const replies = await this.#client
        .pipeline()
        .callBuffer(command, body, 1, key, ...args)
        .wait(this.#minReplicas, this.#replicaTimeoutMs)
        .exec();
      if (replies?.length !== 2) throw new UnavailableError('Redis did not answer the pipeline.');
      return replies as [[Error | null, unknown], [Error | null, unknown]];
    };
    let [[scriptError, result], [waitError, acknowledged]] = await send('EVALSHA', s.sha);
    if (scriptError && isNoScript(scriptError)) [[scriptError, result], [waitError, acknowledged]] = await send('EVAL', s.source);
    if (scriptError) throw scriptError;
    if (waitError) throw waitError;
    if (typeof acknowledged !== 'number' || acknowledged < this.#minReplicas) {
      throw new UnavailableError(`Only ${String(acknowledged)} of ${this.#minReplicas} Redis replicas acknowledged the write in time.`);
    }
    return result;
  }

  /** {@inheritDoc SecretStore.create} */
  async create(r: SecretRecord): Promise<void> {
    const key = this.#key(r.id);
    const created = await this.#run(CREATE, key, [
      r.v,
      r.kdf.N,
      r.kdf.r,
      r.kdf.p,
      r.salt,
      r.iv,
      r.ciphertext,
      r.createdAt,
      r.expiresAt,
      r.maxAttempts,
      r.attempts,
      r.expiresAt + this.#graceMs,
    ]);
    if (created !== 1) throw new ConflictError('A record with this id already exists.');
  }

  /** {@inheritDoc SecretStore.reserve} */
  async reserve(id: Buffer, now: number): Promise<SecretRecord | null> {
    const reply = await this.#run(RESERVE, this.#key(id), [now]);
    return Array.isArray(reply) ? toRecord(id, reply as Buffer[]) : null;
  }

  /** {@inheritDoc SecretStore.claim} */
  async claim(id: Buffer, iv: Buffer, now: number): Promise<boolean> {
    return (await this.#run(CLAIM, this.#key(id), [iv, now])) === 1;
  }

  /** {@inheritDoc SecretStore.burnIfExhausted} */
  async burnIfExhausted(id: Buffer): Promise<boolean> {
    return (await this.#run(BURN, this.#key(id), [])) === 1;
  }

  /** {@inheritDoc SecretStore.delete} */
  async delete(id: Buffer): Promise<boolean> {
    return (await this.#run(DELETE, this.#key(id), [])) === 1;
  }

  /**
   * {@inheritDoc SecretStore.purgeExpired}
   *
   * @remarks Redis deletes expired keys by itself; this walks the prefix with `SCAN`
   * (every master of a Cluster) and deletes records expired by `now`'s clock, one
   * conditional script per key. Meant for maintenance and tests, not for a hot path.
   */
  async purgeExpired(now: number): Promise<number> {
    this.#assertOpen();
    const nodes: Redis[] = 'nodes' in this.#client ? this.#client.nodes('master') : [this.#client];
    let purged = 0;
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${this.#prefix}*`, 'COUNT', 500);
        cursor = next;
        for (const key of keys) {
          if (!/^[0-9a-f]{64}$/.test(key.slice(this.#prefix.length))) continue;
          if ((await this.#run(PURGE_ONE, key, [now])) === 1) purged++;
        }
      } while (cursor !== '0');
    }
    return purged;
  }

  /** {@inheritDoc SecretStore.ping} */
  async ping(): Promise<void> {
    this.#assertOpen();
    await this.#client.ping();
  }

  /** Marks the store closed and, with `closeClient`, quits the client. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#closeClient) await this.#client.quit().catch(() => this.#client.disconnect());
  }
}
