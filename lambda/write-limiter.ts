/**
 * The rotator's own pace for Secrets Manager writes. PutSecretValue, TagResource and
 * UntagResource share one account-wide quota (about 50 requests per second per region), so a
 * sweep of many due credentials spaces its writes at its share of a configured rate instead of
 * storming into throttling and retrying. Time and sleep are seams, so tests run it on a
 * simulated clock.
 */

/** Hands out write slots at a fixed rate. */
export interface WriteLimiter {
  /** Resolves when `writes` calls may be sent (each takes one slot, 1 ÷ rate seconds apart). */
  acquire(writes?: number): Promise<void>;
  /** The rate this limiter paces at, in writes per second. */
  readonly perSecond: number;
}

/** Options of {@link createWriteLimiter}. */
export interface WriteLimiterOptions {
  /** Writes per second, > 0. */
  perSecond: number;
  now: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A limiter that never lets more than `perSecond` writes start in any second: each slot is
 * `1000 ÷ perSecond` ms after the previous one, and no burst is saved up while idle.
 *
 * @example
 * ```ts
 * const limiter = createWriteLimiter({ perSecond: 40, now: () => new Date() });
 * await limiter.acquire();
 * await client.send(new PutSecretValueCommand(...));
 * ```
 */
export function createWriteLimiter(options: WriteLimiterOptions): WriteLimiter {
  if (!(options.perSecond > 0) || !Number.isFinite(options.perSecond)) {
    throw new RangeError('write limiter: perSecond must be a positive number');
  }
  const interval = 1000 / options.perSecond;
  const sleep = options.sleep ?? realSleep;
  // The time of the last slot handed out; slots are reserved synchronously, so concurrent
  // callers queue up without a lock.
  let last = Number.NEGATIVE_INFINITY;
  return {
    perSecond: options.perSecond,
    async acquire(writes = 1) {
      const now = options.now().getTime();
      let slot = now;
      for (let i = 0; i < writes; i++) {
        slot = Math.max(now, last + interval);
        last = slot;
      }
      if (slot > now) await sleep(slot - now);
    },
  };
}
