/**
 * The version id of a token write, as a codec: what the rotator needs to know of the current token
 * (generation, when it was issued, refresh-after, expiry, which client document it was obtained
 * with, a digest of the token) travels in the `ClientRequestToken` of its `PutSecretValue`, which
 * Secrets Manager keeps as the version id and shows, for every secret, in `ListSecrets`'
 * `SecretVersionsToStages` and `DescribeSecret`'s `VersionIdsToStages`. The state of every token is
 * therefore read from metadata alone, and a refresh writes value and state in one call: tags can
 * never disagree with the value they describe.
 *
 * Layout (at most 63 characters, inside Secrets Manager's 32–64):
 * `tr1-<generation>-<issuedAt>-<refreshAfter>-<expiresAt>-<client>-<digest>`, numbers in base 36
 * (instants in epoch seconds), `client` = 6 hex digits of SHA-256 over the client document's version
 * id, `digest` = 16 hex digits of SHA-256 over credential, generation and access token. The digest
 * keeps the write idempotent (a retried write of the same record maps to the same version) and
 * never reveals the token.
 */
import { createHash } from 'node:crypto';

/** What a token version id carries. Instants are whole epoch seconds. */
export interface TokenVersion {
  generation: number;
  /** When the token was obtained (our clock when its request was sent). */
  issuedAt: Date;
  refreshAfter: Date;
  expiresAt: Date;
  /** {@link clientFingerprint} of the client document version the token was obtained with. */
  client: string;
  /** 16 hex digits of SHA-256(credential, generation, accessToken). */
  digest: string;
}

const VERSION_PREFIX = 'tr1';
const DIGEST_HEX = 16;
const CLIENT_HEX = 6;
// Bounds keep a decoded id meaningful: a generation Number can hold exactly, and instants
// between 2001 and 2286 (10 decimal digits of epoch seconds).
const MIN_EPOCH_SECONDS = 1_000_000_000;
const MAX_EPOCH_SECONDS = 9_999_999_999;
const VERSION_ID =
  /^tr1-([0-9a-z]{1,11})-([0-9a-z]{1,7})-([0-9a-z]{1,7})-([0-9a-z]{1,7})-([0-9a-f]{6})-([0-9a-f]{16})$/;

/** The token fields a version id is made from. */
export interface TokenVersionInput {
  credential: string;
  generation: number;
  accessToken: string;
  issuedAt: string | Date;
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
 * The short fingerprint of a client document version id carried in a token's version id, so that
 * a token obtained with an older client document is told from metadata alone. An unknown version
 * (`undefined`) has a fingerprint of its own.
 */
export function clientFingerprint(clientVersion: string | undefined): string {
  return createHash('sha256')
    .update(clientVersion ?? '', 'utf8')
    .digest('hex')
    .slice(0, CLIENT_HEX);
}

/**
 * The version id of a token write.
 *
 * @param clientVersion the version id of the client document the token was obtained with.
 * @throws {RangeError} when the generation or an instant is out of the codec's bounds (a record
 * that passed the token schema and the expiry checks never is).
 *
 * @example
 * ```ts
 * encodeTokenVersion(record, clientVersion); // 'tr1-2a-t5a1s0-t5a2kg-t5a3c0-9c41d2-3f1c…'
 * ```
 */
export function encodeTokenVersion(record: TokenVersionInput, clientVersion: string | undefined): string {
  if (!Number.isSafeInteger(record.generation) || record.generation < 0) {
    throw new RangeError('token version: generation must be a whole number from 0');
  }
  return [
    VERSION_PREFIX,
    record.generation.toString(36),
    epochSecondsOf(record.issuedAt, 'issuedAt').toString(36),
    epochSecondsOf(record.refreshAfter, 'refreshAfter').toString(36),
    epochSecondsOf(record.expiresAt, 'expiresAt').toString(36),
    clientFingerprint(clientVersion),
    tokenDigest(record),
  ].join('-');
}

/**
 * Decodes a version id written by {@link encodeTokenVersion}; `undefined` for any other id (a
 * version written by hand or by another tool), which callers treat as "unknown: read the value".
 */
export function decodeTokenVersion(versionId: string | undefined): TokenVersion | undefined {
  if (versionId === undefined || versionId.length > 64) return undefined;
  const m = VERSION_ID.exec(versionId);
  if (!m) return undefined;
  const [, gen = '', issued = '', refresh = '', expires = '', client = '', digest = ''] = m;
  const generation = Number.parseInt(gen, 36);
  const [issuedAt, refreshAfter, expiresAt] = [issued, refresh, expires].map((v) => Number.parseInt(v, 36)) as [
    number,
    number,
    number,
  ];
  if (!Number.isSafeInteger(generation)) return undefined;
  if (![issuedAt, refreshAfter, expiresAt].every(plausibleEpoch)) return undefined;
  if (issuedAt > expiresAt || refreshAfter > expiresAt) return undefined;
  return {
    generation,
    issuedAt: new Date(issuedAt * 1000),
    refreshAfter: new Date(refreshAfter * 1000),
    expiresAt: new Date(expiresAt * 1000),
    client,
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
