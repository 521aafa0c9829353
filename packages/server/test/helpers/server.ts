import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig, startServer, type RunningServer, type ServerConfig, type StartOptions } from '@vanish/server';
import { createLogger } from '../../src/logger.js';

/** Every log line any in-process test server wrote, for the no-secrets-in-logs test. */
export const allLogLines: string[] = [];
/** Read handles and statements kept for the life of the process (better-sqlite3 12 on Node 22+, see the adapter). */
const RETAINED: unknown[] = [];
/** Every secret, passphrase and secret_key a test used, for the log and at-rest scans. */
export const sensitive = new Set<string>();

/**
 * Creates a secret with `POST {url}/generate` and returns its key; the secret, the passphrase
 * and the key join {@link sensitive} for the log and at-rest scans.
 */
export async function createSecret(url: string, secret: string, passphrase: string): Promise<string> {
  sensitive.add(secret).add(passphrase);
  const res = await fetch(`${url}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ secret, passphrase }),
  });
  if (res.status !== 201) throw new Error(`POST /generate answered ${res.status}`);
  const { secret_key: key } = (await res.json()) as { secret_key: string };
  sensitive.add(key);
  return key;
}

export interface TestServer {
  url: string;
  server: RunningServer;
  config: ServerConfig;
  dbPath: string;
  logs: string[];
  /** all rows of the store, as a comparable string (attempts included) */
  snapshot(): string;
  rowCount(): number;
  /** raw SQL against the store's file, for tampering */
  exec(sql: string): void;
  close(): Promise<void>;
}

export async function startTestServer(env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'vanish-http-'));
  const dbPath = join(dir, 'data', 'vanish.db');
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    VANISH_SQLITE_PATH: dbPath,
    VANISH_KDF: 'insecure-test',
    VANISH_ALLOW_INSECURE_KDF: 'true',
    LOG_LEVEL: 'info',
    VANISH_RATE_LIMIT: '0',
    ...env,
  });
  const logs: string[] = [];
  const logger = createLogger(config.logLevel, {
    write(line: string) {
      logs.push(line);
      allLogLines.push(line);
    },
  });
  const server = await startServer(config, { logger, ...options });
  const reader = config.store === 'sqlite' ? new Database(dbPath, { readonly: true, fileMustExist: true }) : undefined;
  const sql = () => {
    if (!reader) throw new Error('snapshots need the SQLite store');
    return reader;
  };
  // Prepared once: better-sqlite3 12 can abort Node 22+ when it collects a statement object at
  // the wrong moment, so the helpers leave none behind per call.
  const statements = new Map<string, Database.Statement>();
  RETAINED.push(reader, statements);
  const prepared = (text: string) => {
    let statement = statements.get(text);
    if (!statement) {
      statement = sql().prepare(text);
      statements.set(text, statement);
    }
    return statement;
  };
  return {
    url: `http://127.0.0.1:${server.port}`,
    server,
    config,
    dbPath,
    logs,
    snapshot: () => JSON.stringify(prepared('SELECT * FROM vanish_secrets ORDER BY id').all()),
    rowCount: () => prepared('SELECT count(*) FROM vanish_secrets').pluck().get() as number,
    exec(sql) {
      const writer = new Database(dbPath);
      writer.exec(sql);
      writer.close();
    },
    async close() {
      reader?.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request through node:http, for what fetch cannot send (chunked bodies, lying headers, HEAD bodies). */
export function raw(
  url: string,
  options: { method?: string; headers?: Record<string, string | number>; body?: Buffer | string; chunks?: Buffer[] },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'POST', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.chunks) {
      let i = 0;
      const next = () => {
        if (i >= options.chunks!.length || req.destroyed) return void req.end();
        const ok = req.write(options.chunks![i++]!);
        if (ok) setImmediate(next);
        else req.once('drain', next);
      };
      next();
    } else {
      req.end(options.body);
    }
  });
}
