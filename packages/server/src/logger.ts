import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config/index.js';

export type { Logger } from 'pino';

/**
 * Creates the structured JSON-lines logger.
 *
 * @remarks
 * Nothing in vanish logs request bodies, query strings, headers or paths (request lines
 * carry the matched route's template, e.g. `/secrets/{secret_key}`); as a second line of
 * defence, fields with those names are censored here too. Lines to stdout go through
 * {@link batchedDestination}.
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
  return pino(options, destination ?? batchedDestination(1));
}

/** Bytes of log lines held before a write; below {@link LOG_MAX_WRITE}. */
export const LOG_MIN_WRITE = 3072;
/** Largest single write: PIPE_BUF on Linux, so the lines of several workers on one pipe never interleave mid-line. */
export const LOG_MAX_WRITE = 4096;
/** Longest a line waits in the buffer when traffic is light, ms. */
export const LOG_FLUSH_MS = 100;

/** What {@link batchedDestination} returns: a pino destination over a sonic-boom stream. */
export interface BatchedDestination extends DestinationStream {
  /** the underlying stream (it emits `write` with the bytes of each write) */
  readonly stream: ReturnType<typeof pino.destination>;
  /** starts writing what is buffered */
  flush(): void;
}

/** The message of an access line, one per request (the API pipeline and the web page log them). */
export const ACCESS_MESSAGE = 'request';
/** How an access line ends as JSON (`msg` is the last field pino writes). */
const ACCESS_LINE_END = `"msg":"${ACCESS_MESSAGE}"}\n`;

/**
 * The log destination of `vanish serve`: access lines (one per request) are gathered in memory
 * and written to `fd` asynchronously, one `write(2)` per {@link LOG_MIN_WRITE}–
 * {@link LOG_MAX_WRITE} bytes of whole lines, and at least every {@link LOG_FLUSH_MS} ms. Every
 * other line (startup, `listening`, warnings, errors, shutdown) starts a write at once, taking
 * the buffered access lines with it, so lines keep their order. What is still buffered is
 * written synchronously when the process exits.
 *
 * @remarks One write per access line cost a thread-pool hop per request (docs/perf/). The
 * price: a process killed with SIGKILL loses up to {@link LOG_FLUSH_MS} ms of access lines.
 * @param fd - the file descriptor, 1 for stdout
 * @returns the destination
 */
export function batchedDestination(fd: number): BatchedDestination {
  const stream = pino.destination({
    dest: fd,
    sync: false,
    minLength: LOG_MIN_WRITE,
    maxWrite: LOG_MAX_WRITE,
    periodicFlush: LOG_FLUSH_MS,
  });
  const flush = () => {
    try {
      stream.flush();
    } catch {
      // destroyed (the process is exiting): what was buffered went out with the exit flush
    }
  };
  return {
    stream,
    flush,
    write(line: string) {
      stream.write(line);
      if (!line.endsWith(ACCESS_LINE_END)) flush();
    },
  };
}
