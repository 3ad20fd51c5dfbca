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
 * Only the RFC's forms are read: digits, or an HTTP-date in one of its three formats (§5.6.7);
 * anything else (`"1.5"`, `"-5"`, `"+120"`, a date without its zone) is unreadable, never a date
 * guessed by `Date.parse`. A date in the past gives 0.
 *
 * @example
 * ```ts
 * parseRetryAfter('120', () => new Date()); // 120
 * parseRetryAfter('99999999999999999999', () => new Date()); // 3600
 * parseRetryAfter('1.5', () => new Date()); // undefined
 * ```
 */
export function parseRetryAfter(value: string | null | undefined, now: () => Date): number | undefined {
  if (value === null || value === undefined) return undefined;
  // A header is at most a few kilobytes (the HTTP client bounds it); a date is never longer than this.
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > 64) return undefined;
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed), MAX_RETRY_AFTER_SECONDS);
  const from = now().getTime();
  const at = parseHttpDate(trimmed, from);
  if (at === undefined || !Number.isFinite(from)) return undefined;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(0, Math.ceil((at - from) / 1000)));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = MONTHS.join('|');
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
// RFC 9110 §5.6.7. The IMF-fixdate year takes more than four digits too, so that a far date is
// still read (and capped) rather than ignored.
const IMF_FIXDATE = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d{2}) (${MONTH}) (\\d{4,6}) ${TIME} GMT$`);
const RFC850_DATE = new RegExp(
  `^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-(${MONTH})-(\\d{2}) ${TIME} GMT$`,
);
const ASCTIME_DATE = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (${MONTH}) ( \\d|\\d{2}) ${TIME} (\\d{4})$`);

/** Epoch ms of an HTTP-date (all three formats, always UTC), or `undefined` when it is not one. */
export function parseHttpDate(text: string, nowMs: number): number | undefined {
  const fields = httpDateFields(text, nowMs);
  if (fields === undefined) return undefined;
  const { year, month, day, hour, minute, second } = fields;
  // A leap second (60) is allowed by the grammar; 25:00 or 31 Feb are not dates.
  if (month < 0 || hour > 23 || minute > 59 || second > 60) return undefined;
  // setUTCFullYear, not Date.UTC: that reads the years 0 to 99 as 1900 to 1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  if (date.getUTCDate() !== day || date.getUTCMonth() !== month) return undefined;
  date.setUTCHours(hour, minute, second);
  const ms = date.getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

interface HttpDateFields {
  year: number;
  /** 0 for January; −1 when not a month name. */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function httpDateFields(text: string, nowMs: number): HttpDateFields | undefined {
  const at = (day: string, month: string, year: number, hour: string, minute: string, second: string) => ({
    year,
    month: MONTHS.indexOf(month),
    day: Number(day),
    hour: Number(hour),
    minute: Number(minute),
    second: Number(second),
  });
  const imf = IMF_FIXDATE.exec(text);
  if (imf !== null) {
    const [, day = '', month = '', year = '', hour = '', minute = '', second = ''] = imf;
    return at(day, month, Number(year), hour, minute, second);
  }
  const rfc850 = RFC850_DATE.exec(text);
  if (rfc850 !== null) {
    const [, day = '', month = '', yy = '', hour = '', minute = '', second = ''] = rfc850;
    // §5.6.7: a two-digit year more than 50 years ahead is the latest such year in the past.
    const thisYear = new Date(Number.isFinite(nowMs) ? nowMs : 0).getUTCFullYear();
    const year = Math.floor(thisYear / 100) * 100 + Number(yy);
    return at(day, month, year > thisYear + 50 ? year - 100 : year, hour, minute, second);
  }
  const asctime = ASCTIME_DATE.exec(text);
  if (asctime !== null) {
    const [, month = '', day = '', hour = '', minute = '', second = '', year = ''] = asctime;
    return at(day.trim(), month, Number(year), hour, minute, second);
  }
  return undefined;
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
