import type { MongoClient } from 'mongodb';
import { ConfigurationError, type SecretStore } from '@vanish/core';
import type { ServerConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import { loadDriver } from './drivers.js';
import { outageReporter } from './outage.js';

/** The database named in a MongoDB URL's path, or `"vanish"` when it names none. */
export function mongoDatabaseName(url: string): string {
  const name = /^mongodb(?:\+srv)?:\/\/[^/?#]*\/([^?#]*)/.exec(url)?.[1];
  return name ? decodeURIComponent(name) : 'vanish';
}

/**
 * Opens the MongoDB store: builds the client from `MONGODB_URL` with bounded timeouts; the
 * store owns the client and keeps dialling until the first connection succeeds (driver 7 does
 * not dial again by itself after a failed first connection).
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
  try {
    // The store owns the client and keeps dialling until the first connection succeeds.
    const store = new MongoStore({
      db: client.db(mongoDatabaseName(config.mongodbUrl)),
      client,
      collectionName: config.mongodbCollection,
      closeClient: true,
      connect: true,
      connectRetryMaxMs: config.storeTimeoutMs,
      onConnectionChange: (state, cause) => (state === 'connected' ? report.up() : report.down(cause)),
    });
    await store.firstConnectAttempt();
    return store;
  } catch (err) {
    await client.close();
    throw new ConfigurationError(`Invalid VANISH_MONGODB_COLLECTION or MongoDB store settings: ${(err as Error).message}`);
  }
}
