import { request } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@vanish/server';
import { removeCliDirs, spawnCli, startCli, stopCli, type SpawnedCli } from './helpers/cli.js';

const PASS = 'correct horse battery staple';
const INSECURE = { VANISH_KDF: 'insecure-test', VANISH_ALLOW_INSECURE_KDF: 'true' };

afterAll(removeCliDirs);

interface Cluster extends SpawnedCli {
  port: number;
}

/** `vanish serve` with `VANISH_WORKERS=2` on SQLite, once the primary says every worker listens. */
async function startWorkers(env: Record<string, string> = {}): Promise<Cluster> {
  const child = spawnCli({ ...INSECURE, VANISH_WORKERS: '2', VANISH_KDF_CONCURRENCY: '2', VANISH_KDF_QUEUE: '1000', ...env });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const line = child
      .out()
      .split('\n')
      .find((l) => l.includes('"msg":"all workers listening"'));
    if (line) return { ...child, port: (JSON.parse(line) as { port: number }).port };
    if (child.proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  child.proc.kill('SIGKILL');
  throw new Error(`workers did not start:\n${child.out()}`);
}

/** One POST on a connection of its own (so node:cluster's round-robin spreads them over the workers). */
function postFresh(port: number, path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** Log lines of the child as objects. */
function lines(child: SpawnedCli): Record<string, unknown>[] {
  return child
    .out()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * The child's log lines once `ready` holds for them (access lines reach stdout in batches, at
 * most LOG_FLUSH_MS late); the lines as they are after 5 s otherwise.
 */
async function linesWhen(child: SpawnedCli, ready: (logs: Record<string, unknown>[]) => boolean): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + 5_000;
  while (!ready(lines(child)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return lines(child);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('vanish serve --workers', () => {
  it('runs 2 workers on one port over one SQLite file: both answer, every log line names its worker', async () => {
    const child = await startWorkers({ VANISH_RATE_LIMIT: '100000' });
    try {
      for (let i = 0; i < 20; i++) {
        expect((await postFresh(child.port, '/generate', { secret: `s${i}`, passphrase: PASS })).status).toBe(201);
      }
      const logs = await linesWhen(child, (ls) => ls.filter((l) => l['msg'] === 'request').length >= 20);
      const served = new Set(logs.filter((l) => l['msg'] === 'request' && l['status'] === 201).map((l) => l['worker']));
      expect([...served].sort()).toEqual([1, 2]);
      expect(logs.every((l) => typeof l['worker'] === 'number')).toBe(true);
      expect(logs.filter((l) => l['msg'] === 'listening').map((l) => l['engineReason'])).toEqual([
        expect.stringContaining('VANISH_WORKERS=2'),
        expect.stringContaining('VANISH_WORKERS=2'),
      ]);
      // A secret created through one worker is read through any: they share the store.
      const { json } = await postFresh(child.port, '/generate', { secret: 'shared', passphrase: PASS });
      expect(await postFresh(child.port, `/secrets/${String(json['secret_key'])}`, { passphrase: PASS })).toMatchObject({
        status: 200,
        json: { secret: 'shared' },
      });
    } finally {
      expect(await stopCli(child)).toBe(0);
    }
  });

  it('keeps the one-time guarantee across workers: 100 parallel reveals of one secret, 10 rounds, exactly one 200 each', async () => {
    // The rate limit is on (counted in the primary over IPC) but out of the way.
    const child = await startWorkers({ VANISH_RATE_LIMIT: '100000' });
    try {
      for (let round = 0; round < 10; round++) {
        const created = await postFresh(child.port, '/generate', { secret: `round ${round}`, passphrase: PASS });
        expect(created.status).toBe(201);
        const key = String(created.json['secret_key']);
        const answers = await Promise.all(
          Array.from({ length: 100 }, () => postFresh(child.port, `/secrets/${key}`, { passphrase: PASS })),
        );
        const statuses = answers.map((a) => a.status);
        expect(statuses.filter((s) => s === 200)).toHaveLength(1);
        expect(statuses.filter((s) => s === 404)).toHaveLength(99);
        expect(answers.find((a) => a.status === 200)?.json).toEqual({ secret: `round ${round}` });
      }
      const workers = new Set(
        (await linesWhen(child, (ls) => ls.filter((l) => l['route'] === '/secrets/{secret_key}').length >= 1000))
          .filter((l) => l['msg'] === 'request' && l['route'] === '/secrets/{secret_key}')
          .map((l) => l['worker']),
      );
      expect(workers.size).toBe(2);
    } finally {
      expect(await stopCli(child)).toBe(0);
    }
  });

  it('drains every worker on SIGTERM (an in-flight request is answered), exits 0 and leaves no worker behind', async () => {
    const child = await startWorkers();
    const pids = (await linesWhen(child, (ls) => ls.filter((l) => l['msg'] === 'listening').length >= 2))
      .filter((l) => l['msg'] === 'listening')
      .map((l) => Number(l['pid']));
    expect(pids).toHaveLength(2);
    expect(pids.every(alive)).toBe(true);
    // A create whose body is only half sent when SIGTERM arrives.
    const body = JSON.stringify({ secret: 'in flight', passphrase: PASS });
    const answered = new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: child.port,
          path: '/generate',
          method: 'POST',
          agent: false,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
      setTimeout(() => {
        child.proc.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(10)), 300);
      }, 300);
    });
    expect(await answered).toBe(201);
    expect(await child.exited).toBe(0);
    expect(child.out()).toContain('"msg":"signal received: draining every worker"');
    expect(child.out().split('"msg":"shut down"').length - 1).toBe(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(pids.filter(alive)).toEqual([]);
  });

  it('still refuses an address in use: every worker fails to listen, the primary exits 1 without serving', async () => {
    const first = await startCli({ VANISH_STORE: 'memory', VANISH_ENGINE: 'node', ...INSECURE });
    try {
      const second = spawnCli({ ...INSECURE, VANISH_WORKERS: '2', VANISH_KDF_CONCURRENCY: '2', PORT: String(first.port) });
      expect(await second.exited).toBe(1);
      expect(second.out()).toContain(`127.0.0.1:${first.port} is already in use`);
      expect(second.out()).not.toContain('"msg":"listening"');
      expect(second.out()).not.toContain('all workers listening');
    } finally {
      await stopCli(first);
    }
  });

  it('refuses settings the workers cannot honour', () => {
    const base = { ...INSECURE, VANISH_WORKERS: '2', VANISH_KDF_CONCURRENCY: '2' };
    expect(loadConfig(base).workers).toBe(2);
    expect(loadConfig({ ...base, VANISH_WORKERS: 'auto' }).workers).toBeGreaterThanOrEqual(1);
    expect(loadConfig({}).workers).toBe(1);
    expect(() => loadConfig({ ...base, VANISH_WORKERS: '0' })).toThrow(/VANISH_WORKERS/);
    expect(() => loadConfig({ ...base, VANISH_STORE: 'memory' })).toThrow(/VANISH_STORE=memory keeps secrets in one process/);
    expect(() => loadConfig({ ...base, VANISH_KDF_CONCURRENCY: '1' })).toThrow(/share VANISH_KDF_CONCURRENCY=1/);
    expect(() => loadConfig({ ...base, VANISH_ENGINE: 'hyper-express' })).toThrow(/node:cluster/);
  });
});
