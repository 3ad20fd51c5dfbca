import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createWriteLimiter } from '../../../lambda/write-limiter';

/** A clock that only moves when somebody sleeps (each sleep is granted at once). */
function steppingClock() {
  let ms = Date.parse('2026-11-22T12:00:00.000Z');
  return {
    now: () => new Date(ms),
    sleep: async (wait: number) => {
      ms += wait;
    },
    elapsed: (start: number) => ms - start,
  };
}

describe('createWriteLimiter', () => {
  it('spaces writes 1 ÷ rate apart, so no second ever sees more than the rate', async () => {
    const clock = steppingClock();
    const limiter = createWriteLimiter({ perSecond: 40, now: clock.now, sleep: clock.sleep });
    const started: number[] = [];
    for (let i = 0; i < 100; i++) {
      await limiter.acquire();
      started.push(clock.now().getTime());
    }
    for (let i = 1; i < started.length; i++) expect((started[i] ?? 0) - (started[i - 1] ?? 0)).toBe(25);
  });

  it('keeps any one-second window at or below the rate for any mix of acquisitions (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 60 }),
        async (perSecond, sizes) => {
          const clock = steppingClock();
          const limiter = createWriteLimiter({ perSecond, now: clock.now, sleep: clock.sleep });
          const writes: number[] = [];
          for (const n of sizes) {
            await limiter.acquire(n);
            for (let i = 0; i < n; i++) writes.push(clock.now().getTime());
          }
          for (const t of writes) {
            // The last slot of an acquire(n) is where its n writes go: at most n − 1 extra in a window.
            expect(writes.filter((w) => w >= t && w < t + 1000).length).toBeLessThanOrEqual(perSecond + 3);
          }
        },
      ),
    );
  });

  it('refuses a rate that is not a positive number', () => {
    const now = () => new Date();
    expect(() => createWriteLimiter({ perSecond: 0, now })).toThrow(RangeError);
    expect(() => createWriteLimiter({ perSecond: Number.NaN, now })).toThrow(RangeError);
  });
});
