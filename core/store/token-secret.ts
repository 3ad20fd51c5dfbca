/**
 * The token secret of an existing credential: writing the token record as its current version,
 * bringing its tags in line with that record, and reading the record back.
 */
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  type PutSecretValueCommandOutput,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { parseTokenRecord, type TokenRecord } from '../token';
import { encodeTokenVersion } from '../token-version';
import { call, isAwsError, storeError } from './aws-errors';
import { prefixOf, type SecretStore, secretNames } from './names';
import { STALE_AFTER_WRITE_TAG_KEYS, TAG_KEYS, tagList, writeBudgetTagValue } from './tags';
import { validatedRecord } from './validation';

/**
 * Writes a new token record as the current version of the token secret. Its version id
 * (core/token-version.ts) carries generation, refresh-after and expiry, so the write is the
 * whole refresh: no tag call follows unless there is something to change (see {@link tagToken}).
 * The write is idempotent: a retry of the same record maps to the same version.
 *
 * Then, unless `clearFailureTags: false`, one UntagResource removes the failure tags. Pass
 * `false` when the caller knows that none is set: tag calls have a small quota of their own.
 * `clientVersion`, when given, is tagged as the client version the token goes with (a refresh
 * that read a newer client document than the tag names: its writer's tag call was lost);
 * the `write-budget` tag is written only when the breach state changes. If a tag call fails
 * after the value was written, the token is still good (putToken throws all the same; a caller
 * that must tell the two apart writes with {@link putTokenValue} and tags with {@link tagToken});
 * the next sweep sees the tags left and removes them with its next write.
 *
 * @returns the version id of the written version.
 *
 * @example
 * ```ts
 * const versionId = await putToken({ client, prefix }, record);
 * ```
 */
export async function putToken(
  store: SecretStore,
  record: TokenRecord,
  options: TagTokenOptions & { obtainedWith?: string | undefined } = {},
): Promise<string> {
  const written = await putTokenValue(store, record, options.obtainedWith);
  if (written.written) await tagToken(store, record, options);
  return written.versionId;
}

/** What {@link putTokenValue} did. */
export interface WrittenToken {
  /** The version id of the stored version. */
  versionId: string;
  /**
   * False when this very token was already stored as this generation (another writer's): its
   * writer tags it, so the caller must not.
   */
  written: boolean;
}

/**
 * The value half of {@link putToken}: writes the record as the current version, with no tag call.
 * For a caller that tags separately and must tell a failed write (nothing stored) from a failed
 * tag call after it (the token is stored and good).
 *
 * @param obtainedWith the version id of the client document the token was obtained with (carried
 * in the version id: a forced refresh may pass the floor for a token of an older document).
 * @throws {StoreError} when Secrets Manager refuses or fails the write.
 */
export async function putTokenValue(
  store: SecretStore,
  record: TokenRecord,
  obtainedWith: string | undefined,
): Promise<WrittenToken> {
  const name = record.credential;
  const names = secretNames(name, prefixOf(store));
  const valid = validatedRecord(record, name);
  const versionId = encodeTokenVersion(valid, obtainedWith);
  let out: PutSecretValueCommandOutput;
  try {
    out = await store.client.send(
      new PutSecretValueCommand({
        SecretId: names.token,
        SecretString: JSON.stringify(valid),
        ClientRequestToken: versionId,
      }),
    );
  } catch (e) {
    // The version id derives from credential, generation and token, so it is taken only when this
    // very token is already stored as this generation: a concurrent refresh got the same token
    // from the issuer (same client, same second) with another jitter. Nothing is lost; its writer
    // tags its own record, and tagging ours would make the tags disagree with the stored value.
    if (isAwsError(e, 'ResourceExistsException')) return { versionId, written: false };
    throw storeError(e, name, 'PutSecretValue');
  }
  return { versionId: out.VersionId ?? versionId, written: true };
}

/** Options of {@link putToken} and {@link tagToken}. */
export interface TagTokenOptions {
  /** Remove the failure tags (default true). */
  clearFailureTags?: boolean;
  /** Tag this client document version id on the token secret; left alone when undefined. */
  clientVersion?: string | undefined;
  /** The breach state of the written token; the `write-budget` tag is left alone when undefined. */
  writeBudgetBreached?: boolean | undefined;
  /**
   * The `write-budget` tag as the caller listed it (absent counts as `ok`): the tag is written
   * only when `writeBudgetBreached` says otherwise, so a clean refresh makes no tag call.
   */
  listedWriteBudget?: string | undefined;
}

/**
 * Brings the tags of a token secret in line with its current record, with at most one
 * TagResource and one UntagResource: tags `clientVersion` and a changed `write-budget` state
 * when the options ask for them, and (unless `clearFailureTags: false`) removes the failure tags
 * (the record's own state is in its version id). `putToken` calls it after each write.
 */
export async function tagToken(
  store: SecretStore,
  record: Pick<TokenRecord, 'credential'>,
  options: TagTokenOptions = {},
): Promise<void> {
  const name = record.credential;
  const names = secretNames(name, prefixOf(store));
  const plan = tagTokenPlan(options);
  // Tagged first: if the tag call fails, nothing has been removed yet.
  if (plan.tags !== undefined) {
    const tags = plan.tags;
    await call(name, 'TagResource', () =>
      store.client.send(new TagResourceCommand({ SecretId: names.token, Tags: tagList(tags) })),
    );
  }
  if (plan.untagKeys !== undefined) {
    const TagKeys = plan.untagKeys;
    await call(name, 'UntagResource', () =>
      store.client.send(new UntagResourceCommand({ SecretId: names.token, TagKeys })),
    );
  }
}

/** The calls {@link tagToken} makes for these options: the tags it sets, the keys it removes. */
export interface TagTokenPlan {
  /** Set by one TagResource; `undefined` when there is nothing to set. */
  tags: Record<string, string> | undefined;
  /** Removed by one UntagResource; `undefined` when nothing is cleared. */
  untagKeys: string[] | undefined;
}

/**
 * What {@link tagToken} will send for `options`, without sending it: a caller that paces its
 * writes (the rotator's write limiter) counts the calls from here, so the count and the calls
 * cannot disagree.
 */
export function tagTokenPlan(options: TagTokenOptions = {}): TagTokenPlan {
  const tags: Record<string, string> = {};
  if (options.clientVersion) tags[TAG_KEYS.clientVersion] = options.clientVersion;
  if (options.writeBudgetBreached !== undefined) {
    const wanted = writeBudgetTagValue(options.writeBudgetBreached);
    if (wanted !== (options.listedWriteBudget ?? writeBudgetTagValue(false))) tags[TAG_KEYS.writeBudget] = wanted;
  }
  return {
    tags: Object.keys(tags).length > 0 ? tags : undefined,
    untagKeys: options.clearFailureTags !== false ? [...STALE_AFTER_WRITE_TAG_KEYS] : undefined,
  };
}

/** How many Secrets Manager write calls (TagResource, UntagResource) {@link tagToken} makes for `options`. */
export function tagTokenCalls(options: TagTokenOptions = {}): number {
  const plan = tagTokenPlan(options);
  return (plan.tags === undefined ? 0 : 1) + (plan.untagKeys === undefined ? 0 : 1);
}

/**
 * Reads and validates the current token record of a credential.
 *
 * @returns the record, or `undefined` when the token secret does not exist (never written, or
 * removed outside token-rotator).
 * @throws {InvalidTokenRecordError} when the stored value is not a token record (names the fields, never the value).
 * @throws {StoreError} when Secrets Manager refuses or fails.
 */
export async function readToken(store: SecretStore, name: string): Promise<TokenRecord | undefined> {
  const names = secretNames(name, prefixOf(store));
  let secretString: string | undefined;
  try {
    const out = await store.client.send(new GetSecretValueCommand({ SecretId: names.token }));
    secretString = out.SecretString;
  } catch (e) {
    if (isAwsError(e, 'ResourceNotFoundException')) return undefined;
    throw storeError(e, name, 'GetSecretValue');
  }
  return parseTokenRecord(secretString ?? '', name);
}
