/**
 * The demo's one clock: the issuer fakes, the rotator and the workload all read it (through their
 * `now` seams), so a token's life is measured the same way by whoever issues, refreshes or reads it.
 *
 * It starts at real time and runs at real speed, because the first tokens are issued during
 * `pulumi up` by the dynamic provider process, which reads the real clock: while the clock is
 * real, the fakes (which use this clock) and the provider agree on `iat`/`exp`. Only once the
 * stack is up is it accelerated, from the instant it then shows, so simulated time never jumps
 * and the first tokens' expiry math stays consistent with everything that follows.
 */

/** A clock that shows real time until {@link SimulatedClock.accelerate}, then runs `speed` times faster. */
export class SimulatedClock {
  private anchorRealMs: number;
  private anchorSimMs: number;
  private rate = 1;

  /** @param realNowMs the real clock, in epoch ms (monotonic by default, so wall-clock jumps do not leak in). */
  constructor(private readonly realNowMs: () => number = () => performance.timeOrigin + performance.now()) {
    this.anchorRealMs = realNowMs();
    this.anchorSimMs = this.anchorRealMs;
  }

  /** Simulated epoch ms now. */
  nowMs(): number {
    return this.anchorSimMs + (this.realNowMs() - this.anchorRealMs) * this.rate;
  }

  /** Simulated time now; pass this as the `now` seam (it is bound). */
  readonly now = (): Date => new Date(this.nowMs());

  /** Simulated seconds per real second. */
  get speed(): number {
    return this.rate;
  }

  /** From now on, runs `speed` times faster than real time, continuing from the current instant. */
  accelerate(speed: number): void {
    const simNow = this.nowMs();
    this.anchorRealMs = this.realNowMs();
    this.anchorSimMs = simNow;
    this.rate = speed;
  }

  /** Real milliseconds that `simulatedMs` of simulated time take at the current speed. */
  realMsFor(simulatedMs: number): number {
    return simulatedMs / this.rate;
  }
}
