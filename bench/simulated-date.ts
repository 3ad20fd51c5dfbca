/**
 * A process-wide simulated clock for code that has no clock seam (Powertools' parameter cache
 * reads `new Date()` and `Date.now()`): replaces the global `Date` with a subclass whose
 * `Date.now()` and argument-less constructor answer the simulated time. Everything else (parsing,
 * `Date.UTC`, dates built from a value) is the real `Date`. Timers and `performance.now()` are
 * untouched.
 *
 * Caveats, acceptable for a benchmark: `Date()` called without `new` throws while installed (a
 * class cannot be called), and dates made before installing are not `instanceof` the subclass.
 */

/** The controls of an installed simulated clock. */
export interface SimulatedClock {
  /** Simulated epoch milliseconds. */
  nowMs(): number;
  /** The simulated time as a (real) `Date`. */
  now(): Date;
  set(epochMs: number): void;
  /** Puts the real `Date` back. Safe to call twice. */
  restore(): void;
}

/** Installs the simulated clock at `startMs`; call `restore()` in a `finally`. */
export function installSimulatedDate(startMs: number): SimulatedClock {
  const RealDate = globalThis.Date;
  let simulatedMs = startMs;
  class SimulatedDate extends RealDate {
    constructor(...args: unknown[]) {
      super(args.length === 0 ? simulatedMs : (Reflect.construct(RealDate, args) as Date).getTime());
    }

    static override now(): number {
      return simulatedMs;
    }
  }
  globalThis.Date = SimulatedDate as DateConstructor;
  let installed = true;
  return {
    nowMs: () => simulatedMs,
    now: () => new RealDate(simulatedMs),
    set: (epochMs) => {
      simulatedMs = epochMs;
    },
    restore: () => {
      if (!installed) return;
      installed = false;
      globalThis.Date = RealDate;
    },
  };
}
