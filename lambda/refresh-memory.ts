/**
 * What one rotator container knows that Secrets Manager may not show yet: its own recent token
 * writes, and the failures it could not record in tags.
 *
 * AWS: "All Secrets Manager operations are eventually consistent. ListSecrets might not reflect
 * changes from the last five minutes." A sweep plans from ListSecrets, so without this memory a
 * container would see its own write of a minute ago as still due at every tick for five minutes
 * (each time a DescribeSecret to find out it is not). And a failure whose tags could not be written
 * (TagResource denied or throttled) leaves no backoff anywhere: remembered here, the credential is
 * not retried before its backoff by this container. The memory is a shortcut and a safety net,
 * never the truth: every refresh still describes its token secret before it asks an issuer.
 */
import { blocksUntilClientChanges } from '../core/errors';
import type { CredentialListing } from '../core/store';
import { blockHolds } from './plan';

/** A token write this container made. */
export interface RememberedWrite {
  versionId: string;
  generation: number;
  refreshAfter: Date;
  expiresAt: Date;
}

/** A failure this container could not record in the token secret's tags. */
export interface RememberedFailure {
  failures: number;
  lastError: string;
  /** Absent after a permanent failure (blocked until the client document changes). */
  nextAttempt?: Date | undefined;
  /** The client document version the failed attempt used. */
  clientVersion?: string | undefined;
  /** The `clientSecretSource` version a rejected attempt used, for a credential that has one. */
  sourceVersion?: string | undefined;
  /** The token version current when it failed: a later write makes the failure stale. */
  tokenVersion?: string | undefined;
}

/**
 * Twice the five minutes ListSecrets may lag: by then the listing shows a write, so remembering it
 * longer would only cost memory.
 */
export const REMEMBER_WRITES_MS = 10 * 60_000;
/** How long an unrecorded permanent failure (no next attempt) is remembered. */
export const REMEMBER_BLOCK_MS = 24 * 3600_000;
/** Most credentials remembered; past it the oldest entry goes first. */
const DEFAULT_MAX_ENTRIES = 20_000;

interface Entry<T> {
  value: T;
  until: number;
}

/** One per container (create it with the handler); never shared across prefixes or accounts. */
export class RefreshMemory {
  readonly #writes = new Map<string, Entry<RememberedWrite>>();
  readonly #failures = new Map<string, Entry<RememberedFailure>>();
  readonly #maxEntries: number;

  constructor(options: { maxEntries?: number } = {}) {
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  }

  /** Remembers a token this container wrote; it supersedes any unrecorded failure. */
  wrote(credential: string, write: RememberedWrite, now: Date): void {
    this.#failures.delete(credential);
    put(this.#writes, credential, { value: write, until: now.getTime() + REMEMBER_WRITES_MS }, this.#maxEntries);
  }

  /**
   * Remembers a failure whose tags could not be written: a backoff until its next attempt, a block
   * for {@link REMEMBER_BLOCK_MS} whatever its next look at a source (past that look, it still
   * names the source version the issuer rejected, which the tags may not).
   */
  failedUnrecorded(credential: string, failure: RememberedFailure, now: Date): void {
    const block = blocksUntilClientChanges(failure.lastError);
    const until = block
      ? Math.max(failure.nextAttempt?.getTime() ?? 0, now.getTime() + REMEMBER_BLOCK_MS)
      : (failure.nextAttempt?.getTime() ?? now.getTime() + REMEMBER_BLOCK_MS);
    put(this.#failures, credential, { value: failure, until }, this.#maxEntries);
  }

  /**
   * `listing` with what this container knows on top: a newer write of its own replaces the listed
   * token state (and the failure tags it superseded); an unrecorded failure against the listed
   * token adds its backoff or block. Entries past their time are dropped on the way.
   */
  overlay(listing: CredentialListing, now: Date): CredentialListing {
    const at = now.getTime();
    let out = listing;
    const write = live(this.#writes, listing.name, at);
    if (write && (listing.generation === undefined || listing.generation < write.generation)) {
      out = {
        name: listing.name,
        tokenSecretArn: listing.tokenSecretArn,
        ...(listing.clientVersion !== undefined ? { clientVersion: listing.clientVersion } : {}),
        ...(listing.writeBudget !== undefined ? { writeBudget: listing.writeBudget } : {}),
        ...(listing.deletedDate !== undefined ? { deletedDate: listing.deletedDate } : {}),
        versionId: write.versionId,
        generation: write.generation,
        refreshAfter: write.refreshAfter,
        expiresAt: write.expiresAt,
        failures: 0,
        // The tags the listing shows were written against an older version: the write replaced them.
        ...(listing.failures > 0 || listing.lastError || listing.staleFailureTags ? { staleFailureTags: true } : {}),
      };
    }
    const failure = live(this.#failures, listing.name, at);
    if (failure) {
      if (failure.tokenVersion !== undefined && out.versionId !== undefined && failure.tokenVersion !== out.versionId) {
        // Someone wrote a token since: the failure no longer says anything about the current one.
        this.#failures.delete(listing.name);
      } else {
        out = mergeFailure(out, failure);
      }
    }
    return out;
  }

  /** Entries held (both kinds), for tests and metrics. */
  get size(): number {
    return this.#writes.size + this.#failures.size;
  }
}

/**
 * The listing with a remembered failure on top. A failure holds while it is a backoff, or a block
 * made with the client document the token secret is tagged with (a new one lifts it). Of two that
 * hold, whichever says more wins: a block over a backoff, the later of two next attempts. Of two
 * blocks, the listed one, with the higher failure count, the remembered source version and the
 * later of their next looks at a source; a block with none (an inline client secret's) is the
 * later: a next-attempt tag that an UntagResource failed to remove makes no recheck of it.
 */
function mergeFailure(listing: CredentialListing, failure: RememberedFailure): CredentialListing {
  // A backoff holds; a block holds until a new client version lifts it.
  const holds = (lastError: string | undefined, clientVersion: string | undefined) =>
    lastError !== undefined &&
    (!blocksUntilClientChanges(lastError) || blockHolds(lastError, clientVersion, listing.clientVersion));
  const listedHolds = holds(listing.lastError, listing.failedClientVersion);
  if (!holds(failure.lastError, failure.clientVersion)) return listing;
  const remembered: CredentialListing = {
    ...listing,
    failures: Math.max(failure.failures, listing.failures),
    lastError: failure.lastError,
    nextAttempt: failure.nextAttempt,
    failedClientVersion: failure.clientVersion,
    ...(failure.sourceVersion !== undefined ? { failedSourceVersion: failure.sourceVersion } : {}),
  };
  if (!listedHolds || blocksUntilClientChanges(failure.lastError)) {
    if (!listedHolds || !blocksUntilClientChanges(listing.lastError)) return remembered;
    const listedLook = listing.nextAttempt;
    const rememberedLook = failure.nextAttempt;
    const look =
      listedLook === undefined || rememberedLook === undefined
        ? undefined
        : rememberedLook.getTime() > listedLook.getTime()
          ? rememberedLook
          : listedLook;
    // The remembered block is this container's later knowledge: the source version the issuer
    // rejected last, which the tags could not take.
    return {
      ...listing,
      failures: remembered.failures,
      nextAttempt: look,
      ...(failure.sourceVersion !== undefined ? { failedSourceVersion: failure.sourceVersion } : {}),
    };
  }
  if (blocksUntilClientChanges(listing.lastError)) return listing;
  const later =
    failure.nextAttempt !== undefined &&
    (listing.nextAttempt === undefined || failure.nextAttempt.getTime() > listing.nextAttempt.getTime());
  return { ...listing, failures: remembered.failures, ...(later ? { nextAttempt: failure.nextAttempt } : {}) };
}

function put<T>(map: Map<string, Entry<T>>, key: string, entry: Entry<T>, max: number): void {
  map.delete(key);
  map.set(key, entry);
  if (map.size > max) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
}

function live<T>(map: Map<string, Entry<T>>, key: string, at: number): T | undefined {
  const entry = map.get(key);
  if (entry === undefined) return undefined;
  if (entry.until <= at) {
    map.delete(key);
    return undefined;
  }
  return entry.value;
}
