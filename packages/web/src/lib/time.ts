const UNITS: ReadonlyArray<readonly [number, string]> = [
  [86400, 'day'],
  [3600, 'hour'],
  [60, 'minute'],
  [1, 'second'],
];

/**
 * Names a duration with the largest unit that divides it exactly: `90 minutes`, `7 days`, `1 hour`.
 *
 * @param seconds - a positive whole number of seconds
 * @returns the English phrase
 */
export function formatDuration(seconds: number): string {
  for (const [size, name] of UNITS) {
    if (seconds % size === 0) {
      const n = seconds / size;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  /* v8 ignore next -- every whole number is a whole number of seconds */
  return `${seconds} seconds`;
}

/** The server's TTL bounds, as `GET /limits` gives them. */
export interface TtlBounds {
  /** seconds */
  minTtl: number;
  /** seconds */
  maxTtl: number;
  /** seconds */
  defaultTtl: number;
}

/** One lifetime in the form's list. */
export interface TtlChoice {
  /** seconds */
  seconds: number;
  /** what the list shows */
  label: string;
  /** the server's default, preselected */
  selected: boolean;
}

/** Lifetimes offered when the server's bounds allow them. */
export const STANDARD_TTLS: readonly number[] = [300, 3600, 86400, 3 * 86400, 7 * 86400, 14 * 86400, 30 * 86400];

/**
 * The lifetimes the send form offers: the standard ones within the server's bounds, the
 * server's default (preselected), and — when that leaves fewer than two — the bounds themselves.
 *
 * @param bounds - from `GET /limits`
 * @returns choices in ascending order, exactly one selected
 */
export function ttlChoices(bounds: TtlBounds): TtlChoice[] {
  const seconds = new Set(STANDARD_TTLS.filter((s) => s >= bounds.minTtl && s <= bounds.maxTtl));
  seconds.add(bounds.defaultTtl);
  if (seconds.size < 2) {
    seconds.add(bounds.minTtl);
    seconds.add(bounds.maxTtl);
  }
  return [...seconds].sort((a, b) => a - b).map((s) => ({ seconds: s, label: formatDuration(s), selected: s === bounds.defaultTtl }));
}

/**
 * Says when a secret expires, in the reader's local time and relative to now.
 *
 * @param expiresAt - the expiry
 * @param now - the current time (epoch ms)
 * @param locale - a BCP 47 locale; default the browser's
 * @param timeZone - an IANA zone; default the browser's
 * @returns e.g. `Tuesday, 9 December 2026 at 14:05 (in 7 days)`
 */
export function formatExpiry(expiresAt: Date, now: number = Date.now(), locale?: string, timeZone?: string): string {
  const absolute = new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short', ...(timeZone ? { timeZone } : {}) }).format(
    expiresAt,
  );
  const left = Math.max(0, Math.round((expiresAt.getTime() - now) / 1000));
  const approx =
    left >= 86400
      ? Math.round(left / 86400) * 86400
      : left >= 3600
        ? Math.round(left / 3600) * 3600
        : Math.max(60, Math.round(left / 60) * 60);
  return `${absolute} (in ${formatDuration(approx)})`;
}
