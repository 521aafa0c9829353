import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger } from 'pino';

/**
 * Creates the structured JSON-lines logger.
 *
 * @remarks
 * Nothing in vanish logs request bodies, query strings, headers or `secret_key`s;
 * as a second line of defence, fields with those names are censored here too.
 * @param level - minimum level
 * @param destination - where lines go; default stdout
 * @returns a pino logger
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'vanish' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['secret', 'passphrase', 'secret_key', 'secretKey', 'body', 'query', 'headers', 'url', '*.secret', '*.passphrase', '*.secret_key', '*.secretKey'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * Removes the `secret_key` from a path before it is logged.
 *
 * @param path - request path without query string
 * @returns the path with anything after `/secrets/` replaced
 */
export function redactPath(path: string): string {
  return path.startsWith('/secrets/') ? '/secrets/[redacted]' : path.length > 200 ? `${path.slice(0, 200)}…` : path;
}
