import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config/index.js';

export type { Logger } from 'pino';

/**
 * Creates the structured JSON-lines logger.
 *
 * @remarks
 * Nothing in vanish logs request bodies, query strings, headers or paths (request lines
 * carry the matched route's template, e.g. `/secrets/{secret_key}`); as a second line of
 * defence, fields with those names are censored here too.
 * @param level - minimum level
 * @param destination - where lines go; default stdout
 * @param fields - fields on every line (the cluster's `worker` id)
 * @returns a pino logger
 */
export function createLogger(level: LogLevel, destination?: DestinationStream, fields: Readonly<Record<string, string | number>> = {}): Logger {
  const options = {
    level,
    base: { service: 'vanish', ...fields },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['secret', 'passphrase', 'secret_key', 'secretKey', 'body', 'query', 'headers', 'url', 'path', '*.secret', '*.passphrase', '*.secret_key', '*.secretKey'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
