/**
 * The one place where numbers an issuer sent become times: `Retry-After`, stated lifetimes and
 * JWT `exp`. Every value that leaves here is finite, inside the range a token record can store
 * (ISO-8601 with a four-digit year) and plausible; anything else is `undefined` or a
 * classified error, never an Invalid Date or a NaN.
 */

/** The last instant a token record can hold: `9999-12-31T23:59:59.999Z` (four-digit ISO years). */
export const MAX_INSTANT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * The longest wait an issuer's `Retry-After` can impose. Longer requests are cut to this, so
 * a far date cannot park a credential for longer than an hour at a time.
 */
export const MAX_RETRY_AFTER_SECONDS = 3600;

/**
 * The longest lifetime an issuer may state before it is judged implausible (seven days), when
 * the configuration sets no `maxLifetimeSeconds` (a set cap bounds any longer claim instead).
 * A 20-minute token whose lifetime is sent in milliseconds reads as 14 days: believing it would
 * leave workloads with an expired token.
 */
export const PLAUSIBLE_LIFETIME_SECONDS = 7 * 86400;

/**
 * Parses a `Retry-After` value (delta-seconds or HTTP-date, RFC 9110 §10.2.3) into whole seconds
 * from `now`, capped at {@link MAX_RETRY_AFTER_SECONDS}; `undefined` when absent or unreadable.
 * A date in the past gives 0.
 *
 * @example
 * ```ts
 * parseRetryAfter('120', () => new Date()); // 120
 * parseRetryAfter('99999999999999999999', () => new Date()); // 3600
 * ```
 */
export function parseRetryAfter(value: string | null | undefined, now: () => Date): number | undefined {
  if (value === null || value === undefined) return undefined;
  // A header is at most a few kilobytes (the HTTP client bounds it); a date is never longer than this.
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > 64) return undefined;
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed), MAX_RETRY_AFTER_SECONDS);
  const at = Date.parse(trimmed);
  const from = now().getTime();
  if (!Number.isFinite(at) || !Number.isFinite(from)) return undefined;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(0, Math.ceil((at - from) / 1000)));
}

/**
 * Reads a stated lifetime: a positive number, or a numeric string such as `"3600"`.
 * Returns `undefined` when absent (`undefined`/`null`); calls `onInvalid` for anything else,
 * including infinities and numbers a Date cannot hold.
 */
export function parseLifetimeSeconds(value: unknown, onInvalid: () => never): number | undefined {
  if (value === undefined || value === null) return undefined;
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.length <= 32 && /^\s*\d+(\.\d+)?\s*$/.test(value)
        ? Number(value)
        : Number.NaN;
  if (!Number.isFinite(number) || number <= 0 || number * 1000 > MAX_INSTANT_MS) return onInvalid();
  return number;
}

/**
 * A JWT `exp` (seconds since the epoch) as milliseconds, or `undefined` when it is not a finite
 * number inside the range of a token record (an `exp` sent in milliseconds lands past year 9999).
 */
export function epochSecondsToMs(value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  const ms = value * 1000;
  return ms >= 0 && ms <= MAX_INSTANT_MS ? ms : undefined;
}

/** True when `ms` is an instant a token record can hold (finite, from 1970 to year 9999). */
export function isStorableInstant(ms: number): boolean {
  return Number.isFinite(ms) && ms >= 0 && ms <= MAX_INSTANT_MS;
}

/**
 * `from + seconds`, clamped into the storable range; a non-finite input gives `from` itself.
 * Used where a duration that came (even indirectly) from an issuer becomes a Date.
 */
export function addSecondsClamped(from: Date, seconds: number): Date {
  const base = Number.isFinite(from.getTime()) ? from.getTime() : Date.now();
  const delta = Number.isFinite(seconds) ? seconds * 1000 : 0;
  return new Date(Math.min(MAX_INSTANT_MS, Math.max(0, Math.round(base + delta))));
}
