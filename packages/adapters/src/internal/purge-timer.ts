import type { Clock } from '@vanish/core';
import { checkMs } from './options.js';

/** A periodic `purgeExpired` call that never keeps the process alive. */
export interface PurgeTimer {
  stop(): void;
}

/**
 * Calls `purge(clock())` every `intervalMs` (0 disables), skipping a tick while the previous
 * purge is still running. Failures are handed to `onError` (default: ignored, the next tick
 * tries again) — cleanup never decides correctness.
 *
 * @throws {@link ConfigurationError} when `intervalMs` is not a whole number of ms, 0 or more
 */
export function startPurgeTimer(
  purge: (now: number) => Promise<number>,
  intervalMs: number,
  clock: Clock,
  onError: (err: unknown) => void = () => {},
): PurgeTimer {
  checkMs(intervalMs, 0, 'purgeIntervalMs', 0);
  if (intervalMs === 0) return { stop() {} };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    purge(clock())
      .catch(onError)
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
