/**
 * The version id of a token write, as a codec: what a sweep needs to know of the current token
 * (generation, refresh-after, expiry, a digest of the token) travels in the `ClientRequestToken`
 * of its `PutSecretValue`, which Secrets Manager keeps as the version id and lists, for every
 * secret, in `ListSecrets`' `SecretVersionsToStages`. A sweep therefore reads the state of every
 * token from the listing alone, and a refresh writes value and state in one call: no tag write
 * after each refresh, and tags can never disagree with the value they describe.
 *
 * Layout (44–56 characters, inside Secrets Manager's 32–64):
 * `tr1-<generation>-<refreshAfter>-<expiresAt>-<digest>`, numbers in base 36 (instants in epoch
 * seconds), digest = the first 24 hex digits of SHA-256 over credential, generation and access
 * token. The digest keeps the write idempotent (a retried write of the same record maps to the
 * same version) and never reveals the token.
 */
import { createHash } from 'node:crypto';

/** What a token version id carries. Instants are whole epoch seconds. */
export interface TokenVersion {
  generation: number;
  refreshAfter: Date;
  expiresAt: Date;
  /** 24 hex digits of SHA-256(credential, generation, accessToken). */
  digest: string;
}

const VERSION_PREFIX = 'tr1';
const DIGEST_HEX = 24;
// Bounds keep a decoded id meaningful: a generation Number can hold exactly, and instants
// between 2001 and 2286 (10 decimal digits of epoch seconds).
const MAX_GENERATION = Number.MAX_SAFE_INTEGER;
const MIN_EPOCH_SECONDS = 1_000_000_000;
const MAX_EPOCH_SECONDS = 9_999_999_999;
const VERSION_ID = /^tr1-([0-9a-z]{1,11})-([0-9a-z]{1,7})-([0-9a-z]{1,7})-([0-9a-f]{24})$/;

/** The token fields a version id is made from. */
export interface TokenVersionInput {
  credential: string;
  generation: number;
  accessToken: string;
  refreshAfter: string | Date;
  expiresAt: string | Date;
}

/** The digest of a token as stored in its version id: never the token, enough to recognise a repeat. */
export function tokenDigest(record: Pick<TokenVersionInput, 'credential' | 'generation' | 'accessToken'>): string {
  return createHash('sha256')
    .update(`${record.credential}\u0000${record.generation}\u0000${record.accessToken}`, 'utf8')
    .digest('hex')
    .slice(0, DIGEST_HEX);
}

/**
 * The version id of a token write.
 *
 * @throws {RangeError} when the generation or an instant is out of the codec's bounds (a record
 * that passed the token schema and the expiry checks never is).
 *
 * @example
 * ```ts
 * encodeTokenVersion(record); // 'tr1-2a-t5a2kg-t5a3c0-3f1c…'
 * ```
 */
export function encodeTokenVersion(record: TokenVersionInput): string {
  if (!Number.isSafeInteger(record.generation) || record.generation < 0) {
    throw new RangeError('token version: generation must be a whole number from 0');
  }
  const refreshAfter = epochSecondsOf(record.refreshAfter, 'refreshAfter');
  const expiresAt = epochSecondsOf(record.expiresAt, 'expiresAt');
  return [
    VERSION_PREFIX,
    record.generation.toString(36),
    refreshAfter.toString(36),
    expiresAt.toString(36),
    tokenDigest(record),
  ].join('-');
}

/**
 * Decodes a version id written by {@link encodeTokenVersion}; `undefined` for any other id (a
 * UUID of an older token-rotator, a version written by hand), which callers treat as "unknown:
 * read the tags or the value".
 */
export function decodeTokenVersion(versionId: string | undefined): TokenVersion | undefined {
  if (versionId === undefined || versionId.length > 64) return undefined;
  const m = VERSION_ID.exec(versionId);
  if (!m) return undefined;
  const [, gen = '', refresh = '', expires = '', digest = ''] = m;
  const generation = Number.parseInt(gen, 36);
  const refreshAfter = Number.parseInt(refresh, 36);
  const expiresAt = Number.parseInt(expires, 36);
  if (!Number.isSafeInteger(generation) || generation > MAX_GENERATION) return undefined;
  if (!plausibleEpoch(refreshAfter) || !plausibleEpoch(expiresAt) || refreshAfter > expiresAt) return undefined;
  return {
    generation,
    refreshAfter: new Date(refreshAfter * 1000),
    expiresAt: new Date(expiresAt * 1000),
    digest,
  };
}

/** The version id labelled `AWSCURRENT` in a `SecretVersionsToStages` (or `VersionIdsToStages`) map. */
export function currentVersionId(
  stages: Record<string, readonly string[] | undefined> | undefined,
): string | undefined {
  for (const [id, labels] of Object.entries(stages ?? {})) if (labels?.includes('AWSCURRENT')) return id;
  return undefined;
}

function epochSecondsOf(value: string | Date, field: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : value.getTime();
  const seconds = Math.floor(ms / 1000);
  if (!plausibleEpoch(seconds)) throw new RangeError(`token version: ${field} is not an instant between 2001 and 2286`);
  return seconds;
}

function plausibleEpoch(seconds: number): boolean {
  return Number.isSafeInteger(seconds) && seconds >= MIN_EPOCH_SECONDS && seconds <= MAX_EPOCH_SECONDS;
}
