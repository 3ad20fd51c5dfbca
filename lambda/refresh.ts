/**
 * Refreshing one credential: look at its token secret as it is now, obtain a token with its client
 * document only when a write can follow, write it. A failure never touches the token value; it is
 * recorded in tags with the next attempt.
 *
 * Before any issuer request the token secret is described (DescribeSecret: AWS's documented fresher
 * view than ListSecrets, which "might not reflect changes from the last five minutes"), and the
 * verdict is taken again on what it shows. So a listing that lags, a batch event delivered twice
 * or late, or a second sweep that overlaps the first finds the token already refreshed and writes
 * nothing. Steady state costs two AWS calls, one of them a write: the describe (a read, from a quota
 * of thousands per second) and the PutSecretValue carrying the new state in its version id.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  blocksUntilClientChanges,
  InvalidConfigurationError,
  InvalidTokenRecordError,
  isTokenRotatorError,
  MalformedResponseError,
  StoreError,
  unexpectedError,
} from '../core/errors';
import type { IssueContext, KeySigner } from '../core/issuers/types';
import { nextAttemptAt, type RefreshPolicy, resolvePolicy, writeBudgetBreached } from '../core/policy';
import { FORCED_REFRESH_FLOOR_SECONDS, type RefreshResult } from '../core/rotator-protocol';
import * as store from '../core/store';
import { NEWER_TOKEN_RECORD_REASON, secondsToExpiry, type TokenRecord } from '../core/token';
import { clientFingerprint, decodeTokenVersion, tokenDigest } from '../core/token-version';
import type { ClientDocumentCache } from './client-cache';
import type { ClientPrefetch } from './client-prefetch';
import { blockHolds, dueVerdict } from './plan';
import type { RefreshMemory } from './refresh-memory';
import type { WriteLimiter } from './write-limiter';

/** The issuing module: loaded on the first refresh of a container, not at cold start. */
type Issuing = typeof import('../core/issue.js');

let issuing: Promise<Issuing> | undefined;

/**
 * Starts loading the issuer modules, once per container; every refresh awaits the same load. An
 * idle sweep never calls it. A refresh calls it before its first AWS call (the describe), so in a
 * cold container the load runs while that call is in flight, not after it. A failed load is tried
 * again by the next refresh.
 */
function loadIssuing(): Promise<Issuing> {
  issuing ??= import('../core/issue.js').catch((e: unknown) => {
    issuing = undefined;
    throw e;
  });
  return issuing;
}

/** What a refresh knows of the current token: from its version id, else from a read of the value. */
interface CurrentToken {
  generation: number;
  issuedAt?: Date | undefined;
  refreshAfter: Date;
  expiresAt: Date;
  /** The fingerprint of the client document version it was obtained with (from the version id). */
  client?: string | undefined;
  /** Known when the value was read (a version id token-rotator did not write). */
  accessToken?: string | undefined;
  /** The digest from the version id (core/token-version.ts). */
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
  /** This container's recent writes and unrecorded failures (lambda/refresh-memory.ts). */
  memory?: RefreshMemory | undefined;
  /** Paces this invocation's Secrets Manager writes (its share of the account's write quota). */
  writeLimiter?: WriteLimiter | undefined;
  /** Bounds the issuer requests in flight across refreshes (a sweep's `concurrency`). */
  issuerLimit?: (<T>(run: () => Promise<T>) => Promise<T>) | undefined;
}

/** Options of {@link refreshCredential}. */
export interface RefreshOptions {
  /**
   * Refresh even when not due yet. Still never during a backoff or a block, and never a token
   * written less than {@link FORCED_REFRESH_FLOOR_SECONDS} ago with the current client document.
   */
  force?: boolean | undefined;
  /**
   * With `force`: the operator's deliberate override of the floor, backoff and block. Only
   * in-process callers (the CLI's `refresh --force`) set it; no event the rotator accepts carries it.
   */
  overrideFloor?: boolean | undefined;
}

/**
 * Refreshes one credential when its token secret, as described now, says it is due (or `force`
 * and the floor allow it); otherwise reports why nothing was written.
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
  options: RefreshOptions = {},
): Promise<RefreshResult> {
  const where = { client: deps.secretsManager, prefix: deps.prefix };
  const now = deps.now();
  // Awaited where the issuer is called; a failed load is this refresh's failure there, not an
  // unhandled rejection here.
  loadIssuing().catch(() => undefined);
  let current: CurrentToken | undefined;
  let state: store.CredentialListing | undefined;
  const source: SourceSeen = {};
  try {
    const described = await store.describeTokenListing(where, name);
    if (described === undefined || described.deletedDate !== undefined) return gone(name, described);
    state = deps.memory?.overlay(described, now) ?? described;
    current = currentFromListing(state) ?? (await readCurrentToken(where, name));
    const held = holdReason(state, current, now, deps.lookaheadSeconds, options);
    if (held && current) return skippedResult(name, held, current, state, now);
    const issued = await issueWithClientDocument(
      name,
      deps,
      state,
      source,
      current?.generation ?? 0,
      options.force === true && options.overrideFloor === true,
    );
    if ('held' in issued) return await holdBlock(name, issued, { deps, where, now, current, state });
    const { record, clientVersion, policy, lifetimeSeconds } = issued;
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
    // Only tags the described secret shows are removed. A failure recorded by another invocation
    // after the describe is left in place, but it names the token version it failed against,
    // which this write replaces: from then on it is stale (it blocks nothing), and the next write
    // removes it.
    const clean =
      described.failures === 0 &&
      !described.lastError &&
      !described.nextAttempt &&
      !described.failedAt &&
      !described.failedClientVersion &&
      !described.staleFailureTags;
    const tagClientVersion =
      clientVersion !== undefined && clientVersion !== described.clientVersion ? clientVersion : undefined;
    // The write-budget tag is written only when the breach state changes (absent means ok), so
    // a clean steady-state refresh stays one PutSecretValue.
    const tagOptions: store.TagTokenOptions = {
      clearFailureTags: !clean,
      clientVersion: tagClientVersion,
      writeBudgetBreached: breached,
      listedWriteBudget: described.writeBudget,
    };
    // The put and every tag call the write will make count against the write pace.
    await deps.writeLimiter?.acquire(1 + store.tagTokenCalls(tagOptions));
    const written = await store.putTokenValue(where, record, clientVersion);
    deps.memory?.wrote(
      name,
      {
        versionId: written.versionId,
        generation: record.generation,
        refreshAfter: new Date(record.refreshAfter),
        expiresAt: new Date(record.expiresAt),
      },
      now,
    );
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
    return recordFailedRefresh(name, e, { deps, where, now, current, state, source });
  }
}

type HoldReason = 'not-due' | 'backoff' | 'blocked' | 'floor';

/**
 * Why the described state asks for no write now, or `undefined` when a token should be obtained.
 * A forced refresh skips only the "not due yet" test: a backoff or a block still holds (the issuer
 * is not asked more often than its failures allow), and so does the floor.
 */
function holdReason(
  state: store.CredentialListing,
  current: CurrentToken | undefined,
  now: Date,
  lookaheadSeconds: number,
  options: RefreshOptions,
): HoldReason | undefined {
  if (current === undefined) return undefined;
  if (options.force && options.overrideFloor) return undefined;
  const verdict = dueVerdict({ ...state, refreshAfter: current.refreshAfter }, now, lookaheadSeconds);
  if (verdict.reason === 'backoff' || verdict.reason === 'blocked') return verdict.reason;
  if (!options.force) return verdict.due ? undefined : 'not-due';
  const sameClient = current.client !== undefined && current.client === clientFingerprint(state.clientVersion);
  const recent =
    current.issuedAt !== undefined && now.getTime() - current.issuedAt.getTime() < FORCED_REFRESH_FLOOR_SECONDS * 1000;
  return sameClient && recent ? 'floor' : undefined;
}

function skippedResult(
  name: string,
  reason: HoldReason,
  current: CurrentToken,
  state: store.CredentialListing,
  now: Date,
  /** When a held block's source is looked at again (a backoff's is the state's). */
  recheck?: Date | undefined,
): RefreshResult {
  const nextAttempt = reason === 'backoff' ? state.nextAttempt : recheck;
  return {
    credential: name,
    ok: true,
    skipped: reason,
    generation: current.generation,
    expiresAt: current.expiresAt.toISOString(),
    refreshAfter: current.refreshAfter.toISOString(),
    secondsToExpiry: secondsToExpiry(current, now),
    ...(nextAttempt ? { nextAttempt: nextAttempt.toISOString() } : {}),
  };
}

/**
 * A block that still holds where a refresh looked at it (a source unchanged since the issuer
 * rejected its client secret, or a client secret kept inline, which only a new client document
 * changes). Nothing was sent to the issuer, so nothing failed: no failure is counted and no
 * rejection reported. Its tags are written again as they are, but for the next look at a source
 * (later the longer it has been blocked); an inline secret gets none, so a next-attempt tag a
 * throttled UntagResource left behind is removed now.
 */
async function holdBlock(
  name: string,
  held: BlockHeld,
  context: {
    deps: RefreshDeps;
    where: store.SecretStore;
    now: Date;
    current: CurrentToken | undefined;
    state: store.CredentialListing;
  },
): Promise<RefreshResult> {
  const { deps, where, now, current, state } = context;
  const lastError = state.lastError ?? 'InvalidCredentials';
  // Only a rejected client secret is the source's to mend; any other refusal waits for a new client document.
  const recheck =
    held.sourced && lastError === 'InvalidCredentials' ? nextRecheckAt(state.failedAt, now, deps.random) : undefined;
  const failure = {
    failures: state.failures,
    lastError,
    nextAttempt: recheck,
    clientVersion: state.failedClientVersion,
    sourceVersion: state.failedSourceVersion,
    tokenVersion: state.versionId,
  };
  let notRecorded: string | undefined;
  try {
    await deps.writeLimiter?.acquire(recheck ? 1 : 2);
    // No failed-at: the block is as old as the rejection that made it, which the next look is timed by.
    await store.recordFailure(where, name, failure);
  } catch (recordError) {
    // Remembered, so that this container neither looks again before the next look nor takes a
    // stale next-attempt tag for one.
    notRecorded = (isTokenRotatorError(recordError) && recordError.reason) || 'UnknownError';
    deps.memory?.failedUnrecorded(name, failure, now);
  }
  if (current) return skippedResult(name, 'blocked', current, state, now, recheck);
  // No token in place to report a skip with: said as the block it is, still counted once per look.
  const message = held.sourced
    ? `Credential "${name}": still blocked after ${lastError}: the secret its clientSecretSource names has not changed since the issuer rejected it, so it is not sent again. Put the working client secret in it; the rotator looks again within an hour.`
    : `Credential "${name}": still blocked after ${lastError}: its client secret is not sent again until its client document changes (pulumi up).`;
  return failureResult(
    name,
    { code: lastError, message, transient: false },
    { nextAttempt: recheck, notRecorded, current, now },
  );
}

/**
 * When a held block's source is looked at again: after as long again as it has been blocked
 * (half that to all of it, by the jitter), at least a minute and at most
 * {@link SOURCE_RECHECK_MAX_SECONDS}. The waits grow as the backoff of repeated failures does,
 * with no failure counted: the block's age is its failed-at tag, which a hold leaves alone.
 */
function nextRecheckAt(blockedSince: Date | undefined, now: Date, random: () => number): Date {
  const blockedSeconds = blockedSince ? (now.getTime() - blockedSince.getTime()) / 1000 : 0;
  const waitSeconds = Math.min(SOURCE_RECHECK_MAX_SECONDS, Math.max(SOURCE_RECHECK_MIN_SECONDS, blockedSeconds));
  return nextAttemptAt({ failures: 1, now, random, baseSeconds: waitSeconds, maxSeconds: SOURCE_RECHECK_MAX_SECONDS });
}

/**
 * The result for a credential whose token secret is gone or scheduled for deletion (destroyed
 * while a listing still showed it): nothing to write to, so the issuer is not asked and nothing is
 * recorded.
 */
function gone(name: string, described: store.CredentialListing | undefined): RefreshResult {
  const what = described === undefined ? 'does not exist' : 'is scheduled for deletion';
  const error = new StoreError(
    `Credential "${name}": its token secret ${what}, so nothing is refreshed (the issuer is not asked). Declare the credential again (pulumi up) if it should exist.`,
    {
      credential: name,
      reason: described === undefined ? 'ResourceNotFoundException' : 'ScheduledForDeletion',
      transient: false,
    },
  );
  return {
    credential: name,
    ok: false,
    error: { code: error.code, message: error.message, transient: error.transient },
  };
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
  context: {
    deps: RefreshDeps;
    where: store.SecretStore;
    now: Date;
    current: CurrentToken | undefined;
    /** The token secret as described before the attempt (with this container's memory on top). */
    state: store.CredentialListing | undefined;
    /** The `clientSecretSource` the attempt read, if its client document has one. */
    source: SourceSeen;
  },
): Promise<RefreshResult> {
  const { deps, where, now, current } = context;
  const error = classify(e, name);
  let nextAttempt: Date | undefined;
  let notRecorded: string | undefined;
  try {
    // The describe itself failed: describe once more, so the backoff keeps growing.
    const known = context.state ?? (await describeForFailure(where, name));
    const permanent = blocksUntilClientChanges(error.code);
    if (known !== undefined && !permanent && blockInForce(known)) {
      // A failure that says less than the block in force (a throttled describe, an outage) must
      // not replace it: the issuer would be asked again with credentials it refused.
      return failureResult(name, error, { nextAttempt: undefined, notRecorded: undefined, current, now });
    }
    const failures = (known?.failures ?? 0) + 1;
    // Retry-After never parks a credential past the point where its current token needs replacing.
    const notAfter = current ? new Date(current.expiresAt.getTime() - 2 * deps.lookaheadSeconds * 1000) : undefined;
    // A rejected client secret from a source of the user's, or a source that could not be read
    // (missing, no permission yet), stays blocked but is looked at again (read, not sent) at a
    // slowly growing interval: the source and its permissions change where no client version shows it.
    // Any other refusal (a bad scope, a redirect) is not the source's to mend: blocked as any credential.
    const recheck =
      permanent &&
      ((context.source.sourced === true && error.code === 'InvalidCredentials') ||
        (e instanceof InvalidConfigurationError && e.field?.startsWith('clientSecretSource') === true));
    const backoff = recheck
      ? nextAttemptAt({ failures, now, random: deps.random, maxSeconds: SOURCE_RECHECK_MAX_SECONDS })
      : permanent
        ? undefined
        : nextAttemptAt({ failures, now, retryAfterSeconds: error.retryAfterSeconds, random: deps.random, notAfter });
    // No failure record moves a next attempt earlier than one already in force.
    const inForce = known?.nextAttempt;
    nextAttempt = backoff && inForce && inForce.getTime() > backoff.getTime() ? inForce : backoff;
    const failure = {
      failures,
      lastError: error.code,
      nextAttempt,
      // The described client version: only a new one (tagged by the provider) lifts a permanent block.
      clientVersion: known?.clientVersion,
      // Every block of a sourced credential names the source version it was made with: the source
      // is sent again only once it has another (a stale next-attempt tag makes any block due).
      ...(permanent && context.source.versionId !== undefined ? { sourceVersion: context.source.versionId } : {}),
      // The token this attempt meant to replace: once another is current, this failure is stale.
      tokenVersion: known?.versionId,
    };
    try {
      await deps.writeLimiter?.acquire(nextAttempt ? 1 : 2);
      await store.recordFailure(where, name, { ...failure, failedAt: now });
    } catch (recordError) {
      // Tags refused or throttled: without a record the credential would be due again at the next
      // tick and its issuer asked every minute. This container remembers the backoff instead.
      notRecorded = (isTokenRotatorError(recordError) && recordError.reason) || 'UnknownError';
      deps.memory?.failedUnrecorded(name, failure, now);
    }
  } catch {
    // Only a bug of ours gets here; the credential stays due and the result still reports it.
    nextAttempt = undefined;
  }
  return failureResult(name, error, { nextAttempt, notRecorded, current, now });
}

function failureResult(
  name: string,
  error: FailureSummary,
  outcome: {
    nextAttempt: Date | undefined;
    notRecorded: string | undefined;
    current: CurrentToken | undefined;
    now: Date;
  },
): RefreshResult {
  const { nextAttempt, notRecorded, current, now } = outcome;
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
    ...(notRecorded ? { notRecorded } : {}),
    secondsToExpiry: current ? secondsToExpiry(current, now) : undefined,
    generation: current?.generation,
    expiresAt: current?.expiresAt.toISOString(),
  };
}

/** Whether `state` shows a block that the client document it was made with still holds. */
function blockInForce(state: store.CredentialListing): boolean {
  return blockHolds(state.lastError, state.failedClientVersion, state.clientVersion);
}

/** The current token from the version id, when token-rotator wrote it. */
function currentFromListing(listing: store.CredentialListing): CurrentToken | undefined {
  const version = decodeTokenVersion(listing.versionId);
  if (listing.generation === undefined || !listing.refreshAfter || !listing.expiresAt) return undefined;
  return {
    generation: listing.generation,
    issuedAt: version?.issuedAt,
    refreshAfter: listing.refreshAfter,
    expiresAt: listing.expiresAt,
    client: version?.client,
    digest: version?.digest,
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

/** The longest wait between two looks at the source of a rejected client secret. */
const SOURCE_RECHECK_MAX_SECONDS = 3600;
/** The shortest wait (before jitter) between two looks at it. */
const SOURCE_RECHECK_MIN_SECONDS = 60;

/** A block the refresh found still in force, with nothing that could change the issuer's answer. */
interface BlockHeld {
  held: true;
  /** The client secret comes from a `clientSecretSource` (looked at again later). */
  sourced: boolean;
}

/** What a refresh learnt of the client document's `clientSecretSource`, for its failure record. */
interface SourceSeen {
  /** The client document read has a `clientSecretSource`. */
  sourced?: boolean;
  /** The source's version the client secret was read at. */
  versionId?: string | undefined;
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
 * Obtains the next token with the client document: the cached copy when the token secret's tag
 * shows the version it was read at, else the sweep's batch read of it or a read of its own (then
 * cached). A cached copy the issuer rejects is dropped
 * and the client secret read again: if it (or the `clientSecretSource` it takes its secret from)
 * changed behind a stale tag, the new one is tried once; if not, the rejection stands.
 *
 * While a block is in force (not lifted by a new client document), the issuer is asked only with
 * a client secret it has not rejected: one read afresh from a source whose version differs from
 * the rejected one. Otherwise the block is held ({@link BlockHeld}) and nothing is sent.
 */
async function issueWithClientDocument(
  name: string,
  deps: RefreshDeps,
  listing: store.CredentialListing,
  source: SourceSeen,
  previousGeneration: number,
  /** The operator's override (`refresh --force`): the issuer is asked whatever the source's version. */
  forced: boolean,
): Promise<IssuedWithClient | BlockHeld> {
  const where = { client: deps.secretsManager, prefix: deps.prefix };
  const issueWith = async (read: store.ClientSecretVersion): Promise<IssuedWithClient> => {
    source.sourced = read.document.clientSecretSource !== undefined;
    source.versionId = read.sourceVersionId;
    try {
      return await issue(read.document, read.versionId);
    } catch (e) {
      // Rejected: the next attempt reads the client secret (and its source) afresh.
      if (isTokenRotatorError(e) && blocksUntilClientChanges(e.code)) deps.clientCache?.delete(name);
      throw e;
    }
  };
  const issue = async (doc: store.ClientDocument, clientVersion: string | undefined): Promise<IssuedWithClient> => {
    // Awaited after the client document read, which was sent while the modules load.
    const { issueTokenRecord, lifetimeSecondsOf } = await loadIssuing();
    // The rotator's own interval is the default: it is the one that actually sweeps this credential.
    const policy = resolvePolicy(doc.policy, { credential: name, scheduleIntervalSeconds: deps.lookaheadSeconds });
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
  // A batch read of the sweep's, when it brought this document back; else the single read (which
  // also classifies a missing secret or a refused read).
  const readAhead = async () => {
    const prefetched = await deps.clientPrefetch?.take(name);
    if (prefetched instanceof InvalidConfigurationError) throw prefetched;
    if (!prefetched) return read();
    deps.clientCache?.set(name, prefetched);
    return prefetched;
  };
  const cached = deps.clientCache?.get(name, listing.clientVersion);
  if (blockInForce(listing) && !forced) {
    // An inline client secret changes only with the client document, whose new version lifts the
    // block before this point: a block that is due anyway carries a next-attempt tag that a
    // throttled UntagResource left behind, and the issuer would only get the rejected secret again.
    if (cached && cached.document.clientSecretSource === undefined) return { held: true, sourced: false };
    // A source changes where no client version shows it: read afresh, not from the cache.
    deps.clientCache?.delete(name);
    const fresh = cached ? await read() : await readAhead();
    // A client document newer than the rejected one whose tag has not caught up: new credentials.
    const clientChanged =
      fresh.versionId !== undefined &&
      listing.failedClientVersion !== undefined &&
      fresh.versionId !== listing.failedClientVersion;
    if (clientChanged) return issueWith(fresh);
    if (fresh.document.clientSecretSource === undefined) return { held: true, sourced: false };
    if (fresh.sourceVersionId !== undefined && fresh.sourceVersionId === listing.failedSourceVersion) {
      // Not kept: the cache is keyed by the client document's version, which a new source value
      // does not change, so a later refresh would send this rejected secret before reading again.
      deps.clientCache?.delete(name);
      return { held: true, sourced: true };
    }
    return issueWith(fresh);
  }
  if (!cached) return issueWith(await readAhead());
  try {
    return await issueWith(cached);
  } catch (e) {
    // Only a rejection can be the cached document's fault (credentials rotated behind a stale
    // tag, or in the source it takes its secret from); an outage is not, and re-reading every
    // document during one would only add reads.
    if (!isTokenRotatorError(e) || !blocksUntilClientChanges(e.code)) throw e;
    const fresh = await read();
    if (fresh.versionId === cached.versionId && fresh.sourceVersionId === cached.sourceVersionId) throw e;
    return issueWith(fresh);
  }
}

/** The current token record; a stored value that is not one is replaced by a good one, not a reason to stop. */
async function readCurrentToken(where: store.SecretStore, name: string): Promise<CurrentToken | undefined> {
  try {
    const record = await store.readToken(where, name);
    return record
      ? {
          generation: record.generation,
          issuedAt: new Date(record.issuedAt),
          refreshAfter: new Date(record.refreshAfter),
          expiresAt: new Date(record.expiresAt),
          accessToken: record.accessToken,
        }
      : undefined;
  } catch (e) {
    // A failed read (throttling, access) is a failed refresh: writing now would restart the
    // generation count at 1 over a token we could not see. So is a record of a newer major
    // version: a newer rotator wrote it, and this one must not step the fleet back.
    if (e instanceof InvalidTokenRecordError && e.reason !== NEWER_TOKEN_RECORD_REASON) return undefined;
    throw e;
  }
}

/** The token secret's listing (failure count, current version), best effort. */
async function describeForFailure(
  where: store.SecretStore,
  name: string,
): Promise<store.CredentialListing | undefined> {
  try {
    return await store.describeTokenListing(where, name);
  } catch {
    return undefined;
  }
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
