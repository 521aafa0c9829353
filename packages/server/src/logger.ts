import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config/index.js';

export type { Logger } from 'pino';

/**
 * Creates the structured JSON-lines logger.
 *
 * @remarks
 * Nothing in vanish logs request bodies, query strings, headers or paths (request lines
 * carry the matched route's template, e.g. `/secrets/{secret_key}`); as a second line of
 * defence, fields with those names are censored here too. Lines to stdout are written
 * asynchronously in batches and flushed when the process exits.
 * @param level - minimum level
 * @param destination - where lines go; default stdout
 * @param fields - fields on every line (the cluster's `worker` id)
 * @returns a pino logger
 */
export function createLogger(
  level: LogLevel,
  destination?: DestinationStream,
  fields: Readonly<Record<string, string | number>> = {},
): Logger {
  const options = {
    level,
    base: { service: 'vanish', ...fields },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'secret',
        'passphrase',
        'secret_key',
        'secretKey',
        'body',
        'query',
        'headers',
        'url',
        'path',
        '*.secret',
        '*.passphrase',
        '*.secret_key',
        '*.secretKey',
      ],
      censor: '[redacted]',
    },
  };
  // stdout is written asynchronously: lines logged while a write is under way go out together
  // in the next one (one write(2) for many requests under load, not one per line); what is
  // still buffered is flushed synchronously when the process exits. Each write stays within
  // PIPE_BUF, so the lines of several workers on one pipe never interleave mid-line.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: false, maxWrite: 4096 }));
}
