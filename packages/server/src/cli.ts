#!/usr/bin/env node
import { ConfigurationError } from '@vanish/core';
import { loadConfig, SETTINGS, type ServerConfig } from './config/index.js';
import { createLogger } from './logger.js';
import { startServer, type RunningServer } from './main.js';
import { describeError } from './http/pipeline.js';
import { CLIENT_HELP } from './cli/help.js';
import { processIo } from './cli/io.js';
import { runReveal } from './cli/reveal.js';
import { runShare } from './cli/share.js';
import { isClusterPrimary, runPrimary, workerConfig, workerLogFields } from './cluster.js';

declare const __VANISH_VERSION__: string;
/** The package version, set at build time. */
const VERSION = typeof __VANISH_VERSION__ === 'string' ? __VANISH_VERSION__ : '0.0.0-dev';

/** Lays out rows as columns as wide as their widest cell. */
function columns(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `  ${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}`.trimEnd()).join('\n');
}

const HELP = `vanish ${VERSION} — one-time secrets: the server, and a client for it

Usage:
  vanish serve [flags]     start the server
  vanish share [flags]     share a secret read from stdin (see Client commands below)
  vanish reveal LINK       read a secret once, to stdout
  vanish --version         print the version
  vanish --help            print this help

Serve: every flag has an environment variable; flags win. True/false flags may stand alone.

${columns([
  ['flag', 'variable', 'default', 'accepts'],
  ...SETTINGS.map((s) => [`--${s.flag}`, s.env, s.key === 'kdfConcurrency' ? 'CPU count' : String(s.default()) || '""', s.accepted]),
])}

Exit codes of serve: 0 stopped by a signal after a clean shutdown; 1 could not start or stop cleanly
(an address in use, a store that failed); 2 invalid configuration or usage.

${CLIENT_HELP}`;

async function main(argv: string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv;
  if (['--version', '-v', 'version'].includes(command)) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (['--help', '-h', 'help'].includes(command) || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === 'share') return runShare(rest, processIo());
  if (command === 'reveal') return runReveal(rest, processIo());
  if (command !== 'serve') {
    process.stderr.write(`vanish: unknown command "${command}".\n\n${HELP}`);
    return 2;
  }
  let config: ServerConfig;
  try {
    config = loadConfig(process.env, rest);
  } catch (err) {
    if (err instanceof ConfigurationError) {
      process.stderr.write(`vanish: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger(config.logLevel, undefined, workerLogFields(config));
  if (isClusterPrimary(config)) return runPrimary(config, logger);
  const inCluster = config.workers > 1;
  let server: RunningServer;
  try {
    server = await startServer(workerConfig(config), { logger });
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
    // A worker takes its SIGTERM from the primary; the terminal's SIGINT reaches the whole group.
    process.on('SIGINT', inCluster ? () => {} : stop);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`vanish: unexpected failure: ${(err as Error)?.name ?? 'error'}\n`);
    process.exit(1);
  },
);
