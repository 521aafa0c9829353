// Tiny in-process micro-benchmark of core's hot path (run by hand after `npm run build`):
//   node packages/core/bench/micro.mjs [seconds]      (VANISH_CORE=/path/to/index.js to compare another build)
// Uses the insecure-test KDF and a minimal in-memory store, so it measures everything but scrypt.
const { Vanish } = await import(process.env.VANISH_CORE ?? '@vanish/core');

class MapStore {
  records = new Map();
  async create(r) {
    const k = r.id.toString('hex');
    if (this.records.has(k)) throw new Error('dup');
    this.records.set(k, {
      ...r,
      id: Buffer.from(r.id),
      salt: Buffer.from(r.salt),
      iv: Buffer.from(r.iv),
      ciphertext: Buffer.from(r.ciphertext),
      kdf: { ...r.kdf },
    });
  }
  async reserve(id, now) {
    const r = this.records.get(id.toString('hex'));
    if (!r || r.expiresAt <= now || r.attempts >= r.maxAttempts) return null;
    r.attempts++;
    return { ...r, kdf: { ...r.kdf } };
  }
  async claim(id, iv, now) {
    const k = id.toString('hex');
    const r = this.records.get(k);
    if (!r || r.expiresAt <= now || !r.iv.equals(iv)) return false;
    return this.records.delete(k);
  }
  async burnIfExhausted(id) {
    const k = id.toString('hex');
    const r = this.records.get(k);
    return !!r && r.attempts >= r.maxAttempts && this.records.delete(k);
  }
  async delete(id) {
    return this.records.delete(id.toString('hex'));
  }
  async purgeExpired() {
    return 0;
  }
  async ping() {}
  async close() {}
}

const seconds = Number(process.argv[2] ?? 2);
const vanish = new Vanish({ store: new MapStore(), kdf: 'insecure-test', kdfConcurrency: 4 });
const pass = 'correct horse battery';
const secret = 'db password: hunter2';

async function phase(name, fn, max = Infinity) {
  const keys = [];
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  while (performance.now() < end && n + 64 <= max) {
    const batch = [];
    for (let i = 0; i < 64; i++) batch.push(fn(n + i));
    const out = await Promise.all(batch);
    keys.push(...out);
    n += 64;
  }
  const rate = n / ((performance.now() - t0) / 1000);
  const cpu = process.cpuUsage(cpu0);
  const perCpuSecond = n / ((cpu.user + cpu.system) / 1e6);
  // The CPU is shared: ops per CPU-second of this process is steadier than wall-clock ops/s.
  console.log(`${name}: ${Math.round(rate)}/s wall, ${Math.round(perCpuSecond)}/CPU-s (${n} ops)`);
  return keys;
}

const created = [];
await phase('create', async () => {
  const c = await vanish.create({ secret, passphrase: pass });
  created.push(c.secretKey);
  return null;
});
let i = 0;
await phase(
  'reveal',
  async () => {
    const k = created[i++];
    if (k === undefined) throw new Error('ran out of keys');
    await vanish.reveal({ secretKey: k, passphrase: pass });
    return null;
  },
  created.length,
);
