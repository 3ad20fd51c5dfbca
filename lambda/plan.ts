/**
 * Sweep planning: which credentials are due, from their token secrets' metadata alone (the state
 * in the version id, failures in tags). Pure: time is a parameter. The same verdict is given on a
 * listing (a hint, possibly minutes old) and on a described token secret (before any issuer call).
 */
import { blocksUntilClientChanges } from '../core/errors';
import type { CredentialListing } from '../core/store';

/** What planning reads of a credential's listing (core/store's, or a described one). */
export type PlanListing = Pick<
  CredentialListing,
  'name' | 'refreshAfter' | 'failures' | 'lastError' | 'nextAttempt' | 'clientVersion' | 'failedClientVersion'
>;

/**
 * Whether a failure recorded with `lastError` against the client document `failedClientVersion`
 * still blocks the credential whose token secret is tagged `clientVersion`: a permanent failure
 * holds until a known, different client version (new credentials) lifts it. The one rule the plan,
 * the refresh and a container's memory of unrecorded failures judge a block by.
 */
export function blockHolds(
  lastError: string | undefined,
  failedClientVersion: string | undefined,
  clientVersion: string | undefined,
): boolean {
  const changed =
    clientVersion !== undefined && failedClientVersion !== undefined && clientVersion !== failedClientVersion;
  return blocksUntilClientChanges(lastError) && !changed;
}

/** Why a credential is or is not due. */
export type DueReason = 'due' | 'untagged' | 'client-changed' | 'source-recheck' | 'not-due' | 'backoff' | 'blocked';

/** The verdict for one credential. */
export interface DueVerdict {
  due: boolean;
  reason: DueReason;
}

/**
 * Decides whether a credential is due at `now`: its `refreshAfter` falls before the next tick
 * (`now + lookaheadSeconds`), it is not backing off after a transient failure, and it is not
 * blocked by a permanent failure (rejected credentials wait until their client secret changes, or
 * until their next recheck when it is kept in a `clientSecretSource`).
 * A backoff holds whatever the client document: the issuer asked for the pause (Retry-After) or is
 * failing, and new credentials do not change that.
 */
export function dueVerdict(listing: PlanListing, now: Date, lookaheadSeconds: number): DueVerdict {
  if (blocksUntilClientChanges(listing.lastError)) {
    // A client version other than the one that failed means new credentials (no clocks involved).
    if (!blockHolds(listing.lastError, listing.failedClientVersion, listing.clientVersion)) {
      return { due: true, reason: 'client-changed' };
    }
    // A block with a next attempt is a credential whose client secret lives in a source of the
    // user's (clientSecretSource), which can change where no client version shows it: it is
    // looked at again then (the refresh asks the issuer only when the source changed). A next
    // attempt that a throttled UntagResource left on any other block makes it due too; the
    // refresh finds its client secret inline and holds the block, sending nothing.
    const recheck = listing.nextAttempt !== undefined && listing.nextAttempt.getTime() <= now.getTime();
    return recheck ? { due: true, reason: 'source-recheck' } : { due: false, reason: 'blocked' };
  }
  if (listing.nextAttempt && listing.nextAttempt.getTime() > now.getTime()) return { due: false, reason: 'backoff' };
  if (!listing.refreshAfter) return { due: true, reason: 'untagged' };
  const horizon = now.getTime() + lookaheadSeconds * 1000;
  return listing.refreshAfter.getTime() < horizon ? { due: true, reason: 'due' } : { due: false, reason: 'not-due' };
}

/** The outcome of planning one sweep. */
export interface SweepPlan {
  /** Names to refresh, most urgent first. */
  due: string[];
  /** How many were judged, by reason. */
  counts: Record<DueReason, number>;
  /** The due names that are blocked credentials due for a look at their source (`source-recheck`). */
  rechecks: ReadonlySet<string>;
}

/** Plans a sweep over every listed credential; the most urgent (earliest `refreshAfter`) go first. */
export function planSweep(listings: Iterable<PlanListing>, now: Date, lookaheadSeconds: number): SweepPlan {
  const counts: Record<DueReason, number> = {
    due: 0,
    untagged: 0,
    'client-changed': 0,
    'source-recheck': 0,
    'not-due': 0,
    backoff: 0,
    blocked: 0,
  };
  const due: PlanListing[] = [];
  const rechecks = new Set<string>();
  for (const listing of listings) {
    const verdict = dueVerdict(listing, now, lookaheadSeconds);
    counts[verdict.reason] += 1;
    if (verdict.due) due.push(listing);
    if (verdict.reason === 'source-recheck') rechecks.add(listing.name);
  }
  // Ties go by name in code-unit order: the same order on every runtime, whatever its locale,
  // and no collator to build (a cold container's first localeCompare costs ~6 ms of ICU set-up).
  due.sort(
    (a, b) => (a.refreshAfter?.getTime() ?? 0) - (b.refreshAfter?.getTime() ?? 0) || byCodeUnits(a.name, b.name),
  );
  return { due: due.map((l) => l.name), counts, rechecks };
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Splits `items` into chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
