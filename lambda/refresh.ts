/**
 * Refreshing one credential: read its client secret, obtain a token, write it. A failure never
 * touches the token value; it is recorded in tags with the next attempt.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { isTokenRotatorError } from '../core/errors';
import { issueTokenRecord } from '../core/issue';
import type { IssueContext, KeySigner } from '../core/issuers/types';
import { nextAttemptAt, resolvePolicy } from '../core/policy';
import * as store from '../core/store';
import { InvalidTokenRecordError, secondsToExpiry, type TokenRecord } from '../core/token';
import { type CredentialListing, PERMANENT_ERRORS } from './plan';

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

/** The outcome for one credential, as returned to targeted callers. No secret in it. */
export type RefreshResult =
  | {
      credential: string;
      ok: true;
      generation: number;
      expiresAt: string;
      refreshAfter: string;
      secondsToExpiry: number;
    }
  | { credential: string; ok: true; skipped: 'not-due'; generation: number; secondsToExpiry: number }
  | {
      credential: string;
      ok: false;
      error: { code: string; message: string; transient: boolean; retryAfterSeconds?: number | undefined };
      nextAttempt?: string | undefined;
      /** Seconds left on the token that stays in place, when there is one. */
      secondsToExpiry?: number | undefined;
      /** Generation and expiry of the token that stays in place, when there is one. */
      generation?: number | undefined;
      expiresAt?: string | undefined;
    };

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
      },
      context,
    );
    // A clean listing (no failure tags) needs no UntagResource after the write.
    const listed = options.listing;
    const clean = listed !== undefined && !listed.lastError && !listed.nextAttempt && !listed.failedAt;
    await store.putToken(where, record, { clearFailureTags: !clean });
    return {
      credential: name,
      ok: true,
      generation: record.generation,
      expiresAt: record.expiresAt,
      refreshAfter: record.refreshAfter,
      secondsToExpiry: secondsToExpiry(record, deps.now()),
    };
  } catch (e) {
    const error = classify(e, name);
    // A targeted or fanned-out refresh has no listing: read the tags, so backoff keeps growing.
    const known = options.listing ?? (await describeForFailure(where, name));
    const failures = (known?.failures ?? 0) + 1;
    const permanent = PERMANENT_ERRORS.has(error.code);
    const nextAttempt = permanent
      ? undefined
      : nextAttemptAt({ failures, now, retryAfterSeconds: error.retryAfterSeconds, random: deps.random });
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
    return {
      credential: name,
      ok: false,
      error: {
        code: error.code,
        message: error.message,
        transient: error.transient,
        retryAfterSeconds: error.retryAfterSeconds,
      },
      nextAttempt: nextAttempt?.toISOString(),
      secondsToExpiry: current ? secondsToExpiry(current, now) : undefined,
      generation: current?.generation,
      expiresAt: current?.expiresAt,
    };
  }
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
  if (isTokenRotatorError(e)) return e;
  // Anything else is our bug or the platform's: report its kind only, never its text.
  const kind = e instanceof Error ? e.name : typeof e;
  return {
    code: 'InternalError',
    message: `Credential "${name}": refresh failed unexpectedly (${kind}).`,
    transient: true,
  };
}

/** True when the listed tags do not describe `record` (stale refresh-after, or failure tags left). */
function tagsBehind(listing: CredentialListing, record: TokenRecord): boolean {
  const tagged = listing.refreshAfter ? Math.floor(listing.refreshAfter.getTime() / 1000) : undefined;
  const actual = Math.floor(Date.parse(record.refreshAfter) / 1000);
  return tagged !== actual || Boolean(listing.lastError || listing.nextAttempt || listing.failedAt);
}
