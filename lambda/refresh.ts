/**
 * Refreshing one credential: obtain a token with its client document, write it. A failure never
 * touches the token value; it is recorded in tags with the next attempt.
 *
 * Steady state costs one AWS call: the sweep's listing tells the current token's generation and
 * refresh-after (from its version id) and the client document's version (from a tag), a warm
 * container has that version cached, and the write carries the new state in its version id.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  blocksUntilClientChanges,
  InvalidConfigurationError,
  InvalidTokenRecordError,
  isTokenRotatorError,
  MalformedResponseError,
  unexpectedError,
} from '../core/errors';
import type { IssueContext, KeySigner } from '../core/issuers/types';
import { nextAttemptAt, type RefreshPolicy, resolvePolicy, writeBudgetBreached } from '../core/policy';
import type { RefreshResult } from '../core/rotator-protocol';
import * as store from '../core/store';
import { secondsToExpiry, type TokenRecord } from '../core/token';
import { decodeTokenVersion, tokenDigest } from '../core/token-version';
import type { ClientDocumentCache } from './client-cache';
import type { ClientPrefetch } from './client-prefetch';
import type { CredentialListing } from './plan';
import type { WriteLimiter } from './write-limiter';

/** The issuing module: loaded on the first refresh of a container, not at cold start. */
type Issuing = typeof import('../core/issue.js');

let issuing: Promise<Issuing> | undefined;

/**
 * Starts loading the issuer modules, once per container; every refresh awaits the same load. An
 * idle sweep never calls it. A refresh calls it before its first AWS call, so in a cold container
 * the load runs while that call (the client document read, or a targeted refresh's DescribeSecret)
 * is in flight, not after it; in a sweep, the batch read of the cold client documents is sent
 * just before the refreshes start (lambda/client-prefetch.ts) and is in flight likewise. A failed
 * load is tried again by the next refresh.
 */
function loadIssuing(): Promise<Issuing> {
  issuing ??= import('../core/issue.js').catch((e: unknown) => {
    issuing = undefined;
    throw e;
  });
  return issuing;
}

/** A listing as the sweep hands it over: the store's, or the planner's subset of it. */
export type RefreshListing = CredentialListing & Partial<store.CredentialListing>;

/** What a refresh knows of the current token: from the listing's version id, else from a read. */
interface CurrentToken {
  generation: number;
  refreshAfter: Date;
  expiresAt: Date;
  /** Known when the value was read (a token written before issue 14). */
  accessToken?: string | undefined;
  /** The digest from the version id (core/token-version.ts), when the state came from the listing. */
  digest?: string | undefined;
}

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
  /** Client documents this container has read; without one every refresh reads its client secret. */
  clientCache?: ClientDocumentCache | undefined;
  /**
   * Client documents a sweep is reading ahead in batches (lambda/client-prefetch.ts): a refresh
   * whose document is not cached takes its read from here, else reads alone.
   */
  clientPrefetch?: ClientPrefetch | undefined;
  /** Paces this invocation's Secrets Manager writes (its share of the account's write quota). */
  writeLimiter?: WriteLimiter | undefined;
  /** Bounds the issuer requests in flight across refreshes (a sweep's `concurrency`). */
  issuerLimit?: (<T>(run: () => Promise<T>) => Promise<T>) | undefined;
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
  options: { force?: boolean; listing?: RefreshListing } = {},
): Promise<RefreshResult> {
  const where = { client: deps.secretsManager, prefix: deps.prefix };
  const now = deps.now();
  // Awaited where the issuer is called; a failed load is this refresh's failure there, not an
  // unhandled rejection here.
  loadIssuing().catch(() => undefined);
  let current: CurrentToken | undefined;
  // A targeted or fanned-out refresh has no listing: the token secret's metadata stands in for it.
  let listing: RefreshListing | undefined = options.listing;
  try {
    listing ??= await store.describeTokenListing(where, name);
    current = currentFromListing(listing) ?? (await readCurrentToken(where, name));
    if (!options.force && current && current.refreshAfter.getTime() >= now.getTime() + deps.lookaheadSeconds * 1000) {
      if (listing && tagsBehind(listing, current)) {
        // The token is fresh but the tags said it was due (or failing): a tag call after an
        // earlier write failed. Repair them so the listing stops showing a stale state. A token
        // from before issue 14 keeps its state in the legacy tags, so they are set, not removed.
        const legacy = legacyStateListed(listing);
        await store.tagToken(
          where,
          { credential: name },
          {
            clearFailureTags: !legacy || failureTagsListed(listing),
            listedClientVersion: listing.clientVersion,
            legacyState: legacy
              ? { refreshAfter: current.refreshAfter.toISOString(), expiresAt: current.expiresAt.toISOString() }
              : undefined,
          },
        );
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
    const { record, clientVersion, policy, lifetimeSeconds } = await issueWithClientDocument(
      name,
      deps,
      listing,
      previousGeneration,
    );
    if (current && isRepeatedToken(current, record, name)) {
      // The issuer handed back the token we hold: it expires when it always did, so storing it
      // as a new generation with our new expiry would promise workloads a life it does not have.
      // Compared in whole seconds: an expiry from the version id has no milliseconds.
      if (Math.floor(Date.parse(record.expiresAt) / 1000) <= Math.floor(current.expiresAt.getTime() / 1000)) {
        // No later expiry claimed (a signed JWT minted in the same second, a JWT's own exp): the
        // stored record already says everything true about it. Nothing to write.
        return {
          credential: name,
          ok: true,
          generation: current.generation,
          expiresAt: current.expiresAt.toISOString(),
          refreshAfter: current.refreshAfter.toISOString(),
          secondsToExpiry: secondsToExpiry(current, deps.now()),
        };
      }
      throw new MalformedResponseError(
        `Credential "${name}": the issuer handed back the token already stored; it keeps its expiry (${current.expiresAt.toISOString()}) and nothing is written. Retried after a back-off.`,
        { credential: name, reason: 'token-repeated' },
      );
    }
    const breached = writeBudgetBreached(lifetimeSeconds, policy);
    // Only tags that the listing shows are removed; a listing from before issue 14 has its
    // legacy tags removed, and the client version it lacked is tagged (once per credential).
    // A failure recorded by another invocation after this listing is left in place, but it names
    // the token version it failed against, which this write replaces: from then on the listing
    // shows it as stale (it blocks nothing), and the next write or tag repair removes it.
    const clean =
      listing !== undefined &&
      listing.failures === 0 &&
      !listing.lastError &&
      !listing.nextAttempt &&
      !listing.failedAt &&
      !listing.failedClientVersion &&
      !listing.staleFailureTags &&
      !listing.legacyTags;
    const tagClientVersion =
      clientVersion !== undefined && clientVersion !== listing?.clientVersion ? clientVersion : undefined;
    // The write-budget tag is written only when the breach state changes (absent means ok), so
    // a clean steady-state refresh stays one PutSecretValue.
    const tagOptions: store.TagTokenOptions = {
      clearFailureTags: !clean,
      clientVersion: tagClientVersion,
      listedClientVersion: listing?.clientVersion,
      writeBudgetBreached: breached,
      listedWriteBudget: listing?.writeBudget,
    };
    // The put and every tag call the write will make count against the write pace.
    await deps.writeLimiter?.acquire(1 + store.tagTokenCalls(tagOptions));
    const written = await store.putTokenValue(where, record);
    // From here the new token is stored: whatever the tag calls do, this refresh succeeded.
    const tagsFailed = written.written ? await tagAfterWrite(where, record, tagOptions) : undefined;
    return {
      credential: name,
      ok: true,
      generation: record.generation,
      expiresAt: record.expiresAt,
      refreshAfter: record.refreshAfter,
      secondsToExpiry: secondsToExpiry(record, deps.now()),
      ...(breached ? { writeBudgetBreached: true as const } : {}),
      ...(tagsFailed ? { tagsFailed } : {}),
    };
  } catch (e) {
    return recordFailedRefresh(name, e, { deps, where, now, current, listing });
  }
}

/**
 * Tags the token secret after a good write. A failed tag call does not fail the refresh (the
 * token is stored): the tags it left are harmless (failure tags name the version this write
 * replaced, so the listing ignores them; legacy tags are outranked by the version id; a missing
 * client version only costs a client read) and the next write or tag repair fixes them.
 *
 * @returns the AWS error name of a failed tag call (no message, so nothing from upstream), else `undefined`.
 */
async function tagAfterWrite(
  where: store.SecretStore,
  record: TokenRecord,
  options: store.TagTokenOptions,
): Promise<string | undefined> {
  try {
    await store.tagToken(where, record, options);
    return undefined;
  } catch (e) {
    return (isTokenRotatorError(e) && e.reason) || 'UnknownError';
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
    current: CurrentToken | undefined;
    listing: RefreshListing | undefined;
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
    const notAfter = current ? new Date(current.expiresAt.getTime() - 2 * deps.lookaheadSeconds * 1000) : undefined;
    nextAttempt = permanent
      ? undefined
      : nextAttemptAt({ failures, now, retryAfterSeconds: error.retryAfterSeconds, random: deps.random, notAfter });
    try {
      await deps.writeLimiter?.acquire(nextAttempt ? 1 : 2);
      await store.recordFailure(where, name, {
        failures,
        lastError: error.code,
        nextAttempt,
        failedAt: failedAtFor(now, known?.clientChangedAt),
        // The listed client version: only a new one (tagged by the provider) lifts a permanent block.
        clientVersion: state.listing?.clientVersion,
        // The token this attempt meant to replace: once another is current, this failure is stale.
        tokenVersion: known?.versionId,
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
    expiresAt: current?.expiresAt.toISOString(),
  };
}

/** The current token from the listing's version id, when token-rotator wrote it since issue 14. */
function currentFromListing(listing: RefreshListing | undefined): CurrentToken | undefined {
  if (listing?.generation === undefined || !listing.refreshAfter || !listing.expiresAt) return undefined;
  return {
    generation: listing.generation,
    refreshAfter: listing.refreshAfter,
    expiresAt: listing.expiresAt,
    digest: decodeTokenVersion(listing.versionId)?.digest,
  };
}

/**
 * Whether the issuer handed back the token already stored: compared with the value when it was
 * read, else with the digest its version id carries (the same hash the write would compute for
 * that token at the current generation), so no read is needed to tell.
 */
function isRepeatedToken(current: CurrentToken, record: TokenRecord, name: string): boolean {
  if (current.accessToken !== undefined) return record.accessToken === current.accessToken;
  if (current.digest === undefined) return false;
  return (
    tokenDigest({ credential: name, generation: current.generation, accessToken: record.accessToken }) ===
    current.digest
  );
}

/** A new token and what it was issued with. */
interface IssuedWithClient {
  record: TokenRecord;
  /** The version id of the client document used. */
  clientVersion: string | undefined;
  policy: RefreshPolicy;
  /** The token's real lifetime, which the write budget is judged by. */
  lifetimeSeconds: number;
}

/**
 * Obtains the next token with the client document: the cached copy when the listing shows the
 * version it was read at, else the sweep's batch read of it or a read of its own (then cached). A cached copy the issuer rejects is dropped
 * and the client secret read again: if it changed behind a stale tag, the new one is tried once;
 * if not, the rejection stands.
 */
async function issueWithClientDocument(
  name: string,
  deps: RefreshDeps,
  listing: RefreshListing | undefined,
  previousGeneration: number,
): Promise<IssuedWithClient> {
  const where = { client: deps.secretsManager, prefix: deps.prefix };
  const issue = async (doc: store.ClientDocument, clientVersion: string | undefined): Promise<IssuedWithClient> => {
    // Awaited after the client document read, which was sent while the modules load.
    const { issueTokenRecord, lifetimeSecondsOf } = await loadIssuing();
    const policy = resolvePolicy(doc.policy, { credential: name });
    const context: IssueContext = { credential: name, fetch: deps.fetch, now: deps.now, keySigner: deps.keySigner };
    const run = () =>
      issueTokenRecord(
        {
          credential: name,
          issuer: doc.issuer,
          policy,
          previousGeneration,
          random: deps.random,
          // At run time a valid token is always kept; the budget is judged at `pulumi up`.
          writeBudget: 'adapt',
        },
        context,
      );
    const record = await (deps.issuerLimit ? deps.issuerLimit(run) : run());
    return { record, clientVersion, policy, lifetimeSeconds: lifetimeSecondsOf(record) };
  };
  const read = async () => {
    const fresh = await store.readClientSecret(where, name);
    deps.clientCache?.set(name, fresh);
    return fresh;
  };
  const cached = deps.clientCache?.get(name, listing?.clientVersion);
  if (!cached) {
    // A batch read of the sweep's, when it brought this document back; else the single read
    // (which also classifies a missing secret or a refused read, as it always has).
    const prefetched = await deps.clientPrefetch?.take(name);
    if (prefetched instanceof InvalidConfigurationError) throw prefetched;
    if (prefetched) deps.clientCache?.set(name, prefetched);
    const fresh = prefetched ?? (await read());
    return issue(fresh.document, fresh.versionId);
  }
  try {
    return await issue(cached.document, cached.versionId);
  } catch (e) {
    // Only a rejection can be the cached document's fault (credentials rotated behind a stale
    // tag); an outage is not, and re-reading every document during one would only add reads.
    if (!isTokenRotatorError(e) || !blocksUntilClientChanges(e.code)) throw e;
    deps.clientCache?.delete(name);
    const fresh = await read();
    if (fresh.versionId === cached.versionId) throw e;
    return issue(fresh.document, fresh.versionId);
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
          accessToken: record.accessToken,
        }
      : undefined;
  } catch (e) {
    // A failed read (throttling, access) is a failed refresh: writing now would restart the
    // generation count at 1 over a token we could not see.
    if (e instanceof InvalidTokenRecordError) return undefined;
    throw e;
  }
}

/**
 * The token secret's listing (failure count, current version) and the client secret's change
 * time, from both secrets' metadata (no value read); best effort. The listing goes through
 * `listingOf`, so failure tags recorded against a replaced version count as none here too.
 */
async function describeForFailure(
  where: store.SecretStore,
  name: string,
): Promise<(Pick<CredentialListing, 'failures' | 'clientChangedAt'> & { versionId?: string | undefined }) | undefined> {
  try {
    const [listing, client] = await Promise.all([
      store.describeTokenListing(where, name),
      store.describeSecret(where.client, store.secretNames(name, where.prefix).client, name),
    ]);
    return { failures: listing?.failures ?? 0, versionId: listing?.versionId, clientChangedAt: client.lastChangedDate };
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

/**
 * True when the listed tags do not describe `current`: a stale refresh-after or expiry, failure
 * tags left, or legacy tags left on a token whose version id carries its state.
 */
function tagsBehind(listing: RefreshListing, current: CurrentToken): boolean {
  const seconds = (d: Date | undefined) => (d ? Math.floor(d.getTime() / 1000) : undefined);
  const legacy = legacyStateListed(listing);
  return (
    seconds(listing.refreshAfter) !== seconds(current.refreshAfter) ||
    (legacy && seconds(listing.expiresAt) !== seconds(current.expiresAt)) ||
    (!legacy && Boolean(listing.legacyTags)) ||
    failureTagsListed(listing)
  );
}

/**
 * Whether the listed state comes from the legacy refresh-after/expiry tags: the current version
 * id carries none (a token written before issue 14), so those tags are what the sweep plans by.
 */
function legacyStateListed(listing: RefreshListing): boolean {
  return listing.generation === undefined && (listing.versionId !== undefined || listing.legacyTags === true);
}

/** Whether the listing shows any tag a failed refresh leaves. */
function failureTagsListed(listing: RefreshListing): boolean {
  return Boolean(
    listing.failures > 0 ||
      listing.lastError ||
      listing.nextAttempt ||
      listing.failedAt ||
      listing.failedClientVersion ||
      listing.staleFailureTags,
  );
}
