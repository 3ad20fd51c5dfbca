/**
 * What a sweep needs without reading a value: every token secret under a prefix from ListSecrets
 * (state from its version id, failures and client version from its tags), one credential's
 * listing from DescribeSecret, and the tags that record a failed refresh.
 */
import {
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  type Filter,
  paginateListSecrets,
  type SecretListEntry,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { type ErrorCode, InvalidConfigurationError } from '../errors';
import { currentVersionId, decodeTokenVersion } from '../token-version';
import { call, isAwsError, storeError } from './aws-errors';
import { assertPrefix, parseSecretName, prefixOf, type SecretStore, secretNames } from './names';
import { epochSeconds, fromEpochSeconds, TAG_KEYS, tagList, tagMap } from './tags';

const ERROR_CODE = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * What the rotator knows of one credential from its token secret's metadata alone (ListSecrets or
 * DescribeSecret; no value read): the token's state from the current version id, failures and the
 * client version from its tags. A listing from ListSecrets may be up to five minutes old (AWS:
 * "ListSecrets might not reflect changes from the last five minutes"), so it is a hint of what may be
 * due; one from DescribeSecret is AWS's documented fresher view.
 */
export interface CredentialListing {
  name: string;
  tokenSecretArn: string;
  /** From the current version id; absent when token-rotator did not write that version. */
  refreshAfter?: Date | undefined;
  /** Like `refreshAfter`. */
  expiresAt?: Date | undefined;
  /** The current token's generation, when its version id carries it. */
  generation?: number | undefined;
  /** The AWSCURRENT version id of the token secret. */
  versionId?: string | undefined;
  /** The client document's version id, as tagged by its writer. */
  clientVersion?: string | undefined;
  /** The client version a permanent failure was recorded with. */
  failedClientVersion?: string | undefined;
  /** The `clientSecretSource` version a permanent failure was recorded with (see TAG_KEYS.failedSourceVersion). */
  failedSourceVersion?: string | undefined;
  /** The `write-budget` tag (`breached` or `ok`); absent means never breached. */
  writeBudget?: string | undefined;
  failures: number;
  lastError?: string | undefined;
  nextAttempt?: Date | undefined;
  failedAt?: Date | undefined;
  /**
   * The failure tags were recorded against a token version that is no longer current (a later
   * write succeeded): they are left out of `failures`, `lastError`, `nextAttempt`, `failedAt` and
   * `failedClientVersion`, and the next write removes them.
   */
  staleFailureTags?: boolean | undefined;
  /** Set when the token secret is scheduled for deletion (listed only with `includePlannedDeletion`). */
  deletedDate?: Date | undefined;
}

/**
 * The tag key every token secret carries from its creation and no client secret does: what the
 * listing filters on, so that it lists token secrets only (one page per 100 credentials, not 50).
 */
const TOKEN_SECRET_TAG_KEY = TAG_KEYS.clientVersion;

/**
 * Lists every credential under the store's prefix from `ListSecrets` alone (filtered on the
 * server by name prefix and the token secrets' tag keys), never reading a secret value: the
 * token's state comes from its current version id (core/token-version.ts), failures and the
 * client version from its tags. Secrets scheduled for deletion are skipped unless
 * `includePlannedDeletion` is set.
 *
 * @example
 * ```ts
 * for await (const c of listCredentials({ client })) {
 *   if (c.refreshAfter && c.refreshAfter < horizon) due.push(c.name);
 * }
 * ```
 */
export async function* listCredentials(
  store: SecretStore,
  options: { includePlannedDeletion?: boolean; pageSize?: number } = {},
): AsyncGenerator<CredentialListing> {
  const prefix = prefixOf(store);
  assertPrefix(prefix);
  const filters: Filter[] = [{ Key: 'tag-key', Values: [TOKEN_SECRET_TAG_KEY] }];
  // An empty name filter value is not a prefix match on AWS; without a prefix, the tag does the work.
  if (prefix !== '') filters.unshift({ Key: 'name', Values: [prefix] });
  const pages = paginateListSecrets(
    { client: store.client, pageSize: options.pageSize ?? 100 },
    { Filters: filters, IncludePlannedDeletion: options.includePlannedDeletion === true },
  );
  try {
    for await (const page of pages) {
      for (const entry of page.SecretList ?? []) {
        if (entry.DeletedDate && !options.includePlannedDeletion) continue;
        const parsed = parseSecretName(entry.Name, prefix);
        // A tagged client secret (by hand) is not a token: its credential is listed by its token secret.
        if (parsed?.kind !== 'token') continue;
        yield listingOf(parsed.name, entry);
      }
    }
  } catch (e) {
    throw storeError(e, undefined, 'ListSecrets');
  }
}

/** One token secret's listing entry as a {@link CredentialListing}. */
export function listingOf(name: string, entry: SecretListEntry): CredentialListing {
  const tags = tagMap(entry.Tags);
  const failures = Number(tags[TAG_KEYS.failures] ?? '0');
  const versionId = currentVersionId(entry.SecretVersionsToStages);
  const version = decodeTokenVersion(versionId);
  // A failure recorded against another version than the current one: a write succeeded after it.
  const failedVersion = tags[TAG_KEYS.failedVersion];
  const stale = failedVersion !== undefined && versionId !== undefined && failedVersion !== versionId;
  const failure = stale ? {} : tags;
  return {
    name,
    tokenSecretArn: entry.ARN ?? '',
    ...(version
      ? { generation: version.generation, refreshAfter: version.refreshAfter, expiresAt: version.expiresAt }
      : {}),
    ...(versionId ? { versionId } : {}),
    ...(tags[TAG_KEYS.clientVersion] ? { clientVersion: tags[TAG_KEYS.clientVersion] } : {}),
    ...(failure[TAG_KEYS.failedClientVersion] ? { failedClientVersion: failure[TAG_KEYS.failedClientVersion] } : {}),
    ...(failure[TAG_KEYS.failedSourceVersion] ? { failedSourceVersion: failure[TAG_KEYS.failedSourceVersion] } : {}),
    ...(tags[TAG_KEYS.writeBudget] ? { writeBudget: tags[TAG_KEYS.writeBudget] } : {}),
    failures: !stale && Number.isInteger(failures) && failures >= 0 ? failures : 0,
    lastError: failure[TAG_KEYS.lastError] || undefined,
    nextAttempt: fromEpochSeconds(failure[TAG_KEYS.nextAttempt]),
    failedAt: fromEpochSeconds(failure[TAG_KEYS.failedAt]),
    ...(stale ? { staleFailureTags: true } : {}),
    ...(entry.DeletedDate ? { deletedDate: entry.DeletedDate } : {}),
  };
}

/**
 * The listing of one credential's token secret from `DescribeSecret` (metadata only, no value):
 * what a targeted refresh, which has no sweep listing, knows before it refreshes.
 *
 * @returns `undefined` when the token secret does not exist.
 */
export async function describeTokenListing(store: SecretStore, name: string): Promise<CredentialListing | undefined> {
  const names = secretNames(name, prefixOf(store));
  let out: DescribeSecretCommandOutput;
  try {
    out = await store.client.send(new DescribeSecretCommand({ SecretId: names.token }));
  } catch (e) {
    if (isAwsError(e, 'ResourceNotFoundException')) return undefined;
    throw storeError(e, name, 'DescribeSecret');
  }
  return listingOf(name, { ...out, SecretVersionsToStages: out.VersionIdsToStages });
}

/** Input of {@link recordFailure}. */
export interface FailureRecord {
  /** Consecutive failures, this one included. */
  failures: number;
  /** A short error code (`IssuerUnavailable`), never a message: `^[A-Za-z0-9_-]{1,64}$`. */
  lastError: ErrorCode | string;
  /** When to try again; absent after a permanent failure (nothing to retry until the client secret changes). */
  nextAttempt?: Date | undefined;
  /** When this failure happened. */
  failedAt?: Date | undefined;
  /** The client document version the failed attempt used (a newer one lifts a permanent block). */
  clientVersion?: string | undefined;
  /** The `clientSecretSource` version the failed attempt used, for a credential that has one. */
  sourceVersion?: string | undefined;
  /**
   * The version id of the token current when the attempt started (as listed): the failure
   * counts only while that version is current. Without it (no version was listed), the tag is
   * left as it is: an earlier failure's, which still counts while its version is current, or none,
   * since every good write removes it.
   */
  tokenVersion?: string | undefined;
}

/**
 * Records a failed refresh in the token secret's tags (`failures`, `last-error`,
 * `next-attempt`, `failed-at`, and the token version it failed against, `failed-version`). Only tags change: the token value stays as it was, readable
 * until its own `expiresAt`.
 *
 * @throws {InvalidConfigurationError} when `lastError` is not a short code, so that no upstream
 * text can ever land in a tag.
 */
export async function recordFailure(store: SecretStore, name: string, failure: FailureRecord): Promise<void> {
  const names = secretNames(name, prefixOf(store));
  if (typeof failure.lastError !== 'string' || !ERROR_CODE.test(failure.lastError)) {
    throw new InvalidConfigurationError(
      `Credential "${name}": lastError must be a short error code of letters, digits, _ and - (at most 64), not a message.`,
      { credential: name, field: 'lastError' },
    );
  }
  if (!Number.isInteger(failure.failures) || failure.failures < 0) {
    throw new InvalidConfigurationError(`Credential "${name}": failures must be a whole number of at least 0.`, {
      credential: name,
      field: 'failures',
    });
  }
  const tags: Record<string, string> = {
    [TAG_KEYS.failures]: String(failure.failures),
    [TAG_KEYS.lastError]: failure.lastError,
  };
  if (failure.nextAttempt) tags[TAG_KEYS.nextAttempt] = epochSeconds(failure.nextAttempt);
  if (failure.failedAt) tags[TAG_KEYS.failedAt] = epochSeconds(failure.failedAt);
  if (failure.clientVersion) tags[TAG_KEYS.failedClientVersion] = failure.clientVersion;
  if (failure.sourceVersion) tags[TAG_KEYS.failedSourceVersion] = failure.sourceVersion;
  if (failure.tokenVersion) tags[TAG_KEYS.failedVersion] = failure.tokenVersion;
  await call(name, 'TagResource', () =>
    store.client.send(new TagResourceCommand({ SecretId: names.token, Tags: tagList(tags) })),
  );
  if (!failure.nextAttempt) {
    // A stale next-attempt from an earlier transient failure would otherwise outlive this one.
    await call(name, 'UntagResource', () =>
      store.client.send(new UntagResourceCommand({ SecretId: names.token, TagKeys: [TAG_KEYS.nextAttempt] })),
    );
  }
}
