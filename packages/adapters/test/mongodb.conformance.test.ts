import { MongoClient } from 'mongodb';
import { afterAll, describe, it } from 'vitest';
import { runStoreConformance } from '@vanish/core/testing';
import { MongoStore } from '@vanish/adapters/mongodb';

// Runs against a real MongoDB whenever MONGODB_URL is set, e.g.
//   docker run -d -p 27017:27017 mongo:8.0 && MONGODB_URL=mongodb://127.0.0.1:27017/vanish_test npm test
// No MongoDB server can be installed on this project's machines, so without it the run is
// skipped — loudly, never replaced by a mocked database.
const url = process.env['MONGODB_URL'];

if (url) {
  const clients: MongoClient[] = [];
  afterAll(async () => {
    for (const c of clients) await c.close();
  });
  runStoreConformance({
    name: 'MongoStore (MONGODB_URL)',
    runner: { describe, it },
    createStore: async ({ namespace }) => {
      const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
      clients.push(client);
      await client.connect();
      return new MongoStore({ db: client.db(), collectionName: namespace, client, closeClient: true });
    },
  });
} else {
  console.warn(
    '\n!!! MONGODB CONFORMANCE SKIPPED: MONGODB_URL is not set. No MongoDB server can be installed on this ' +
      "project's machines; run `MONGODB_URL=mongodb://127.0.0.1:27017/vanish_test npm test` where one runs.\n",
  );
  describe('SecretStore conformance: MongoStore', () => {
    it.skip('skipped: MONGODB_URL is not set (no MongoDB server can be installed on these machines)', () => {});
  });
}
