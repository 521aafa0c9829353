#!/usr/bin/env node
import { ConfigurationError } from '@vanish/core';
import { loadConfig, SETTINGS } from './config/index.js';
import { createLogger } from './logger.js';
import { startServer } from './main.js';
import { describeError } from './http/pipeline.js';

const HELP = `vanish — one-time secrets server

Usage: vanish serve [flags]

Every flag has an environment variable; flags win. True/false flags may stand alone.
${SETTINGS.map((s) => {
  const fallback = s.key === 'kdfConcurrency' ? 'CPU count' : String(s.default());
  return `  --${s.flag.padEnd(20)} ${s.env.padEnd(27)} default ${fallback.padEnd(18)} ${s.accepted}`;
}).join('\n')}
`;

async function main(argv: string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv;
  if (['--help', '-h', 'help'].includes(command) || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  if (command !== 'serve') {
    process.stderr.write(`vanish: unknown command "${command}".\n\n${HELP}`);
    return 2;
  }
  let config;
  try {
    config = loadConfig(process.env, rest);
  } catch (err) {
    if (err instanceof ConfigurationError) {
      process.stderr.write(`vanish: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  let server;
  try {
    server = await startServer(config, { logger });
  } catch (err) {
    if (err instanceof ConfigurationError) {
      // A setting that only the store could check (a Redis URL, a collection name): the same exit as a bad value.
      logger.fatal({ error: { type: err.name } }, 'startup failed: invalid configuration');
      process.stderr.write(`vanish: ${err.message}\n`);
      return 2;
    }
    logger.fatal({ error: describeError(err) }, 'startup failed');
    process.stderr.write(`vanish: cannot start: ${(err as Error).message}\n`);
    return 1;
  }
  const running = server;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        resolve(1);
        return;
      }
      stopping = true;
      logger.info({ signal }, 'signal received');
      running.close().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ error: describeError(err) }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`vanish: unexpected failure: ${(err as Error)?.name ?? 'error'}\n`);
    process.exit(1);
  },
);
