/**
 * A simulated clock for benchmarks whose work is all in memory: `sleep` registers a timer, and
 * `run` moves the clock to the earliest timer whenever the process has nothing else to do
 * (checked by letting the event loop turn a few times). Hours of pacing then take seconds.
 */

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

/** Event-loop turns without progress after which the simulation counts as idle. */
const IDLE_TURNS = 8;

function isPendingWork(resource: string): boolean {
  return resource.startsWith('FSReq') || resource === 'Immediate' || resource === 'MessagePort';
}

/** A simulated clock: `now`, `sleep`, and `run` that drives both. */
export class VirtualTime {
  #now: number;
  #seq = 0;
  readonly #timers: Timer[] = [];

  constructor(start: Date) {
    this.#now = start.getTime();
  }

  /** The simulated time. */
  now = (): Date => new Date(this.#now);

  /** Resolves once the simulated clock has moved `ms` on. */
  sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      this.#timers.push({ at: this.#now + Math.max(0, ms), seq: this.#seq++, resolve });
    });

  /**
   * Runs `work` to completion, advancing the clock to the next timer each time everything is
   * waiting. Throws when nothing is left to wait for but `work` has not finished (a deadlock),
   * or when the clock passes `limitMs` of simulated time.
   */
  async run<T>(work: Promise<T>, limitMs: number): Promise<T> {
    const start = this.#now;
    let settled = false;
    const guarded = work.finally(() => {
      settled = true;
    });
    while (!settled) {
      for (let i = 0; i < IDLE_TURNS && !settled; i++) await new Promise((resolve) => setImmediate(resolve));
      // Real I/O in flight (a module loaded on first use, through tsx's loader thread; a file read)
      // is work, not idleness: wait for it in real time before moving the simulated clock.
      while (!settled && process.getActiveResourcesInfo().some(isPendingWork)) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        for (let i = 0; i < IDLE_TURNS && !settled; i++) await new Promise((resolve) => setImmediate(resolve));
      }
      if (settled) break;
      this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#timers.shift();
      if (!next) throw new Error('virtual time: the work waits for nothing the simulation can advance');
      this.#now = Math.max(this.#now, next.at);
      if (this.#now - start > limitMs) throw new Error(`virtual time: past the limit of ${limitMs} ms`);
      next.resolve();
    }
    return guarded;
  }
}
