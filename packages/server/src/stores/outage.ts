import type { Logger } from '../logger.js';

/** Logs a store's connection trouble once per outage, and its recovery once. */
export interface OutageReporter {
  /** the connection failed; logged only on the first call of an outage */
  down(err: unknown): void;
  /** the connection is back; logged only when an outage was reported */
  up(): void;
}

/**
 * Creates the reporter for one store.
 *
 * @param logger - where the two lines go (never with credentials: only the driver's message)
 * @param store - the store's name for the log line
 * @returns the reporter
 */
export function outageReporter(logger: Logger | undefined, store: string): OutageReporter {
  let down = false;
  return {
    down(err) {
      if (down) return;
      down = true;
      logger?.warn(
        { store, reason: err instanceof Error ? err.message : String(err) },
        'store connection lost; answering 503 until it is back',
      );
    },
    up() {
      if (!down) return;
      down = false;
      logger?.info({ store }, 'store connection restored');
    },
  };
}
