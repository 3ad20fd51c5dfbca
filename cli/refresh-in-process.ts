/**
 * `refresh` in this process: lambda's own `refreshMany` (the same store and issuer code as the
 * rotator) with the caller's AWS credentials and the context's seams, one credential at a time
 * per slot so that progress is reported as each one finishes.
 */

import pLimit from 'p-limit';
import { unexpectedError } from '../core/errors';
import type { Deferred, RefreshResult } from '../core/rotator-protocol';
import type { CredentialListing } from '../core/store';
import { refreshMany, type SweepDeps } from '../lambda/sweep';
import { createWriteLimiter } from '../lambda/write-limiter';
import type { CliContext } from './context';
import { outcomeOf, type RefreshOutcome } from './refresh-outcome';

/**
 * How far ahead "due" looks, in seconds: one tick of the rotator's default schedule, so that the
 * CLI refreshes exactly what the next sweep would.
 */
export const LOOKAHEAD_SECONDS = 60;

/** Options of {@link refreshInProcess}. */
export interface InProcessOptions {
  /** Refresh even when the token is not due. */
  force: boolean;
  /** How many credentials are refreshed at once. */
  concurrency: number;
  /**
   * Secrets Manager writes (PutSecretValue, TagResource, UntagResource) per second, paced as the
   * rotator paces its own: the account's write quota (about 50/s) is shared with the running rotator.
   */
  writesPerSecond: number;
  /** The credentials' listings (failure counts carry over into the failure tags). */
  listings?: ReadonlyMap<string, CredentialListing> | undefined;
}

/**
 * Refreshes `names` here and reports each outcome to `onOutcome` as it arrives. After Ctrl-C
 * (the context's signal) no new refresh starts: the rest are reported as deferred.
 */
export async function refreshInProcess(
  context: CliContext,
  names: readonly string[],
  options: InProcessOptions,
  onOutcome: (outcome: RefreshOutcome) => void,
): Promise<void> {
  const store = context.store();
  // One limiter for every slot: --concurrency bounds the refreshes in flight, this their writes.
  // Its waits are not cut short by Ctrl-C: a refresh already started still writes at the pace.
  const writeLimiter = createWriteLimiter({
    perSecond: options.writesPerSecond,
    now: context.now,
    sleep: (ms) => context.sleep(ms),
  });
  const deps: SweepDeps = {
    secretsManager: store.client,
    prefix: store.prefix,
    fetch: context.fetch,
    now: context.now,
    random: context.random,
    lookaheadSeconds: LOOKAHEAD_SECONDS,
    concurrency: 1,
    batchSize: Math.max(1, names.length),
    // Lambda's time budget becomes the interrupt: once aborted, refreshMany starts nothing more.
    remainingMs: () => (context.signal?.aborted ? 0 : Number.MAX_SAFE_INTEGER),
    reserveMs: 1,
    writeLimiter,
  };
  const listings = options.listings ? new Map(options.listings) : undefined;
  const limit = pLimit(options.concurrency);
  await Promise.all(
    names.map((name) =>
      limit(async () => {
        let result: RefreshResult | Deferred;
        try {
          const [first] = await refreshMany([name], deps, { force: options.force, listings });
          result = first ?? { credential: name, deferred: true };
        } catch (e) {
          // refreshMany isolates failures; anything left is a bug, reported by kind only.
          const { code, message, transient } = unexpectedError(e, name);
          result = { credential: name, ok: false, error: { code, message, transient } };
        }
        onOutcome(outcomeOf(result));
      }),
    ),
  );
}
