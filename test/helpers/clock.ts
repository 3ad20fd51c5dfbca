/**
 * The tests' frozen clock: time stands still until the test moves it, so every computed time
 * (due dates, expiries, cache ages) is exact.
 */

/** Where test clocks start unless told otherwise. */
export const TEST_EPOCH = new Date('2026-11-22T12:00:00.000Z');

/** A clock frozen at `start`. */
export interface FrozenClock {
  /** The clock's time; a new Date each call. Pass it as a `now` seam. */
  now: () => Date;
  /** Moves the clock forward by `seconds`. */
  advance: (seconds: number) => void;
  /** Puts the clock at `offsetSeconds` after `start`. */
  set: (offsetSeconds: number) => void;
}

/**
 * A clock frozen at `start` (a Date or epoch milliseconds), moved only by `advance` and `set`.
 *
 * @example
 * ```ts
 * const clock = frozenClock();
 * const reader = new TokenReader({ client, now: clock.now });
 * clock.advance(60);
 * ```
 */
export function frozenClock(start: Date | number = TEST_EPOCH): FrozenClock {
  const startMs = typeof start === 'number' ? start : start.getTime();
  let ms = startMs;
  return {
    now: () => new Date(ms),
    advance: (seconds) => {
      ms += seconds * 1000;
    },
    set: (offsetSeconds) => {
      ms = startMs + offsetSeconds * 1000;
    },
  };
}

/** The time `offsetSeconds` after `from`. */
export const at = (offsetSeconds: number, from: Date | number = TEST_EPOCH): Date =>
  new Date((typeof from === 'number' ? from : from.getTime()) + offsetSeconds * 1000);
