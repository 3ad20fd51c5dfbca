import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveExpiry } from '../../core/issuers';
import { nextAttemptAt } from '../../core/policy';
import { MAX_INSTANT_MS, MAX_RETRY_AFTER_SECONDS, parseRetryAfter } from '../../core/untrusted-time';

const NOW = new Date('2026-11-22T12:00:00.000Z');
const now = () => NOW;
const base = { credential: 'c', kind: 'json', accessToken: 'opaque-token-value', issuedAt: NOW };

function unsignedJwt(payload: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'none' })}.${part(payload)}.sig`;
}

describe('parseRetryAfter', () => {
  it('caps a 20-digit delta and a maximal HTTP-date at an hour', () => {
    expect(parseRetryAfter('99999999999999999999', now)).toBe(MAX_RETRY_AFTER_SECONDS);
    expect(parseRetryAfter('Sat, 13 Sep 275760 00:00:00 GMT', now)).toBe(MAX_RETRY_AFTER_SECONDS);
    expect(parseRetryAfter('Fri, 31 Dec 9999 23:59:59 GMT', now)).toBe(MAX_RETRY_AFTER_SECONDS);
  });
  it('keeps ordinary values and refuses unreadable ones', () => {
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter('Sun, 22 Nov 2026 12:01:00 GMT', now)).toBe(60);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('9'.repeat(5000), now)).toBeUndefined();
  });
});

describe('parseRetryAfter reads only the RFC 9110 forms (§10.2.3: delta-seconds or HTTP-date)', () => {
  const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number) => String(n).padStart(2, '0');
  const clock = (d: Date) => `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  const formats: [string, (d: Date) => string][] = [
    ['IMF-fixdate', (d) => d.toUTCString()],
    [
      'rfc850-date',
      (d) =>
        `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${two(d.getUTCFullYear() % 100)} ${clock(d)} GMT`,
    ],
    [
      'asctime-date',
      (d) =>
        `${DAYS[d.getUTCDay()]?.slice(0, 3)} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${clock(d)} ${d.getUTCFullYear()}`,
    ],
  ];
  const expected = (d: Date) =>
    Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(0, Math.ceil((d.getTime() - NOW.getTime()) / 1000)));

  it.each(formats)('reads every %s as UTC, whatever the date (two-digit years within 50 years)', (_name, format) => {
    // Within ±49 years, so that a two-digit rfc850 year means one century only; whole seconds.
    const date = fc
      .integer({ min: NOW.getTime() / 1000 - 49 * 365 * 86400, max: NOW.getTime() / 1000 + 49 * 365 * 86400 })
      .map((s) => new Date(s * 1000));
    fc.assert(
      fc.property(date, (d) => {
        expect(parseRetryAfter(format(d), now)).toBe(expected(d));
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    '1.5',
    '0.5',
    '-5',
    '+120',
    '5 10',
    '2026-11-22T12:00:10Z',
    'Sun, 22 Nov 2026 12:00:10',
    'sun, 22 nov 2026 12:00:10 gmt',
    'Sun, 31 Feb 2026 12:00:10 GMT',
    'Sun, 22 Nov 2026 25:00:10 GMT',
    '22 Nov 2026 12:00:10 GMT',
  ])('does not read %j (not an RFC 9110 form): unreadable, never "retry in 0 s"', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });

  it('reads nothing else: any value that is not digits nor shaped like an HTTP-date is unreadable', () => {
    const notDigits = fc.string({ maxLength: 40 }).filter((v) => !/^\s*\d+\s*$/.test(v));
    fc.assert(
      fc.property(notDigits, (value) => {
        expect(parseRetryAfter(value, now)).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });
});

describe('nextAttemptAt', () => {
  it('is a valid, capped Date for any Retry-After', () => {
    for (const retryAfterSeconds of [1e19, Number.MAX_VALUE, Number.POSITIVE_INFINITY, Number.NaN, -5]) {
      const next = nextAttemptAt({ failures: 1, now: NOW, retryAfterSeconds, random: () => 0 });
      expect(Number.isFinite(next.getTime())).toBe(true);
      expect(next.getTime() - NOW.getTime()).toBeLessThanOrEqual(MAX_RETRY_AFTER_SECONDS * 1000);
      expect(() => next.toISOString()).not.toThrow();
    }
  });
  it('never parks a credential past notAfter for longer than a polite 15 minutes', () => {
    const notAfter = new Date(NOW.getTime() + 1800_000);
    const next = nextAttemptAt({ failures: 1, now: NOW, retryAfterSeconds: 3000, random: () => 0, notAfter });
    expect(next.getTime()).toBe(notAfter.getTime());
    const past = nextAttemptAt({ failures: 1, now: NOW, retryAfterSeconds: 3000, random: () => 0, notAfter: NOW });
    expect(past.getTime() - NOW.getTime()).toBe(900_000);
    const polite = nextAttemptAt({ failures: 1, now: NOW, retryAfterSeconds: 600, random: () => 0, notAfter: NOW });
    expect(polite.getTime() - NOW.getTime()).toBe(600_000);
  });
  it('survives a NaN failure count and a broken random seam', () => {
    const next = nextAttemptAt({ failures: Number.NaN, now: NOW, random: () => Number.NaN });
    expect(Number.isFinite(next.getTime())).toBe(true);
  });
});

describe('resolveExpiry bounds', () => {
  it('refuses a stated lifetime that overflows a Date as bad-expiry, not a RangeError', () => {
    for (const statedLifetime of [1e300, '9'.repeat(20), 8.64e12]) {
      expect(() => resolveExpiry({ ...base, statedLifetime })).toThrow(
        expect.objectContaining({ code: 'MalformedResponse', reason: 'bad-expiry' }),
      );
    }
  });
  it('refuses a JWT exp past year 9999 (an exp in milliseconds) as implausible, a transient class', () => {
    const accessToken = unsignedJwt({ exp: NOW.getTime() });
    expect(() => resolveExpiry({ ...base, accessToken })).toThrow(
      expect.objectContaining({ code: 'MalformedResponse', transient: true, reason: 'implausible-lifetime' }),
    );
    const huge = unsignedJwt({ exp: 1e300 });
    expect(() => resolveExpiry({ ...base, accessToken: huge, defaultLifetimeSeconds: 600 })).toThrow(
      expect.objectContaining({ reason: 'implausible-lifetime' }),
    );
  });
  it('refuses milliseconds read as seconds (a 14-day Sirv token) unless maxLifetimeSeconds allows it', () => {
    expect(() => resolveExpiry({ ...base, statedLifetime: 1_200_000, defaultLifetimeSeconds: 1200 })).toThrow(
      expect.objectContaining({ code: 'MalformedResponse', reason: 'implausible-lifetime' }),
    );
    const allowed = resolveExpiry({ ...base, statedLifetime: 1_200_000, maxLifetimeSeconds: 30 * 86400 });
    expect(allowed.getTime() - NOW.getTime()).toBe(1_200_000_000);
  });
  it('always gives an instant a token record can store', () => {
    const expires = resolveExpiry({ ...base, statedLifetime: 86400 });
    expect(expires.getTime()).toBeLessThanOrEqual(MAX_INSTANT_MS);
  });
});
