import { describe, expect, it } from 'vitest';
import { InvalidConfigurationError } from '../../core/errors';
import {
  assertWriteBudget,
  computeRefreshAfter,
  nextAttemptAt,
  resolvePolicy,
  shortestWriteIntervalSeconds,
} from '../../core/policy';

const ISSUED = new Date('2026-11-22T12:00:00.000Z');
const plus = (seconds: number) => new Date(ISSUED.getTime() + seconds * 1000);
const sirvToken = { issuedAt: ISSUED, expiresAt: plus(1200) };

describe('resolvePolicy', () => {
  it('fills in the defaults, with a margin of two schedule intervals', () => {
    expect(resolvePolicy()).toEqual({
      refreshFraction: 0.75,
      jitterFraction: 0.05,
      scheduleIntervalSeconds: 60,
      minMarginSeconds: 120,
      allowFrequentWrites: false,
    });
    expect(resolvePolicy({ scheduleIntervalSeconds: 300 }).minMarginSeconds).toBe(600);
  });

  it('names the field and what is expected for a bad value', () => {
    expect(() => resolvePolicy({ refreshFraction: 1.2 }, { credential: 'sirv-prod' })).toThrow(
      /Credential "sirv-prod": invalid refresh policy:\n {2}- policy\.refreshFraction: expected refreshFraction below 1/,
    );
    expect(() => resolvePolicy({ scheduleIntervalSeconds: 30 })).toThrow(
      /policy\.scheduleIntervalSeconds: .*at least 60/,
    );
    expect(() => resolvePolicy({ everySoOften: 1 })).toThrow(/unknown field\(s\) "everySoOften"/);
  });
});

describe('computeRefreshAfter', () => {
  it('refreshes at 75 % of the lifetime when the jitter draws zero', () => {
    expect(computeRefreshAfter(sirvToken, resolvePolicy(), () => 0)).toEqual(plus(900));
  });

  it('takes up to 5 % of the lifetime off, never adding any', () => {
    const latest = computeRefreshAfter(sirvToken, resolvePolicy(), () => 0);
    const earliest = computeRefreshAfter(sirvToken, resolvePolicy(), () => 0.999999);
    expect(earliest.getTime()).toBeGreaterThanOrEqual(plus(840).getTime());
    expect(earliest.getTime()).toBeLessThan(latest.getTime());
    expect(computeRefreshAfter(sirvToken, resolvePolicy(), () => 0.5)).toEqual(plus(870));
  });

  it('is never later than expiresAt minus the minimum margin', () => {
    const policy = resolvePolicy({ refreshFraction: 0.95, minMarginSeconds: 300, allowFrequentWrites: true });
    expect(computeRefreshAfter(sirvToken, policy, () => 0)).toEqual(plus(900));
  });

  it('is never before issuedAt, even when the margin exceeds the lifetime', () => {
    const policy = resolvePolicy({ minMarginSeconds: 5000 });
    expect(computeRefreshAfter(sirvToken, policy, () => 0)).toEqual(ISSUED);
  });

  it('clamps a random seam that misbehaves', () => {
    expect(computeRefreshAfter(sirvToken, resolvePolicy(), () => 7)).toEqual(
      computeRefreshAfter(sirvToken, resolvePolicy(), () => 0.999999),
    );
    expect(computeRefreshAfter(sirvToken, resolvePolicy(), () => -1)).toEqual(plus(900));
  });
});

describe('the write budget', () => {
  it('lets a Sirv token (20 minutes) through with the default policy: one write every 14 minutes at worst', () => {
    expect(shortestWriteIntervalSeconds(1200, resolvePolicy())).toBe(840);
    expect(() => assertWriteBudget(1200, resolvePolicy(), 'sirv-prod')).not.toThrow();
  });

  it('rejects a policy that writes more often than every 10 minutes, saying why and what to do', () => {
    const attempt = () => assertWriteBudget(600, resolvePolicy(), 'short-lived');
    expect(attempt).toThrow(InvalidConfigurationError);
    expect(attempt).toThrow(
      /every 420 s .*at most one PutSecretValue per secret every 10 minutes.*allowFrequentWrites: true/s,
    );
  });

  it('accepts the same policy when allowFrequentWrites is set', () => {
    expect(() => assertWriteBudget(600, resolvePolicy({ allowFrequentWrites: true }))).not.toThrow();
  });

  it('rejects a margin as long as the token itself', () => {
    expect(() => assertWriteBudget(120, resolvePolicy({ allowFrequentWrites: true }), 'x')).toThrow(
      /policy\.minMarginSeconds \(120 s\) is not shorter than the token lifetime/,
    );
  });
});

describe('nextAttemptAt', () => {
  const now = ISSUED;
  const wait = (d: Date) => (d.getTime() - now.getTime()) / 1000;

  it('backs off exponentially with equal jitter', () => {
    expect(wait(nextAttemptAt({ failures: 1, now, random: () => 0 }))).toBe(30);
    expect(wait(nextAttemptAt({ failures: 1, now, random: () => 0.999999 }))).toBeCloseTo(60, 0);
    expect(wait(nextAttemptAt({ failures: 3, now, random: () => 0 }))).toBe(120);
    expect(wait(nextAttemptAt({ failures: 4, now, random: () => 0.5 }))).toBe(360);
  });

  it('caps the wait at ten minutes, so recovery after an outage is quick', () => {
    expect(wait(nextAttemptAt({ failures: 40, now, random: () => 0.999999 }))).toBeLessThanOrEqual(600);
    expect(wait(nextAttemptAt({ failures: 40, now, random: () => 0 }))).toBe(300);
    expect(wait(nextAttemptAt({ failures: 40, now, random: () => 0, maxSeconds: 3600 }))).toBe(1800);
  });

  it('never retries before Retry-After', () => {
    expect(wait(nextAttemptAt({ failures: 1, now, retryAfterSeconds: 900, random: () => 0 }))).toBe(900);
    expect(wait(nextAttemptAt({ failures: 4, now, retryAfterSeconds: 10, random: () => 0 }))).toBe(240);
  });
});
