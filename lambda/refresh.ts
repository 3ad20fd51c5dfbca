/**
 * Refreshing one credential: obtain a token with its client document, write it. A failure never
 * touches the token value; it is recorded in tags with the next attempt.
 *
 * Steady state costs one AWS call: the sweep's listing tells the current token's generation and
 * refresh-after (from its version id) and the client document's version (from a tag), a warm
 * container has that version cached, and the write carries the new state in its version id.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { isTokenRotatorError } from '../core/errors';
import type { IssueContext } from '../core/issuers/types';
import { nextAttemptAt, resolvePolicy } from '../core/policy';
import * as store from '../core/store';
import { InvalidTokenRecordError, secondsToExpiry, type TokenRecord } from '../core/token';
import type { ClientDocumentCache } from './client-cache';
import { type CredentialListing, PERMANENT_ERRORS } from './plan';
import type { WriteLimiter } from './write-limiter';

/** A listing as the sweep hands it over: the store's, or the planner's subset of it. */
type RefreshListing = CredentialListing & Partial<store.CredentialListing>;

/** What a refresh knows of the current token: from the listing's version id, else from a read. */
interface CurrentToken {
  generation: number;
  refreshAfter: Date;
  expiresAt: Date;
}

/** Dependencies of a refresh: the store and the issuer seams. */
export interface RefreshDeps {
  secretsManager: SecretsManagerClient;
  prefix: string;
  fetch?: typeof fetch;
  now: () => Date;
  random: () => number;
  /** How far ahead a sweep looks (one schedule interval). */
  lookaheadSeconds: number;
  /** Client documents this container has read; without one every refresh reads its client secret. */
  clientCache?: ClientDocumentCache | undefined;
  /** Paces this invocation's Secrets Manager writes (its share of the account's write quota). */
  writeLimiter?: WriteLimiter | undefined;
  /** Bounds the issuer requests in flight across refreshes (a sweep's `concurrency`). */
  issuerLimit?: (<T>(run: () => Promise<T>) => Promise<T>) | undefined;
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
  options: { force?: boolean; listing?: RefreshListing } = {},
): Promise<RefreshResult> {
  const where = { client: deps.secretsManager, prefix: deps.prefix };
  const now = deps.now();
  let current: CurrentToken | undefined;
  // A targeted or fanned-out refresh has no listing: the token secret's metadata stands in for it.
  let listing: RefreshListing | undefined = options.listing;
  try {
    listing ??= await store.describeTokenListing(where, name);
    current = currentFromListing(listing) ?? (await readCurrentToken(where, name));
    if (!options.force && current && current.refreshAfter.getTime() >= now.getTime() + deps.lookaheadSeconds * 1000) {
      if (listing && tagsBehind(listing, current)) {
        // The token is fresh but the tags said it was due (or failing): a tag call after an
        // earlier write failed. Repair them so the listing stops showing a stale state.
        await store.tagToken(where, { credential: name });
      }
      return {
        credential: name,
        ok: true,
        skipped: 'not-due',
        generation: current.generation,
        secondsToExpiry: secondsToExpiry(current, now),
      };
    }
    const previousGeneration = current?.generation ?? 0;
    const { record, clientVersion } = await issueWithClientDocument(name, deps, listing, previousGeneration);
    // Only tags that the listing shows are removed; a listing from before issue 14 has its
    // legacy tags removed, and the client version it lacked is tagged (once per credential).
    const clean =
      listing !== undefined &&
      listing.failures === 0 &&
      !listing.lastError &&
      !listing.nextAttempt &&
      !listing.failedAt &&
      !listing.failedClientVersion &&
      !listing.legacyTags;
    const tagClientVersion =
      clientVersion !== undefined && clientVersion !== listing?.clientVersion ? clientVersion : undefined;
    await deps.writeLimiter?.acquire(1 + (clean ? 0 : 1) + (tagClientVersion ? 1 : 0));
    await store.putToken(where, record, { clearFailureTags: !clean, clientVersion: tagClientVersion });
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
    const known = listing ?? (await describeForFailure(where, name));
    const failures = (known?.failures ?? 0) + 1;
    const permanent = PERMANENT_ERRORS.has(error.code);
    const nextAttempt = permanent
      ? undefined
      : nextAttemptAt({ failures, now, retryAfterSeconds: error.retryAfterSeconds, random: deps.random });
    try {
      await deps.writeLimiter?.acquire(nextAttempt ? 1 : 2);
      await store.recordFailure(where, name, {
        failures,
        lastError: error.code,
        nextAttempt,
        failedAt: failedAtFor(now, known?.clientChangedAt),
        // The listed client version: only a new one (tagged by the provider) lifts a permanent block.
        clientVersion: listing?.clientVersion,
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
    };
  }
}

/** The current token from the listing's version id, when token-rotator wrote it since issue 14. */
function currentFromListing(listing: RefreshListing | undefined): CurrentToken | undefined {
  if (listing?.generation === undefined || !listing.refreshAfter || !listing.expiresAt) return undefined;
  return { generation: listing.generation, refreshAfter: listing.refreshAfter, expiresAt: listing.expiresAt };
}

/**
 * Obtains the next token with the client document: the cached copy when the listing shows the
 * version it was read at, else a read (then cached). A cached copy the issuer rejects is dropped
 * and the client secret read again: if it changed behind a stale tag, the new one is tried once;
 * if not, the rejection stands.
 */
async function issueWithClientDocument(
  name: string,
  deps: RefreshDeps,
  listing: RefreshListing | undefined,
  previousGeneration: number,
): Promise<{ record: TokenRecord; clientVersion: string | undefined }> {
  const where = { client: deps.secretsManager, prefix: deps.prefix };
  // Loaded on the first refresh, not at cold start: an idle sweep never needs the issuers.
  const { issueTokenRecord } = await import('../core/issue.js');
  const issue = (doc: store.ClientDocument) => {
    const policy = resolvePolicy(doc.policy, { credential: name });
    const context: IssueContext = { credential: name, fetch: deps.fetch, now: deps.now };
    const run = () =>
      issueTokenRecord(
        { credential: name, issuer: doc.issuer, policy, previousGeneration, random: deps.random },
        context,
      );
    return deps.issuerLimit ? deps.issuerLimit(run) : run();
  };
  const read = async () => {
    const fresh = await store.readClientSecret(where, name);
    deps.clientCache?.set(name, fresh);
    return fresh;
  };
  const cached = deps.clientCache?.get(name, listing?.clientVersion);
  if (!cached) {
    const fresh = await read();
    return { record: await issue(fresh.document), clientVersion: fresh.versionId };
  }
  try {
    return { record: await issue(cached.document), clientVersion: cached.versionId };
  } catch (e) {
    // Only a rejection can be the cached document's fault (credentials rotated behind a stale
    // tag); an outage is not, and re-reading every document during one would only add reads.
    if (!isTokenRotatorError(e) || !PERMANENT_ERRORS.has(e.code)) throw e;
    deps.clientCache?.delete(name);
    const fresh = await read();
    if (fresh.versionId === cached.versionId) throw e;
    return { record: await issue(fresh.document), clientVersion: fresh.versionId };
  }
}

/** The current token record; a stored value that is not one is replaced by a good one, not a reason to stop. */
async function readCurrentToken(where: store.SecretStore, name: string): Promise<CurrentToken | undefined> {
  try {
    const record = await store.readToken(where, name);
    return record
      ? {
          generation: record.generation,
          refreshAfter: new Date(record.refreshAfter),
          expiresAt: new Date(record.expiresAt),
        }
      : undefined;
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

/** True when the listed tags do not describe `current` (stale refresh-after, or failure or legacy tags left). */
function tagsBehind(listing: RefreshListing, current: CurrentToken): boolean {
  const tagged = listing.refreshAfter ? Math.floor(listing.refreshAfter.getTime() / 1000) : undefined;
  const actual = Math.floor(current.refreshAfter.getTime() / 1000);
  return (
    tagged !== actual ||
    Boolean(listing.lastError || listing.nextAttempt || listing.failedAt || listing.legacyTags || listing.failures > 0)
  );
}
