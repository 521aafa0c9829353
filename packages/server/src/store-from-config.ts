import { chmodSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { MemoryStore } from '@vanish/adapters/memory';
import { SqliteStore } from '@vanish/adapters/sqlite';
import { ConfigurationError, type Clock, type SecretStore } from '@vanish/core';
import type { ServerConfig } from './config.js';

/**
 * The only place a configuration becomes a store client.
 *
 * @remarks
 * SQLite: creates the file's folder (mode 0700) and the file (mode 0600); the store
 * owns the handle and closes it on {@link SecretStore.close}.
 * @param config - validated configuration
 * @param clock - time source for the store's expiry sweep
 * @returns a ready store
 * @throws {@link ConfigurationError} when the store cannot be opened (the message names the setting)
 */
export function createStoreFromConfig(config: ServerConfig, clock?: Clock): SecretStore {
  switch (config.store) {
    case 'memory':
      return new MemoryStore(clock ? { clock } : {});
    case 'sqlite': {
      const path = resolve(config.sqlitePath);
      let database: Database.Database;
      try {
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        database = new Database(path);
        chmodSync(path, 0o600);
      } catch (err) {
        throw new ConfigurationError(
          `Invalid VANISH_SQLITE_PATH: cannot open an SQLite file at ${path} (${(err as Error).message}).`,
        );
      }
      return new SqliteStore({ database, closeDatabase: true, ...(clock ? { clock } : {}) });
    }
    default:
      throw new ConfigurationError(`Invalid VANISH_STORE: "${config.store}" is not available in this release.`);
  }
}
