/**
 * A source of the current time in epoch milliseconds.
 *
 * @remarks
 * Inject one into {@link Vanish} (and into stores that sweep) to test expiry
 * without sleeping. It must be monotonic enough for TTLs: a clock that jumps
 * backwards only makes secrets live longer.
 */
export type Clock = () => number;

/** The wall clock: `Date.now`. */
export const systemClock: Clock = () => Date.now();
