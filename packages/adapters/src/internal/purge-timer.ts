import type { Clock } from '@vanish/core';

/** A periodic `purgeExpired` call that never keeps the process alive. */
export interface PurgeTimer {
  stop(): void;
}

/**
 * Calls `purge(clock())` every `intervalMs` (0 disables). Failures are handed to `onError`
 * (default: ignored, the next tick tries again) — cleanup never decides correctness.
 */
export function startPurgeTimer(
  purge: (now: number) => Promise<number>,
  intervalMs: number,
  clock: Clock,
  onError: (err: unknown) => void = () => {},
): PurgeTimer {
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 0) {
    throw new RangeError('purgeIntervalMs must be a whole number of milliseconds, 0 to disable.');
  }
  if (intervalMs === 0) return { stop() {} };
  const timer = setInterval(() => {
    purge(clock()).catch(onError);
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
