/**
 * The rotator's own code run in this process, with the caller's AWS credentials and the
 * context's seams: {@link rotatorDeps} builds what lambda's `refreshMany` and `sweep` need, the
 * way the Lambda handler builds it; {@link refreshInProcess} is `refresh` without `--function`,
 * one credential at a time per slot so that progress is reported as each one finishes.
 */

import pLimit from 'p-limit';
import { unexpectedError } from '../core/errors';
import { POLICY_DEFAULTS } from '../core/policy';
import type { Deferred, RefreshResult } from '../core/rotator-protocol';
import type { CredentialListing } from '../core/store';
import { ClientDocumentCache } from '../lambda/client-cache';
import { refreshMany, type SweepDeps } from '../lambda/sweep';
import { createWriteLimiter } from '../lambda/write-limiter';
import type { CliContext } from './context';
import { outcomeOf, type RefreshOutcome } from './refresh-outcome';

/**
 * How far ahead "due" looks for `refresh`, in seconds: one tick of the rotator's default
 * schedule, so that the CLI refreshes exactly what the next sweep would.
 */
export const LOOKAHEAD_SECONDS = POLICY_DEFAULTS.scheduleIntervalSeconds;

/** What {@link rotatorDeps} is told besides the context. */
export interface RotatorDepsOptions {
  /** How many refreshes (issuer requests) are in flight at once. */
  concurrency: number;
  /**
   * Secrets Manager writes (PutSecretValue, TagResource, UntagResource) per second, paced as the
   * rotator paces its own: the account's write quota (about 50/s) is shared with the running rotator.
   */
  writesPerSecond: number;
  /** How far ahead "due" looks: one schedule interval. */
  lookaheadSeconds: number;
}

/**
 * The dependencies of lambda's sweep and refreshes in this process: the context's store, clock,
 * randomness and `fetch`; every credential refreshed here (no fan-out: no Lambda to hand batches
 * to); Ctrl-C (the context's signal) in place of Lambda's time budget, so once interrupted nothing
 * new starts; writes paced by the rotator's write limiter, whose waits are not cut short by
 * Ctrl-C (a refresh already started still writes at the pace).
 */
export function rotatorDeps(context: CliContext, options: RotatorDepsOptions): SweepDeps {
  const store = context.store();
  const sleep = (ms: number) => context.sleep(ms);
  return {
    secretsManager: store.client,
    prefix: store.prefix,
    fetch: context.fetch,
    now: context.now,
    random: context.random,
    lookaheadSeconds: options.lookaheadSeconds,
    concurrency: options.concurrency,
    batchSize: Number.MAX_SAFE_INTEGER,
    remainingMs: () => (context.signal?.aborted ? 0 : Number.MAX_SAFE_INTEGER),
    reserveMs: 1,
    clientCache: new ClientDocumentCache(),
    writesPerSecond: options.writesPerSecond,
    sleep,
    writeLimiter: createWriteLimiter({ perSecond: options.writesPerSecond, now: context.now, sleep }),
  };
}

/** Options of {@link refreshInProcess}. */
export interface InProcessOptions extends Omit<RotatorDepsOptions, 'lookaheadSeconds'> {
  /** Refresh even when the token is not due. */
  force: boolean;
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
  // One write limiter for every slot: --concurrency bounds the refreshes in flight, it their
  // writes. Each slot runs one refresh at a time, so that its outcome is reported when it ends.
  const deps: SweepDeps = {
    ...rotatorDeps(context, { ...options, lookaheadSeconds: LOOKAHEAD_SECONDS }),
    concurrency: 1,
  };
  const listings = options.listings ? new Map(options.listings) : undefined;
  const limit = pLimit(options.concurrency);
  await Promise.all(
    names.map((name) =>
      limit(async () => {
        let result: RefreshResult | Deferred;
        try {
          // In this process --force is the operator's own deliberate act: past the floor, a backoff
          // and a block alike. Through --function the rotator keeps them (it trusts no invoker).
          const [first] = await refreshMany([name], deps, {
            force: options.force,
            overrideFloor: options.force,
            listings,
          });
          result = first ?? { credential: name, deferred: true };
        } catch (e) {
          // refreshMany isolates failures; anything left is a bug, reported by kind only.
          const { code, message, transient } = unexpectedError(e, name);
          result = { credential: name, ok: false, error: { code, message, transient } };
        }
        onOutcome(outcomeOf(result, 'interrupted', listings?.get(name)));
      }),
    ),
  );
}
