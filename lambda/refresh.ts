/**
 * Refreshing one credential: read its client secret, obtain a token, write it. A failure never
 * touches the token value; it is recorded in tags with the next attempt.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  blocksUntilClientChanges,
  InvalidTokenRecordError,
  MalformedResponseError,
  unexpectedError,
} from '../core/errors';
import { issueTokenRecord, lifetimeSecondsOf } from '../core/issue';
import type { IssueContext, KeySigner } from '../core/issuers/types';
import { nextAttemptAt, resolvePolicy, writeBudgetBreached } from '../core/policy';
import type { RefreshResult } from '../core/rotator-protocol';
import * as store from '../core/store';
import { secondsToExpiry, type TokenRecord } from '../core/token';
import type { CredentialListing } from './plan';

/** Dependencies of a refresh: the store and the issuer seams. */
export interface RefreshDeps {
  secretsManager: SecretsManagerClient;
  prefix: string;
  fetch?: typeof fetch;
  /** Signs for KMS-keyed credentials; one per container, so one KMS client. */
  keySigner?: KeySigner | undefined;
  now: () => Date;
  random: () => number;
  /** How far ahead a sweep looks (one schedule interval). */
  lookaheadSeconds: number;
}

/**
 * Refreshes one credential. Unless `force`, a credential that another sweep refreshed since it
 * was listed is skipped (its token is no longer due).
 *
 * @example
 * ```ts
 * const result = await refreshCredential('sirv-prod', { secretsManager, prefix, now, random, lookaheadSeconds: 60 });
 * if (!result.ok) console.log(result.error.code, result.nextAttempt);
 * ```
 */
export async function refreshCredential(
  name: string,
  deps: RefreshDeps,
  options: { force?: boolean; listing?: CredentialListing } = {},
): Promise<RefreshResult> {
  const where = { client: deps.secretsManager, prefix: deps.prefix };
  const now = deps.now();
  let current: TokenRecord | undefined;
  try {
    current = await readCurrentToken(where, name);
    if (!options.force && current && Date.parse(current.refreshAfter) >= now.getTime() + deps.lookaheadSeconds * 1000) {
      if (options.listing && tagsBehind(options.listing, current)) {
        // The token is fresh but the tags said it was due (or failing): a tagging call after an
        // earlier write failed. Repair them so the listing stops showing a stale state.
        await store.tagToken(where, current);
      }
      return {
        credential: name,
        ok: true,
        skipped: 'not-due',
        generation: current.generation,
        secondsToExpiry: secondsToExpiry(current, now),
      };
    }
    const doc = await store.readClientDocument(where, name);
    const policy = resolvePolicy(doc.policy, { credential: name });
    const context: IssueContext = { credential: name, fetch: deps.fetch, now: deps.now, keySigner: deps.keySigner };
    const record = await issueTokenRecord(
      {
        credential: name,
        issuer: doc.issuer,
        policy,
        previousGeneration: current?.generation ?? 0,
        random: deps.random,
        // At run time a valid token is always kept; the budget is judged at `pulumi up`.
        writeBudget: 'adapt',
      },
      context,
    );
    if (current && record.accessToken === current.accessToken) {
      // The issuer handed back the token we hold: it expires when it always did, so storing it
      // as a new generation with our new expiry would promise workloads a life it does not have.
      if (Date.parse(record.expiresAt) <= Date.parse(current.expiresAt)) {
        // No later expiry claimed (a signed JWT minted in the same second, a JWT's own exp): the
        // stored record already says everything true about it. Nothing to write.
        return {
          credential: name,
          ok: true,
          generation: current.generation,
          expiresAt: current.expiresAt,
          refreshAfter: current.refreshAfter,
          secondsToExpiry: secondsToExpiry(current, deps.now()),
        };
      }
      throw new MalformedResponseError(
        `Credential "${name}": the issuer handed back the token already stored; it keeps its expiry (${current.expiresAt}) and nothing is written. Retried after a back-off.`,
        { credential: name, reason: 'token-repeated' },
      );
    }
    const breached = writeBudgetBreached(lifetimeSecondsOf(record), policy);
    // A clean listing (no failure tags) needs no UntagResource after the write.
    const listed = options.listing;
    const clean = listed !== undefined && !listed.lastError && !listed.nextAttempt && !listed.failedAt;
    await store.putToken(where, record, { clearFailureTags: !clean, writeBudgetBreached: breached });
    return {
      credential: name,
      ok: true,
      generation: record.generation,
      expiresAt: record.expiresAt,
      refreshAfter: record.refreshAfter,
      secondsToExpiry: secondsToExpiry(record, deps.now()),
      ...(breached ? { writeBudgetBreached: true as const } : {}),
    };
  } catch (e) {
    return recordFailedRefresh(name, e, { deps, where, now, current, listing: options.listing });
  }
}

/**
 * The failure path: classify, back off, tag. It never throws: whatever the error (an issuer's
 * absurd Retry-After, a store that fails again), the sweep gets a result for this credential
 * and goes on with the others.
 */
async function recordFailedRefresh(
  name: string,
  e: unknown,
  state: {
    deps: RefreshDeps;
    where: store.SecretStore;
    now: Date;
    current: TokenRecord | undefined;
    listing: CredentialListing | undefined;
  },
): Promise<RefreshResult> {
  const { deps, where, now, current } = state;
  const error = classify(e, name);
  let nextAttempt: Date | undefined;
  try {
    // A targeted or fanned-out refresh has no listing: read the tags, so backoff keeps growing.
    const known = state.listing ?? (await describeForFailure(where, name));
    const failures = (known?.failures ?? 0) + 1;
    const permanent = blocksUntilClientChanges(error.code);
    // Retry-After never parks a credential past the point where its current token needs replacing.
    const notAfter = current ? new Date(Date.parse(current.expiresAt) - 2 * deps.lookaheadSeconds * 1000) : undefined;
    nextAttempt = permanent
      ? undefined
      : nextAttemptAt({ failures, now, retryAfterSeconds: error.retryAfterSeconds, random: deps.random, notAfter });
    try {
      await store.recordFailure(where, name, {
        failures,
        lastError: error.code,
        nextAttempt,
        failedAt: failedAtFor(now, known?.clientChangedAt),
      });
    } catch {
      // Recording is best effort: the credential stays due and the next tick tries again.
    }
  } catch {
    // Only a bug of ours gets here; the credential stays due and the result still reports it.
    nextAttempt = undefined;
  }
  return {
    credential: name,
    ok: false,
    error: {
      code: error.code,
      message: error.message,
      transient: error.transient,
      retryAfterSeconds: error.retryAfterSeconds,
    },
    nextAttempt:
      nextAttempt !== undefined && Number.isFinite(nextAttempt.getTime()) ? nextAttempt.toISOString() : undefined,
    secondsToExpiry: current ? secondsToExpiry(current, now) : undefined,
    generation: current?.generation,
    expiresAt: current?.expiresAt,
  };
}

/** The current token record; a stored value that is not one is replaced by a good one, not a reason to stop. */
async function readCurrentToken(where: store.SecretStore, name: string): Promise<TokenRecord | undefined> {
  try {
    return await store.readToken(where, name);
  } catch (e) {
    // A failed read (throttling, access) is a failed refresh: writing now would restart the
    // generation count at 1 over a token we could not see.
    if (e instanceof InvalidTokenRecordError) return undefined;
    throw e;
  }
}

/** Failure count and client change time from the secrets' metadata (no value read); best effort. */
async function describeForFailure(
  where: store.SecretStore,
  name: string,
): Promise<Pick<CredentialListing, 'failures' | 'clientChangedAt'> | undefined> {
  try {
    const state = await store.describeCredential(where, name);
    const failures = Number(state.token.tags[store.TAG_KEYS.failures] ?? '0');
    return {
      failures: Number.isInteger(failures) && failures >= 0 ? failures : 0,
      clientChangedAt: state.client.lastChangedDate,
    };
  } catch {
    return undefined;
  }
}

/**
 * When to record a failure as having happened: now, but never before the client secret it was
 * made with last changed (rounded up to the tag's whole seconds). A sweep lifts a permanent
 * failure when the client secret is newer than `failed-at`; that date comes from Secrets
 * Manager's clock, so a skewed Lambda clock (or a tag rounded down) would otherwise lift the
 * block at once and retry rejected credentials on every tick.
 */
export function failedAtFor(now: Date, clientChangedAt: Date | undefined): Date {
  if (!clientChangedAt) return now;
  const changed = Math.ceil(clientChangedAt.getTime() / 1000) * 1000;
  return changed > now.getTime() ? new Date(changed) : now;
}

interface FailureSummary {
  code: string;
  message: string;
  transient: boolean;
  retryAfterSeconds?: number | undefined;
}

function classify(e: unknown, name: string): FailureSummary {
  // Anything but our own errors is our bug or the platform's: reported by its kind only, never its text.
  return unexpectedError(e, name);
}

/** True when the listed tags do not describe `record` (stale refresh-after, or failure tags left). */
function tagsBehind(listing: CredentialListing, record: TokenRecord): boolean {
  const tagged = listing.refreshAfter ? Math.floor(listing.refreshAfter.getTime() / 1000) : undefined;
  const actual = Math.floor(Date.parse(record.refreshAfter) / 1000);
  return tagged !== actual || Boolean(listing.lastError || listing.nextAttempt || listing.failedAt);
}
