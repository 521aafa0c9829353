import { ConfigurationError } from '@vanish/core';

/**
 * Validates the shared `closeClient` option: "the store owns its client (or database handle)
 * and closes it in `close()`".
 *
 * @param value - the option as given
 * @returns the flag, `false` when absent
 * @throws {@link ConfigurationError} when it is present and not a boolean
 */
export function checkCloseClient(value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new ConfigurationError('closeClient must be true or false.');
  return value;
}

/**
 * Validates a duration option in whole milliseconds.
 *
 * @param value - the option as given
 * @param fallback - the default when absent
 * @param name - the option's name, for the message
 * @param min - the smallest accepted value
 * @returns the duration
 * @throws {@link ConfigurationError} when it is not a whole number of at least `min`
 */
export function checkMs(value: unknown, fallback: number, name: string, min = 0): number {
  const ms = value ?? fallback;
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < min) {
    throw new ConfigurationError(`${name} must be a whole number of milliseconds, ${min} or more.`);
  }
  return ms;
}
