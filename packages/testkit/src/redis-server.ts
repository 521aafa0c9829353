import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real `redis-server` on a loopback port, started and stopped by pid. */
export interface RedisProcess {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM to the pid in its pidfile) and waits until it is gone. */
  stop(): Promise<void>;
  /** Starts it again on the same port (after {@link RedisProcess.stop}). */
  start(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open, nothing answers — a hung server. */
  pause(): void;
  /** Thaws it (SIGCONT). */
  resume(): void;
  /** Stops it and removes its folder. */
  dispose(): Promise<void>;
}

/** The `redis-server` binary on PATH, or `null`. */
export function findRedisServer(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Sends PING; resolves true on +PONG. */
export function pingRedis(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString('latin1').startsWith('+PONG')));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a throwaway `redis-server` on a free loopback port: no persistence, or with
 * `persist` an append-only file fsynced on every write (data survives stop and start).
 *
 * @throws when the binary is missing or the server does not answer within 10 s
 */
export async function startRedis(
  options: { persist?: boolean; args?: string[]; sentinelOf?: { name: string; port: number } } = {},
): Promise<RedisProcess> {
  const binary = findRedisServer();
  if (!binary) throw new Error('redis-server is not installed (apt-get install -y redis-server).');
  const dir = mkdtempSync(join(tmpdir(), 'vanish-redis-'));
  const pidfile = join(dir, 'redis.pid');
  const port = await freePort();

  let config: string[] = [];
  if (options.sentinelOf) {
    // Sentinel rewrites its own config file, so it gets one of its own in the folder.
    const file = join(dir, 'sentinel.conf');
    writeFileSync(file, `sentinel monitor ${options.sentinelOf.name} 127.0.0.1 ${options.sentinelOf.port} 1\n`);
    config = [file, '--sentinel'];
  }
  const start = async () => {
    execFileSync(binary, [
      ...config,
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      ...(options.sentinelOf ? [] : ['--save', '']),
      ...(options.sentinelOf ? [] : options.persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
      '--daemonize',
      'yes',
      '--pidfile',
      pidfile,
      '--dir',
      dir,
      '--logfile',
      join(dir, 'redis.log'),
      ...(options.args ?? []),
    ]);
    for (let i = 0; i < 200; i++) {
      if (await pingRedis(port)) return;
      await sleep(50);
    }
    throw new Error(`redis-server on port ${port} did not answer; see ${join(dir, 'redis.log')}`);
  };
  const stop = async () => {
    let pid: number;
    try {
      pid = Number(readFileSync(pidfile, 'utf8').trim());
    } catch {
      return;
    }
    if (!alive(pid)) return;
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 200 && alive(pid); i++) await sleep(25);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    start,
    pause: () => process.kill(Number(readFileSync(pidfile, 'utf8').trim()), 'SIGSTOP'),
    resume: () => process.kill(Number(readFileSync(pidfile, 'utf8').trim()), 'SIGCONT'),
    dispose: async () => {
      try {
        process.kill(Number(readFileSync(pidfile, 'utf8').trim()), 'SIGCONT');
      } catch {
        // not running
      }
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A real three-master Redis Cluster on loopback (no replicas). */
export interface RedisClusterProcess {
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3` (vanish's REDIS_URL form) */
  readonly url: string;
  readonly nodes: { host: string; port: number }[];
  dispose(): Promise<void>;
}

/**
 * Starts three cluster-enabled `redis-server`s and joins them with `redis-cli --cluster create`.
 *
 * @throws when the cluster does not reach `cluster_state:ok` within 15 s
 */
export async function startRedisCluster(): Promise<RedisClusterProcess> {
  const nodes: RedisProcess[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      nodes.push(
        await startRedis({
          args: ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${i}.conf`, '--cluster-node-timeout', '2000'],
        }),
      );
    }
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    execFileSync('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'ignore' });
    for (let i = 0; i < 300; i++) {
      const states = nodes.map((n) => spawnSync('redis-cli', ['-p', String(n.port), 'cluster', 'info'], { encoding: 'utf8' }).stdout);
      if (states.every((s) => s.includes('cluster_state:ok'))) {
        return {
          url: `redis+cluster://${addresses.join(',')}`,
          nodes: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
          dispose: async () => {
            for (const n of nodes) await n.dispose();
          },
        };
      }
      await sleep(50);
    }
    throw new Error('the Redis Cluster did not reach cluster_state:ok');
  } catch (err) {
    for (const n of nodes) await n.dispose();
    throw err;
  }
}
