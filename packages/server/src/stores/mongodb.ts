import type { MongoClient } from 'mongodb';
import { ConfigurationError, type SecretStore } from '@vanish/core';
import type { ServerConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import { loadDriver } from './drivers.js';
import { outageReporter, type OutageReporter } from './outage.js';

/** The database named in a MongoDB URL's path, or `"vanish"` when it names none. */
export function mongoDatabaseName(url: string): string {
  const name = /^mongodb(?:\+srv)?:\/\/[^/?#]*\/([^?#]*)/.exec(url)?.[1];
  return name ? decodeURIComponent(name) : 'vanish';
}

/**
 * Opens the MongoDB store: builds the client from `MONGODB_URL` with bounded timeouts and
 * keeps dialling until the first connection succeeds (driver 7 does not dial again by itself
 * after a failed first connection). The store owns the client.
 *
 * @param config - the MongoDB settings are read
 * @param logger - where an outage and its end are logged, once each
 * @returns the store
 * @throws {@link ConfigurationError} naming the setting that is wrong (never quoting the URL)
 */
export async function openMongoStore(config: ServerConfig, logger: Logger | undefined): Promise<SecretStore> {
  const { MongoClient: Client } = await loadDriver('mongodb', () => import('mongodb'));
  const { MongoStore } = await import('@vanish/adapters/mongodb');
  let client: MongoClient;
  try {
    client = new Client(config.mongodbUrl, {
      appName: 'vanish',
      serverSelectionTimeoutMS: config.storeTimeoutMs,
      connectTimeoutMS: config.storeTimeoutMs,
    });
  } catch (err) {
    // The driver's messages can quote parts of the URL (option values), so none is repeated.
    throw new ConfigurationError(`Invalid MONGODB_URL: it is not a valid MongoDB connection string (${(err as Error).name}).`);
  }
  const report = outageReporter(logger, 'mongodb');
  client.on('serverHeartbeatFailed', (e) => report.down(e.failure));
  client.on('serverHeartbeatSucceeded', () => report.up());

  /** The MongoDB store that owns its client and dials until the first connection succeeds. */
  class DiallingMongoStore extends MongoStore {
    #stopped = false;
    #retry: NodeJS.Timeout | undefined;

    /** Tries once (bounded by the client's timeouts); on failure keeps trying in the background. */
    async firstConnect(reporter: OutageReporter, attempt = 1): Promise<void> {
      if (this.#stopped) return;
      try {
        await client.connect();
        await this.ensureIndexes();
        reporter.up();
      } catch (err) {
        if (this.#stopped) return;
        reporter.down(err);
        this.#retry = setTimeout(() => void this.firstConnect(reporter, attempt + 1), Math.min(250 * attempt, config.storeTimeoutMs));
        this.#retry.unref();
      }
    }

    /** Stops dialling, then closes the store and the client. Idempotent. */
    override async close(): Promise<void> {
      if (this.#stopped) return;
      this.#stopped = true;
      clearTimeout(this.#retry);
      await super.close();
      await client.close();
    }
  }

  let store: DiallingMongoStore;
  try {
    store = new DiallingMongoStore({ db: client.db(mongoDatabaseName(config.mongodbUrl)), collectionName: config.mongodbCollection });
  } catch (err) {
    await client.close();
    throw new ConfigurationError(`Invalid VANISH_MONGODB_COLLECTION or MongoDB store settings: ${(err as Error).message}`);
  }
  await store.firstConnect(report);
  return store;
}
