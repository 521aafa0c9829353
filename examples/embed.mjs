// Embedding vanish in an app: no server, any SecretStore. Run after `npm run build`:
//   node examples/embed.mjs
import { Vanish } from '@vanish/core';
import { MemoryStore } from '@vanish/adapters/memory';

const vanish = new Vanish({ store: new MemoryStore() });
const { secretKey } = await vanish.create({ secret: 'db password: hunter2', passphrase: 'correct horse battery' });
const secret = await vanish.reveal({ secretKey, passphrase: 'correct horse battery' });
console.log(secret);

// A second read finds nothing: the secret is gone.
await vanish.reveal({ secretKey, passphrase: 'correct horse battery' }).catch((err) => console.log(err.code));

// The store (and any timer it runs) is closed with the instance.
await vanish.close();
