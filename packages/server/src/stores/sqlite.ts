import { chmodSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigurationError, type Clock, type SecretStore } from '@vanish/core';
import type { ServerConfig } from '../config/index.js';
import { loadDriver } from './drivers.js';

/**
 * Opens the SQLite store at `VANISH_SQLITE_PATH`: creates the file's folder (mode 0700) and
 * the file (mode 0600); the store owns the handle and closes it.
 *
 * @param config - `sqlitePath` is read
 * @param clock - time source for the expiry sweep
 * @returns the store
 * @throws {@link ConfigurationError} naming `VANISH_SQLITE_PATH` when the file cannot be opened
 */
export async function openSqliteStore(config: ServerConfig, clock: Clock | undefined): Promise<SecretStore> {
  const { default: Database } = await loadDriver('better-sqlite3', () => import('better-sqlite3'));
  const { SqliteStore } = await import('@vanish/adapters/sqlite');
  const path = resolve(config.sqlitePath);
  let database: InstanceType<typeof Database>;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    database = new Database(path);
    chmodSync(path, 0o600);
  } catch (err) {
    throw new ConfigurationError(`Invalid VANISH_SQLITE_PATH: cannot open an SQLite file at ${path} (${(err as Error).message}).`);
  }
  // A lock held by another connection is waited for asynchronously, at most the store timeout.
  return new SqliteStore({ database, closeClient: true, lockTimeoutMs: config.storeTimeoutMs, ...(clock ? { clock } : {}) });
}
