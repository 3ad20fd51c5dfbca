/**
 * The scheduled sweep and targeted refreshes: list token secrets (a hint of what may be due, up to
 * five minutes old on AWS), refresh what is due with bounded concurrency (each refresh describes
 * its token secret before asking an issuer), stop starting work when the invocation runs short,
 * fan out past a batch size.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import pLimit from 'p-limit';
import { blocksUntilClientChanges } from '../core/errors';
import type { Deferred, RefreshResult } from '../core/rotator-protocol';
import * as store from '../core/store';
import { secondsToExpiry } from '../core/token';
import { type BatchEventOptions, batchEvents } from './batch-events';
import { type BatchReadRefusal, prefetchClientSecrets } from './client-prefetch';
import { chunk, planSweep, type SweepPlan } from './plan';
import type { RefreshDeps, RefreshOptions } from './refresh';
import { createWriteLimiter } from './write-limiter';

/** The part of a schedule interval a tick's writes are planned into. */
const INTERVAL_SHARE = 0.9;

/** A listing as the store reads it (with the token's `expiresAt`). */
type StoreListing = store.CredentialListing;

/** Everything a sweep needs: refresh dependencies plus the invocation's limits. */
export interface SweepDeps extends RefreshDeps {
  concurrency: number;
  batchSize: number;
  /** Milliseconds left in this invocation (Lambda's `getRemainingTimeInMillis`). */
  remainingMs: () => number;
  /** Stop starting refreshes when less than this remains. */
  reserveMs: number;
  /**
   * For fan-out: a Lambda client (or what creates it on the first fan-out, so a sweep that does
   * not fan out never loads the Lambda SDK) and this function's name or ARN.
   */
  lambda?: LambdaClient | (() => Promise<LambdaClient>) | undefined;
  functionName?: string | undefined;
  /**
   * Secrets Manager writes per second for this sweep and its fan-out together. A sweep hands
   * out at most one schedule interval's worth of writes (the rest stay due for the next tick)
   * and gives each batch its share, so no two ticks' batches and no two batches add up past it.
   * Unset: no pacing (a caller that paces itself, or a test).
   */
  writesPerSecond?: number | undefined;
  /** The sleep seam of the write pacing. */
  sleep?: ((ms: number) => Promise<void>) | undefined;
  /** The most bytes of one fan-out event (default MAX_BATCH_PAYLOAD_BYTES); a larger batch goes out as several. */
  batchEventBytes?: number | undefined;
  /**
   * Told of each BatchGetSecretValue of client documents that failed as a whole (throttled, or a
   * policy without secretsmanager:BatchGetSecretValue): its credentials are read one by one.
   */
  onBatchReadRefused?: ((refusal: BatchReadRefusal) => void) | undefined;
}

/** What one sweep did. */
export interface SweepSummary {
  /** Credentials listed under the prefix. */
  listed: number;
  plan: SweepPlan['counts'];
  /** Credentials due in this sweep. */
  due: number;
  refreshed: number;
  /** Refreshes that failed in this sweep (`rejected` of them permanently: blocked from now on). */
  failed: number;
  rejected: number;
  /** Due when listed, but not when described: refreshed by someone else, backing off, or written too recently to force. */
  skipped: number;
  /**
   * Due (a look at a blocked credential's source, or a block the listing did not show yet), but
   * found still blocked: nothing could change the issuer's answer, so it was not asked.
   */
  held: number;
  /**
   * Blocked by an earlier rejection and not sent to the issuer in this run: not due (`plan.blocked`),
   * `held`, or a look at its source left to the next sweep. With `rejected`, what the
   * CredentialsRejected metric counts, so its alarm stays on while a credential is blocked.
   */
  blocked: number;
  /** Due, but left to the next sweep (or not started because the run was interrupted). */
  deferred: number;
  /** Credentials handed to other invocations. */
  fannedOut: number;
  /** Refreshed tokens whose real lifetime breaks the write budget (stored anyway). */
  writeBudgetBreached: number;
  /** Minimum seconds to expiry over every listed credential (from tags), when any is known. */
  minSecondsToExpiry?: number | undefined;
  results: (RefreshResult | Deferred)[];
}

/** Reads every credential's listing from tags; no secret value is read. */
export async function listAll(deps: Pick<RefreshDeps, 'secretsManager' | 'prefix'>): Promise<StoreListing[]> {
  const listings: StoreListing[] = [];
  for await (const entry of store.listCredentials({ client: deps.secretsManager, prefix: deps.prefix })) {
    listings.push(entry);
  }
  return listings;
}

/**
 * One scheduled sweep: plan from tags, fan out every batch beyond the first to asynchronous
 * invocations of this function, refresh the first batch here.
 */
export async function sweep(deps: SweepDeps): Promise<SweepSummary> {
  const now = deps.now();
  // What this container wrote or failed in the last minutes, on top of a listing that may not show it yet.
  const listings = (await listAll(deps)).map((l) => deps.memory?.overlay(l, now) ?? l);
  const plan = planSweep(listings, now, deps.lookaheadSeconds);
  const byName = new Map(listings.map((l) => [l.name, l]));
  // One refresh is one write in steady state: 90 % of one interval at the write rate is what this
  // tick hands out, so its batches are done (start-up and listing included) before the next tick lists.
  const capacity =
    deps.writesPerSecond === undefined
      ? plan.due.length
      : Math.max(1, Math.floor(deps.writesPerSecond * deps.lookaheadSeconds * INTERVAL_SHARE));
  const taken = plan.due.slice(0, capacity);
  const overBudget: Deferred[] = plan.due.slice(capacity).map((credential) => ({ credential, deferred: true }));
  const share = (size: number) =>
    deps.writesPerSecond === undefined || size === 0 ? undefined : (deps.writesPerSecond * size) / taken.length;
  const [local = [], ...remote] = chunk(taken, deps.batchSize);
  const handedOff = remote.length > 0 ? await fanOut(remote, deps, { share, maxBytes: deps.batchEventBytes }) : [];
  const handed = new Set(handedOff);
  // Batches no invocation took (no function to call, or the invoke failed) stay due for the next
  // tick; they are reported as deferred so the summary and logs show them.
  const notHanded: Deferred[] = remote
    .flat()
    .filter((n) => !handed.has(n))
    .map((credential) => ({ credential, deferred: true }));
  const localRate = share(local.length);
  const writeLimiter =
    localRate === undefined
      ? deps.writeLimiter
      : createWriteLimiter({ perSecond: localRate, now: deps.now, sleep: deps.sleep });
  // Work this tick starts after its share of the interval would overlap the next tick, which
  // lists the same credentials as still due: what is not started by then is left to it (each
  // refresh describes first, so a late one writes nothing twice, but two in flight at once could).
  // Counted from here, after the listing and the hand-offs: the next tick's listing ends about one
  // interval later.
  const startBefore = new Date(deps.now().getTime() + INTERVAL_SHARE * deps.lookaheadSeconds * 1000);
  const results = [
    ...(await refreshMany(local, { ...deps, writeLimiter }, { listings: byName, startBefore })),
    ...notHanded,
    ...overBudget,
  ];
  return summarize(listings.length, plan, results, handedOff.length, expiriesAfter(listings, results, handedOff, deps));
}

/**
 * Seconds to expiry of every listed credential as it stands after this sweep: the new token's
 * for those refreshed here, the listed one (from tags) for the rest. Credentials handed to other
 * invocations are left to them, which report their own: counting the token they are about to
 * replace would report a near expiry that never happens (and trip the alarm).
 */
function expiriesAfter(
  listings: readonly StoreListing[],
  results: readonly (RefreshResult | Deferred)[],
  handedOff: readonly string[],
  deps: Pick<SweepDeps, 'now'>,
): number[] {
  const seconds = new Map<string, number>();
  const now = deps.now();
  for (const l of listings) {
    if (l.expiresAt) seconds.set(l.name, secondsToExpiry({ expiresAt: l.expiresAt }, now));
  }
  for (const name of handedOff) seconds.delete(name);
  for (const r of results) {
    if ('secondsToExpiry' in r && typeof r.secondsToExpiry === 'number') seconds.set(r.credential, r.secondsToExpiry);
  }
  return [...seconds.values()];
}

/**
 * Refreshes the named credentials with bounded concurrency, each isolated from the others'
 * failures; credentials not started before the reserve is reached are returned as deferred.
 */
export async function refreshMany(
  names: readonly string[],
  deps: SweepDeps,
  options: RefreshOptions & {
    /**
     * What a listing showed of these credentials, when there was one: which client documents to
     * read ahead in batches. A hint only; every refresh describes its token secret.
     */
    listings?: ReadonlyMap<string, Pick<StoreListing, 'clientVersion'>>;
    /** A refresh not started by then is deferred (left to the next tick); the time limit applies too. */
    startBefore?: Date | undefined;
  } = {},
): Promise<(RefreshResult | Deferred)[]> {
  if (names.length === 0) return [];
  // `concurrency` bounds the issuer requests in flight; a refresh waiting for Secrets Manager
  // gives its issuer slot to the next one, so the issuer, not the store, sets the pace.
  const issuerLimit = pLimit(deps.concurrency);
  const limit = pLimit(deps.concurrency * 2);
  // The client documents this container has not cached at the listed version (a cold start, or
  // changed since) are read ahead in batches of 20. A credential without a listing may find its
  // document cached once described: it reads alone, after that. A lone read gains nothing from a
  // batch and keeps the single read.
  const uncached = names.filter((name) => {
    const listing = options.listings?.get(name);
    return listing !== undefined && !deps.clientCache?.get(name, listing.clientVersion);
  });
  const clientPrefetch =
    uncached.length > 1
      ? prefetchClientSecrets({ client: deps.secretsManager, prefix: deps.prefix }, uncached, {
          onRefused: deps.onBatchReadRefused,
        })
      : undefined;
  try {
    // Loaded by the first refresh, not at cold start (a chunk of its own in the Lambda bundle): an
    // idle sweep refreshes nothing. Loaded once the batch reads are sent, so that a cold
    // container loads it while they are in flight, not before sending them.
    const { refreshCredential } = await import('./refresh.js');
    const refreshDeps = { ...deps, issuerLimit, clientPrefetch };
    return await Promise.all(
      names.map((name) =>
        limit(async (): Promise<RefreshResult | Deferred> => {
          if (deps.remainingMs() < deps.reserveMs) return { credential: name, deferred: true };
          if (options.startBefore !== undefined && deps.now().getTime() >= options.startBefore.getTime()) {
            return { credential: name, deferred: true };
          }
          try {
            return await refreshCredential(name, refreshDeps, {
              force: options.force,
              overrideFloor: options.overrideFloor,
            });
          } catch (e) {
            // refreshCredential reports its failures as results; should one escape anyway, it is
            // this credential's failure, never the sweep's.
            return internalFailure(name, e);
          }
        }),
      ),
    );
  } finally {
    // Deferred refreshes take nothing: their batches, if not yet sent, never are.
    clientPrefetch?.stop();
  }
}

function internalFailure(name: string, e: unknown): RefreshResult {
  const kind = e instanceof Error ? e.name : typeof e;
  return {
    credential: name,
    ok: false,
    error: {
      code: 'InternalError',
      message: `Credential "${name}": refresh failed unexpectedly (${kind}).`,
      transient: true,
    },
  };
}

/**
 * Hands each batch to an asynchronous invocation of this function, by name; returns the names
 * handed off. Lambda may deliver an event twice or late: its refreshes describe first, so a
 * repeat finds the tokens refreshed and writes nothing.
 */
async function fanOut(batches: string[][], deps: SweepDeps, context: BatchEventOptions): Promise<string[]> {
  if (!deps.lambda || !deps.functionName) return [];
  // The Lambda SDK is a chunk of its own in the bundle: only a sweep that fans out loads it.
  const { InvokeCommand } = await import('../core/lambda-sdk.js');
  const lambda = typeof deps.lambda === 'function' ? await deps.lambda() : deps.lambda;
  const functionName = deps.functionName;
  // A batch whose names would make too large an event goes out as several.
  const events = batches.flatMap((names) => batchEvents(names, context));
  // Each event is its own asynchronous invocation; a failed hand-off leaves those credentials due
  // for the next tick, so it is counted, not thrown.
  const outcomes = await Promise.allSettled(
    events.map((event) =>
      lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: event.payload })),
    ),
  );
  return outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? (events[i]?.credentials ?? []) : []));
}

/**
 * What a sweep reports to whoever ran it: the rotator's "Sweep finished" log line and the CLI's
 * `sweep` report carry exactly these fields, so an operator reads the same counts from either.
 */
export interface SweepCounts
  extends Pick<
    SweepSummary,
    | 'listed'
    | 'due'
    | 'refreshed'
    | 'failed'
    | 'rejected'
    | 'skipped'
    | 'held'
    | 'deferred'
    | 'blocked'
    | 'writeBudgetBreached'
  > {
  /** Not taken up: backing off after a transient failure. */
  backingOff: number;
  /** The least time left on any listed token after this sweep, in whole seconds, when any is known. */
  minSecondsToExpiry: number | undefined;
}

/** The reported counts of `summary`, in the order both reports print them. */
export function sweepCounts(summary: SweepSummary): SweepCounts {
  return {
    listed: summary.listed,
    due: summary.due,
    refreshed: summary.refreshed,
    failed: summary.failed,
    rejected: summary.rejected,
    skipped: summary.skipped,
    held: summary.held,
    deferred: summary.deferred,
    blocked: summary.blocked,
    backingOff: summary.plan.backoff,
    writeBudgetBreached: summary.writeBudgetBreached,
    minSecondsToExpiry: summary.minSecondsToExpiry,
  };
}

/** Counts a sweep's or batch's results. */
export function summarize(
  listed: number,
  plan: SweepPlan,
  results: (RefreshResult | Deferred)[],
  fannedOut: number,
  expiries: number[],
): SweepSummary {
  let refreshed = 0;
  let failed = 0;
  let rejected = 0;
  let skipped = 0;
  let held = 0;
  let deferred = 0;
  let deferredRechecks = 0;
  let writeBudgetBreached = 0;
  for (const r of results) {
    if ('writeBudgetBreached' in r && r.writeBudgetBreached) writeBudgetBreached += 1;
    if ('deferred' in r) {
      deferred += 1;
      if (plan.rechecks.has(r.credential)) deferredRechecks += 1;
    } else if (!r.ok) {
      failed += 1;
      // Rejected: blocked until the client secret changes (what the alarm and the Credential Rejected event mean).
      if (blocksUntilClientChanges(r.error.code)) rejected += 1;
    } else if ('skipped' in r) {
      if (r.skipped === 'blocked') held += 1;
      else skipped += 1;
    } else refreshed += 1;
  }
  return {
    listed,
    plan: plan.counts,
    due: plan.due.length,
    refreshed,
    failed,
    rejected,
    skipped,
    held,
    deferred,
    // A credential handed to another invocation is counted there.
    blocked: plan.counts.blocked + held + deferredRechecks,
    fannedOut,
    writeBudgetBreached,
    minSecondsToExpiry: expiries.length > 0 ? Math.min(...expiries) : undefined,
    results,
  };
}
