/**
 * What a sweep needs without reading a value: every credential under a prefix from ListSecrets
 * and its tags, and the tags that record a failed refresh.
 */
import {
  type Filter,
  paginateListSecrets,
  type SecretListEntry,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { type ErrorCode, InvalidConfigurationError } from '../errors';
import { call, storeError } from './aws-errors';
import { assertPrefix, parseSecretName, prefixOf, type SecretStore, secretNames } from './names';
import { epochSeconds, fromEpochSeconds, TAG_KEYS, tagList, tagMap } from './tags';

const ERROR_CODE = /^[A-Za-z0-9_-]{1,64}$/;

/** What a sweep knows of one credential, from the tags of its secrets alone. */
export interface CredentialListing {
  name: string;
  tokenSecretArn: string;
  refreshAfter?: Date | undefined;
  expiresAt?: Date | undefined;
  failures: number;
  lastError?: string | undefined;
  nextAttempt?: Date | undefined;
  failedAt?: Date | undefined;
  /** When the client secret last changed (new credentials lift a block left by rejected ones). */
  clientChangedAt?: Date | undefined;
  /** Set only when listing with `includePlannedDeletion`: when the token secret was scheduled for deletion. */
  deletedDate?: Date | undefined;
}

/**
 * Lists every credential under the store's prefix from `ListSecrets` alone (filtered by name
 * prefix and the credential tag key on the server side), never reading a secret value.
 * Secrets scheduled for deletion are skipped unless `includePlannedDeletion` is set.
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
  const filters: Filter[] = [{ Key: 'tag-key', Values: [TAG_KEYS.credential] }];
  // An empty name filter value is not a prefix match on AWS; without a prefix, the tag does the work.
  if (prefix !== '') filters.unshift({ Key: 'name', Values: [prefix] });

  // The /client and /token secrets of one credential are created one after the other, so they
  // usually arrive together; a token waits here only until its client secret shows up.
  const clientChanged = new Map<string, Date | undefined>();
  const waiting = new Map<string, CredentialListing>();
  const pages = paginateListSecrets(
    { client: store.client, pageSize: options.pageSize ?? 100 },
    { Filters: filters, IncludePlannedDeletion: options.includePlannedDeletion === true },
  );
  try {
    for await (const page of pages) {
      for (const entry of page.SecretList ?? []) {
        if (entry.DeletedDate && !options.includePlannedDeletion) continue;
        const parsed = parseSecretName(entry.Name, prefix);
        if (!parsed) continue;
        if (parsed.kind === 'client') {
          clientChanged.set(parsed.name, entry.LastChangedDate);
          const listing = waiting.get(parsed.name);
          if (listing) {
            waiting.delete(parsed.name);
            yield { ...listing, clientChangedAt: entry.LastChangedDate };
          }
          continue;
        }
        const listing = listingOf(parsed.name, entry);
        if (clientChanged.has(parsed.name)) yield { ...listing, clientChangedAt: clientChanged.get(parsed.name) };
        else waiting.set(parsed.name, listing);
      }
    }
  } catch (e) {
    throw storeError(e, undefined, 'ListSecrets');
  }
  // Tokens whose client secret is missing are still listed: a sweep reports them as failing.
  yield* waiting.values();
}

function listingOf(name: string, entry: SecretListEntry): CredentialListing {
  const tags = tagMap(entry.Tags);
  const failures = Number(tags[TAG_KEYS.failures] ?? '0');
  return {
    name,
    tokenSecretArn: entry.ARN ?? '',
    refreshAfter: fromEpochSeconds(tags[TAG_KEYS.refreshAfter]),
    expiresAt: fromEpochSeconds(tags[TAG_KEYS.expiresAt]),
    failures: Number.isInteger(failures) && failures >= 0 ? failures : 0,
    lastError: tags[TAG_KEYS.lastError] || undefined,
    nextAttempt: fromEpochSeconds(tags[TAG_KEYS.nextAttempt]),
    failedAt: fromEpochSeconds(tags[TAG_KEYS.failedAt]),
    ...(entry.DeletedDate ? { deletedDate: entry.DeletedDate } : {}),
  };
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
}

/**
 * Records a failed refresh in the token secret's tags (`failures`, `last-error`,
 * `next-attempt`, `failed-at`). Only tags change: the token value stays as it was, readable
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
