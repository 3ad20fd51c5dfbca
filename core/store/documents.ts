/**
 * The values and settings of an existing credential: writing and tagging the token record,
 * reading it, reading and replacing the client document, and changing user tags or KMS key.
 */
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  type PutSecretValueCommandOutput,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { InvalidConfigurationError } from '../errors';
import { parseTokenRecord, type TokenRecord } from '../token';
import { call, isAwsError, storeError } from './aws-errors';
import { DEFAULT_KMS_KEY_ALIAS } from './create';
import { prefixOf, type SecretStore, secretNames, tokenVersionId } from './names';
import { assertUserTags, FAILURE_TAG_KEYS, freshTokenTags, RESERVED_TAG_PREFIXES, tagList } from './tags';
import { type ClientDocument, validatedClientDocument, validatedRecord } from './validation';

/**
 * Writes a new token record as the current version of the token secret, then tags it with its
 * `refresh-after` and `expires-at` and clears the failure tags. The write is idempotent: a retry
 * of the same record (same credential, generation and access token) maps to the same version.
 *
 * If tagging fails after the value was written, the tags still say the token is due, so a later
 * sweep reads the token, finds it fresh and skips it: never a lost token, at most a wasted read.
 *
 * Pass `clearFailureTags: false` when the caller knows (from the listing) that no failure tags
 * are set: it saves an UntagResource call, and tag calls share a small account-wide quota.
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
  options: TagTokenOptions = {},
): Promise<string> {
  const name = record.credential;
  const names = secretNames(name, prefixOf(store));
  const valid = validatedRecord(record, name);
  const versionId = tokenVersionId(valid);
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
    if (isAwsError(e, 'ResourceExistsException')) return versionId;
    throw storeError(e, name, 'PutSecretValue');
  }
  await tagToken(store, valid, options);
  return out.VersionId ?? versionId;
}

/** Options of {@link putToken} and {@link tagToken}. */
export interface TagTokenOptions {
  /** Remove failure tags after the write (default true). */
  clearFailureTags?: boolean;
  /** Set the `write-budget` tag to `breached` or `ok`; left alone when undefined. */
  writeBudgetBreached?: boolean;
}

/**
 * Sets the tags of a token secret from its current record (`refresh-after`, `expires-at`, no
 * failures). `putToken` calls it after each write; a sweep calls it to repair tags that a failed
 * tagging call left behind the stored record.
 */
export async function tagToken(store: SecretStore, record: TokenRecord, options: TagTokenOptions = {}): Promise<void> {
  const name = record.credential;
  const names = secretNames(name, prefixOf(store));
  const tags = freshTokenTags(record, options.writeBudgetBreached);
  await call(name, 'TagResource', () =>
    store.client.send(new TagResourceCommand({ SecretId: names.token, Tags: tagList(tags) })),
  );
  if (options.clearFailureTags !== false) {
    await call(name, 'UntagResource', () =>
      store.client.send(new UntagResourceCommand({ SecretId: names.token, TagKeys: FAILURE_TAG_KEYS })),
    );
  }
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

/**
 * Reads and validates the client document of a credential (version and shape; the issuer
 * configuration itself is validated by the issuers).
 *
 * @throws {InvalidConfigurationError} (field `client`) when the stored value is not a client
 * document. The message names the bad fields, never a value.
 * @throws {StoreError} when the secret is missing or Secrets Manager refuses or fails.
 *
 * @example
 * ```ts
 * const { issuer, policy } = await readClientDocument({ client }, 'sirv-prod');
 * ```
 */
export async function readClientDocument(store: SecretStore, name: string): Promise<ClientDocument> {
  const names = secretNames(name, prefixOf(store));
  const out = await call(name, 'GetSecretValue', () =>
    store.client.send(new GetSecretValueCommand({ SecretId: names.client })),
  );
  let raw: unknown;
  try {
    raw = JSON.parse(out.SecretString ?? '');
  } catch {
    throw new InvalidConfigurationError(`Credential "${name}": the client secret is not JSON.`, {
      credential: name,
      field: 'client',
    });
  }
  return validatedClientDocument(raw, name, 'the client secret');
}

/**
 * Writes a new version of the client document. The rotator sees the change through the client
 * secret's `LastChangedDate`, which lifts a block left by rejected credentials.
 */
export async function updateClientDocument(store: SecretStore, name: string, doc: ClientDocument): Promise<string> {
  const names = secretNames(name, prefixOf(store));
  const valid = validatedClientDocument(doc, name, 'the client document to write');
  // No derived ClientRequestToken here: writing document A, then B, then A again must make A
  // current again, which a repeated token would silently turn into a no-op.
  const out = await call(name, 'PutSecretValue', () =>
    store.client.send(new PutSecretValueCommand({ SecretId: names.client, SecretString: JSON.stringify(valid) })),
  );
  return out.VersionId ?? '';
}

/** Input of {@link updateCredentialSettings}. */
export interface CredentialSettings {
  /** The user tags now wanted on both secrets. */
  tags?: Record<string, string> | undefined;
  /** The user tags set before; keys no longer wanted are removed. */
  previousTags?: Record<string, string> | undefined;
  /** The KMS key for new versions of both secrets; Secrets Manager's own key when undefined. */
  kmsKeyId?: string | undefined;
}

/**
 * Applies changed user tags and KMS key to both secrets of a credential, leaving the values and
 * token-rotator's own tags alone. A new key applies to versions written from now on.
 */
export async function updateCredentialSettings(
  store: SecretStore,
  name: string,
  settings: CredentialSettings,
): Promise<void> {
  const names = secretNames(name, prefixOf(store));
  const tags = assertUserTags(name, settings.tags);
  const removed = Object.keys(settings.previousTags ?? {}).filter(
    (k) => !(k in tags) && !RESERVED_TAG_PREFIXES.some((p) => k.startsWith(p)),
  );
  for (const secretName of [names.client, names.token]) {
    if (removed.length > 0) {
      await call(name, 'UntagResource', () =>
        store.client.send(new UntagResourceCommand({ SecretId: secretName, TagKeys: removed })),
      );
    }
    if (Object.keys(tags).length > 0) {
      await call(name, 'TagResource', () =>
        store.client.send(new TagResourceCommand({ SecretId: secretName, Tags: tagList(tags) })),
      );
    }
    if ('kmsKeyId' in settings) {
      await call(name, 'UpdateSecret', () =>
        store.client.send(
          new UpdateSecretCommand({ SecretId: secretName, KmsKeyId: settings.kmsKeyId ?? DEFAULT_KMS_KEY_ALIAS }),
        ),
      );
    }
  }
}
