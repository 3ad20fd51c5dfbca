import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidConfigurationError } from '../../core/errors';
import {
  assertWriteBudget,
  computeRefreshAfter,
  nextAttemptAt,
  resolvePolicy,
  shortestWriteIntervalSeconds,
} from '../../core/policy';
import { dueVerdict } from '../../lambda/plan';

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
  it('lets a Sirv token (20 minutes) through with the default policy: one write every 13 minutes at worst', () => {
    // 1200 s × (0.75 − 0.05) = 840 s, less one schedule interval (60 s) of sweep lookahead.
    expect(shortestWriteIntervalSeconds(1200, resolvePolicy())).toBe(780);
    expect(() => assertWriteBudget(1200, resolvePolicy(), 'sirv-prod')).not.toThrow();
  });

  it('rejects a policy that writes more often than every 10 minutes, saying why and what to do', () => {
    const attempt = () => assertWriteBudget(600, resolvePolicy(), 'short-lived');
    expect(attempt).toThrow(InvalidConfigurationError);
    expect(attempt).toThrow(
      /every 360 s .*at most one PutSecretValue per secret every 10 minutes.*allowFrequentWrites: true/s,
    );
  });

  it('accepts the same policy when allowFrequentWrites is set', () => {
    expect(() => assertWriteBudget(600, resolvePolicy({ allowFrequentWrites: true }))).not.toThrow();
  });

  it('is never longer than the interval the sweep really leaves between two writes (planner, jitter, tick phase)', () => {
    // Simulates the rotator: ticks every scheduleIntervalSeconds from an arbitrary phase; a token
    // written at one tick is refreshed at the first later tick whose plan calls it due.
    fc.assert(
      fc.property(
        fc.integer({ min: 300, max: 7 * 86_400 }),
        fc.double({ min: 0.05, max: 0.95, noNaN: true }),
        fc.double({ min: 0, max: 0.25, noNaN: true }),
        fc.integer({ min: 60, max: 3_600 }),
        fc.option(fc.integer({ min: 0, max: 7_200 }), { nil: undefined }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        fc.integer({ min: 0, max: 3_599 }),
        (lifetime, refreshFraction, jitterFraction, scheduleIntervalSeconds, minMarginSeconds, random, phase) => {
          fc.pre(refreshFraction > jitterFraction && (minMarginSeconds ?? 2 * scheduleIntervalSeconds) < lifetime);
          const policy = resolvePolicy({ refreshFraction, jitterFraction, scheduleIntervalSeconds, minMarginSeconds });
          const tick = (k: number) => new Date(ISSUED.getTime() + (phase + k * scheduleIntervalSeconds) * 1000);
          const written = tick(0);
          const token = { issuedAt: written, expiresAt: new Date(written.getTime() + lifetime * 1000) };
          const refreshAfter = computeRefreshAfter(token, policy, () => random);
          let k = 1;
          while (!dueVerdict({ name: 'c', failures: 0, refreshAfter }, tick(k), scheduleIntervalSeconds).due) k += 1;
          const interval = (tick(k).getTime() - written.getTime()) / 1000;
          expect(interval).toBeGreaterThanOrEqual(shortestWriteIntervalSeconds(lifetime, policy));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses a 15-minute token with the default policy: the sweep would write it every 9.5 minutes', () => {
    // 900 s × 0.70 = 630 s, but the sweep picks it up to one 60 s tick early: 570 s.
    expect(shortestWriteIntervalSeconds(900, resolvePolicy())).toBe(570);
    expect(() => assertWriteBudget(900, resolvePolicy(), 'quarter-hour')).toThrow(/every 570 s/);
  });

  it('accepts 943 s as the shortest lifetime under the default policy, as README states, and refuses 942 s', () => {
    // (600 s + 60 s) ÷ 0.7 = 942.86 s.
    expect(() => assertWriteBudget(943, resolvePolicy(), 'shortest')).not.toThrow();
    expect(() => assertWriteBudget(942, resolvePolicy(), 'shortest')).toThrow(/every 599 s/);
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
