/**
 * What the demo's run has seen, kept apart from the loop that drives it: rotator failures per
 * credential, the first and last generation of each token, the table rows and the end-of-run
 * summary. Pure: every observation is handed in, nothing here reads a clock or AWS.
 */
import type { CredentialStatus } from '../cli/credential-status';
import type { CredentialSummary } from './demo-summary';
import type { WorkloadCounts } from './sample-workload';
import type { CredentialRow } from './status-view';

/** A token the rotator wrote since the last observation. */
export interface RefreshSeen {
  credential: string;
  generation: number;
  /** Its `expiresAt`, when the status shows one. */
  expiresAt: string | null;
}

// Failures of a whole rotator invocation (not one credential's) are kept under this key.
const WHOLE_INVOCATION = '*';

/**
 * The tally of one demo run.
 *
 * @example
 * ```ts
 * const tally = new RotationTally();
 * tally.sweepFailed([{ credential: 'sirv-demo', code: 'IssuerUnavailable' }]);
 * const refreshed = tally.observe(report.statuses, workload.counts);
 * view.show(tally.rows(), header);
 * ```
 */
export class RotationTally {
  private readonly rotatorErrors = new Map<string, { count: number; last: string }>();
  private readonly firstGeneration = new Map<string, number>();
  private readonly lastGeneration = new Map<string, number>();
  private readonly rowsByName = new Map<string, CredentialRow>();

  /** Counts the failures one sweep reported, per credential. */
  sweepFailed(failures: readonly { credential: string; code: string }[]): void {
    for (const { credential, code } of failures) this.countFailure(credential, code);
  }

  /** Counts a rotator invocation that failed as a whole (it threw): every credential's problem. */
  invocationFailed(code: string): void {
    this.countFailure(WHOLE_INVOCATION, code);
  }

  /**
   * Takes in a status report and the workload's counts: updates the rows and returns the
   * credentials whose generation went up since the last observation.
   */
  observe(statuses: readonly CredentialStatus[], counts: ReadonlyMap<string, WorkloadCounts>): RefreshSeen[] {
    const refreshed: RefreshSeen[] = [];
    for (const status of statuses) {
      const name = status.credential;
      const generation = status.generation;
      if (generation !== null) {
        if (!this.firstGeneration.has(name)) this.firstGeneration.set(name, generation);
        const previous = this.lastGeneration.get(name);
        if (previous !== undefined && generation > previous) {
          refreshed.push({ credential: name, generation, expiresAt: status.expiresAt });
        }
        // A status read from an older replica must not move the count back.
        this.lastGeneration.set(name, Math.max(previous ?? generation, generation));
      }
      const last = this.lastGeneration.get(name);
      const workload = counts.get(name);
      this.rowsByName.set(name, {
        credential: name,
        issuer: status.issuer,
        generation: last ?? null,
        expiresAt: status.expiresAt,
        refreshAfter: status.refreshAfter,
        refreshes: (last ?? 0) - (this.firstGeneration.get(name) ?? last ?? 0),
        reads: workload?.reads ?? 0,
        lastError: status.lastError ?? this.rotatorErrors.get(name)?.last ?? workload?.lastError ?? null,
      });
    }
    return refreshed;
  }

  /** The table rows, in the order credentials were first seen. */
  rows(): CredentialRow[] {
    return [...this.rowsByName.values()];
  }

  /**
   * The summary line of each of `names`. A failed invocation is every credential's problem; it
   * is counted once, on the first.
   */
  summaries(names: readonly string[], counts: ReadonlyMap<string, WorkloadCounts>): CredentialSummary[] {
    const wholeInvocation = this.rotatorErrors.get(WHOLE_INVOCATION)?.count ?? 0;
    return names.map((name, i) => {
      const row = this.rowsByName.get(name);
      const workload = counts.get(name);
      return {
        credential: name,
        issuer: row?.issuer ?? null,
        refreshes: row?.refreshes ?? 0,
        generation: row?.generation ?? null,
        reads: workload?.reads ?? 0,
        expiredReads: workload?.expiredReads ?? 0,
        errors: (workload?.errors ?? 0) + (this.rotatorErrors.get(name)?.count ?? 0) + (i === 0 ? wholeInvocation : 0),
      };
    });
  }

  private countFailure(key: string, code: string): void {
    const seen = this.rotatorErrors.get(key) ?? { count: 0, last: '' };
    this.rotatorErrors.set(key, { count: seen.count + 1, last: code });
  }
}
