// The baseline for `npm run bench`: one bare route on the same HTTP engine as vanish.
// Usage: node scripts/hello-server.mjs <hyper-express|node>; prints {"port": N} once listening.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

const engine = process.argv[2] ?? 'hyper-express';
const require = createRequire(new URL('../packages/server/package.json', import.meta.url));

if (engine === 'hyper-express') {
  const HyperExpress = require('hyper-express');
  const app = new HyperExpress.Server({ auto_close: false });
  app.post('/hello', (_req, res) => res.header('content-type', 'application/json').send('{"hello":"world"}'));
  await app.listen(0, '127.0.0.1');
  console.log(JSON.stringify({ port: app.port }));
} else {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"hello":"world"}'));
  });
  server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
}
process.on('SIGTERM', () => process.exit(0));
