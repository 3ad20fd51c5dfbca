/**
 * The Secrets Manager layout of token-rotator (DESIGN.md "Secrets layout"): for credential NAME
 * under PREFIX, `PREFIX NAME/client` holds the client document and `PREFIX NAME/token` the token
 * record, whose tags carry everything a sweep needs without reading a value.
 *
 * One function per operation, each taking a {@link SecretStore} first. The AWS client is always
 * a parameter, so the same code runs against AWS and against moto (through the standard
 * `AWS_ENDPOINT_URL`), and tests drive it with a mock. No retries here: the SDK retries.
 * Knows nothing of issuers: the client document's `issuer` is opaque JSON to this module.
 */
import { createHash } from 'node:crypto';
import {
  CreateSecretCommand,
  type CreateSecretCommandOutput,
  DeleteSecretCommand,
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  type Filter,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type PutSecretValueCommandOutput,
  paginateListSecrets,
  RestoreSecretCommand,
  type SecretListEntry,
  type SecretsManagerClient,
  type Tag,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
// A namespace import: esbuild then bundles only the parts of zod in use (not its 40 locales).
import * as z from 'zod';
import { type ErrorCode, InvalidConfigurationError, StoreError } from './errors';
import { excerpt } from './redact';
import {
  CREDENTIAL_NAME_PATTERN,
  DEFAULT_PREFIX,
  PREFIX_PATTERN,
  parseTokenRecord,
  type TokenRecord,
  tokenRecordSchema,
} from './token';
import { currentVersionId, decodeTokenVersion, encodeTokenVersion } from './token-version';

/** The prefix every secret name starts with unless the caller picks another. */
export { DEFAULT_PREFIX };

/** Suffixes of the two secrets of a credential. */
export const CLIENT_SUFFIX = '/client';
export const TOKEN_SUFFIX = '/token';

/** Version of the client document layout. */
export const CLIENT_DOCUMENT_VERSION = 1;

/**
 * Tag keys token-rotator writes. `credential` is on both secrets; the others are on the token
 * secret only. Instants are epoch seconds, so a sweep compares numbers without parsing dates.
 */
export const TAG_KEYS = {
  credential: 'token-rotator:credential',
  /**
   * Legacy (before issue 14): refresh-after and expiry now travel in the token's version id
   * (core/token-version.ts). Still read from secrets written the old way; removed by their next write.
   */
  refreshAfter: 'token-rotator:refresh-after',
  /** Legacy, like `refreshAfter`. */
  expiresAt: 'token-rotator:expires-at',
  /**
   * On the token secret: the version id of the client document it is refreshed with. Written by
   * whoever writes the client document (the provider), so a sweep that lists token secrets only
   * knows when a cached client document is stale, without reading it.
   */
  clientVersion: 'token-rotator:client-version',
  /** The client version a permanent failure was recorded with; a different `client-version` lifts the block. */
  failedClientVersion: 'token-rotator:failed-client-version',
  failures: 'token-rotator:failures',
  /** A short error code (`IssuerUnavailable`), never a message from upstream. */
  lastError: 'token-rotator:last-error',
  nextAttempt: 'token-rotator:next-attempt',
  /** When the last failure was recorded; a permanent failure is lifted by a newer client secret. */
  failedAt: 'token-rotator:failed-at',
} as const;

/** Tag keys starting with these are ours (or AWS's) and cannot be user tags. */
export const RESERVED_TAG_PREFIXES = ['token-rotator:', 'aws:'] as const;

/** Secrets Manager's own key, used when a credential asks for no customer key. */
export const DEFAULT_KMS_KEY_ALIAS = 'alias/aws/secretsmanager';

/** The shortest recovery window Secrets Manager accepts, used when a rollback re-deletes a restored secret. */
export const MIN_RECOVERY_WINDOW_DAYS = 7;
const MAX_RECOVERY_WINDOW_DAYS = 30;
const MAX_SECRET_NAME_LENGTH = 512;
const MAX_PREFIX_LENGTH = 256;

export { CREDENTIAL_NAME_PATTERN, PREFIX_PATTERN };

const CREDENTIAL_NAME = CREDENTIAL_NAME_PATTERN;
const PREFIX = PREFIX_PATTERN;
const ERROR_CODE = /^[A-Za-z0-9_-]{1,64}$/;

/** Where credentials live: a Secrets Manager client and the name prefix. */
export interface SecretStore {
  client: SecretsManagerClient;
  /** Defaults to {@link DEFAULT_PREFIX}. */
  prefix?: string | undefined;
}

/** The JSON document in `PREFIX NAME/client`. Holds the client secret: read by the rotator only. */
export interface ClientDocument {
  version: typeof CLIENT_DOCUMENT_VERSION;
  /** The issuer configuration, secrets included. Opaque here; `kind` is the only field the store checks. */
  issuer: { kind: string } & Record<string, unknown>;
  /** The refresh policy as the user wrote it. */
  policy: Record<string, unknown>;
}

const clientDocumentSchema = z.strictObject({
  version: z.literal(CLIENT_DOCUMENT_VERSION),
  issuer: z.looseObject({ kind: z.string().min(1) }),
  policy: z.record(z.string(), z.unknown()).default({}),
});

// ---------------------------------------------------------------------------------------------
// Names

/** The two secret names of a credential. */
export interface SecretNames {
  client: string;
  token: string;
}

/**
 * The secret names of credential `name` under `prefix`, validated.
 *
 * @example
 * ```ts
 * secretNames('sirv-prod'); // { client: 'token-rotator/sirv-prod/client', token: 'token-rotator/sirv-prod/token' }
 * ```
 */
export function secretNames(name: string, prefix: string = DEFAULT_PREFIX): SecretNames {
  assertCredentialName(name);
  assertPrefix(prefix);
  const names = { client: `${prefix}${name}${CLIENT_SUFFIX}`, token: `${prefix}${name}${TOKEN_SUFFIX}` };
  // Unreachable with today's limits (256 + 64 + 7), kept so a looser prefix rule cannot slip past AWS's limit.
  if (names.client.length > MAX_SECRET_NAME_LENGTH) {
    throw new InvalidConfigurationError(
      `Credential "${name}": the secret name would be ${names.client.length} characters, above Secrets Manager's ${MAX_SECRET_NAME_LENGTH}; use a shorter prefix or name.`,
      { credential: name, field: 'prefix' },
    );
  }
  return names;
}

/**
 * Throws an {@link InvalidConfigurationError} (field `name`) unless `name` is a valid credential
 * name: 1–64 letters, digits and `_+=.@-`, starting with a letter or digit. No `/`, so a
 * credential name can never reach into another prefix.
 */
export function assertCredentialName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !CREDENTIAL_NAME.test(name)) {
    throw new InvalidConfigurationError(
      'name: expected a credential name of 1-64 letters, digits and _+=.@- (starting with a letter or digit).',
      { credential: typeof name === 'string' && name.length <= 64 ? name : undefined, field: 'name' },
    );
  }
}

function assertPrefix(prefix: string): void {
  if (prefix.length > MAX_PREFIX_LENGTH || !PREFIX.test(prefix)) {
    throw new InvalidConfigurationError(
      `prefix: expected path segments of letters, digits and _+=.@-, each ending with "/" (e.g. "${DEFAULT_PREFIX}"), at most ${MAX_PREFIX_LENGTH} characters.`,
      { field: 'prefix' },
    );
  }
}

function prefixOf(store: SecretStore): string {
  return store.prefix ?? DEFAULT_PREFIX;
}

/**
 * Legacy: the version id token-rotator gave token writes before issue 14 (new writes use
 * `encodeTokenVersion`, core/token-version.ts, whose id also carries the token's state).
 * The idempotency token of a token write: a UUID (version 5) derived from the credential, the
 * generation and a hash of the access token. A retried write of the same record therefore maps
 * to the same version instead of adding a second one (Secrets Manager ignores a repeated
 * `ClientRequestToken` with the same value), and the token itself never leaves this process.
 */
export function tokenVersionId(record: Pick<TokenRecord, 'credential' | 'generation' | 'accessToken'>): string {
  const tokenHash = createHash('sha256').update(record.accessToken).digest('hex');
  return uuidV5(`${record.credential}\u0000${record.generation}\u0000${tokenHash}`);
}

// A fixed, random namespace for token-rotator's version ids (RFC 9562 §5.5).
const VERSION_ID_NAMESPACE = Buffer.from('6f0d6c1e4b8a4d0f9c2e7a3b5d1f8e42', 'hex');

function uuidV5(name: string): string {
  const bytes = createHash('sha1').update(VERSION_ID_NAMESPACE).update(name, 'utf8').digest().subarray(0, 16);
  bytes.writeUInt8((bytes.readUInt8(6) & 0x0f) | 0x50, 6);
  bytes.writeUInt8((bytes.readUInt8(8) & 0x3f) | 0x80, 8);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// ---------------------------------------------------------------------------------------------
// Errors

const TRANSIENT_AWS_ERRORS = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'InternalServiceError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

interface AwsErrorLike {
  name?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/** The AWS error name (`ResourceNotFoundException`, …) of an SDK error, if it is one. */
function awsErrorName(e: unknown): string | undefined {
  return e instanceof Error ? e.name : undefined;
}

function isAwsError(e: unknown, name: string): boolean {
  return awsErrorName(e) === name;
}

/**
 * Wraps an SDK error in a {@link StoreError} naming the credential, the operation and the AWS
 * error name. Throttling, 5xx and network failures are transient; access, validation and
 * not-found errors are permanent. The AWS message is redacted and shortened: AWS never echoes a
 * secret value, but an idempotency token or an ARN is all it should ever add.
 */
function storeError(e: unknown, credential: string | undefined, operation: string): StoreError {
  if (e instanceof StoreError) return e;
  const err = (typeof e === 'object' && e !== null ? e : {}) as AwsErrorLike;
  const name = typeof err.name === 'string' ? err.name : 'UnknownError';
  const status = err.$metadata?.httpStatusCode;
  const isServiceError = err.$metadata !== undefined && err.$fault !== undefined;
  const transient =
    TRANSIENT_AWS_ERRORS.has(name) ||
    err.$retryable !== undefined ||
    err.$fault === 'server' ||
    (status !== undefined && (status >= 500 || status === 429)) ||
    // No response at all (connection refused, reset, DNS): the service may well be back soon.
    !isServiceError;
  const detail = typeof err.message === 'string' && err.message ? `: ${excerpt(err.message)}` : '';
  const who = credential ? `Credential "${credential}": ` : '';
  return new StoreError(
    `${who}Secrets Manager ${operation} failed with ${name}${status ? ` (HTTP ${status})` : ''}${detail}`,
    { credential, status, reason: name, transient, cause: e },
  );
}

async function call<T>(credential: string | undefined, operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw storeError(e, credential, operation);
  }
}

// ---------------------------------------------------------------------------------------------
// Tags

function epochSeconds(date: Date | string): string {
  return String(Math.floor(new Date(date).getTime() / 1000));
}

function fromEpochSeconds(value: string | undefined): Date | undefined {
  if (value === undefined || !/^\d{1,12}$/.test(value)) return undefined;
  return new Date(Number(value) * 1000);
}

function tagList(tags: Record<string, string>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

function tagMap(tags: readonly Tag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

function assertUserTags(name: string, tags: Record<string, string> | undefined): Record<string, string> {
  for (const key of Object.keys(tags ?? {})) {
    if (RESERVED_TAG_PREFIXES.some((p) => key.startsWith(p))) {
      throw new InvalidConfigurationError(
        `Credential "${name}": tags.${key}: tag keys starting with ${RESERVED_TAG_PREFIXES.map((p) => `"${p}"`).join(' or ')} are reserved.`,
        { credential: name, field: `tags.${key}` },
      );
    }
  }
  return { ...tags };
}

const FAILURE_TAG_KEYS = [TAG_KEYS.lastError, TAG_KEYS.nextAttempt, TAG_KEYS.failedAt];

/** The tags of a token secret at creation: no refresh-after or expiry (the version id carries them). */
function initialTokenTags(record: TokenRecord, clientVersion: string | undefined): Record<string, string> {
  return {
    [TAG_KEYS.credential]: record.credential,
    [TAG_KEYS.failures]: '0',
    ...(clientVersion ? { [TAG_KEYS.clientVersion]: clientVersion } : {}),
  };
}

/**
 * What a successful token write removes: the failure tags (the count included: absent means 0)
 * and the legacy refresh-after/expiry tags, which would otherwise outlive the value they described.
 */
const STALE_AFTER_WRITE_TAG_KEYS = [
  TAG_KEYS.failures,
  ...FAILURE_TAG_KEYS,
  TAG_KEYS.failedClientVersion,
  TAG_KEYS.refreshAfter,
  TAG_KEYS.expiresAt,
];

// ---------------------------------------------------------------------------------------------
// Validation of documents

function validatedRecord(record: TokenRecord, name: string): TokenRecord {
  const parsed = tokenRecordSchema.safeParse(record);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))].join(', ');
    throw new InvalidConfigurationError(`Credential "${name}": not a valid token record (bad fields: ${fields}).`, {
      credential: name,
      field: 'token',
    });
  }
  if (parsed.data.credential !== name) {
    throw new InvalidConfigurationError(
      `Credential "${name}": the token record belongs to credential "${parsed.data.credential}".`,
      { credential: name, field: 'token.credential' },
    );
  }
  return parsed.data;
}

function validatedClientDocument(doc: unknown, name: string, what: string): ClientDocument {
  const parsed = clientDocumentSchema.safeParse(doc);
  if (!parsed.success) {
    // Field names only: the document holds the client secret.
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))].join(', ');
    throw new InvalidConfigurationError(
      `Credential "${name}": ${what} is not a version ${CLIENT_DOCUMENT_VERSION} client document (bad fields: ${fields}).`,
      { credential: name, field: 'client' },
    );
  }
  return parsed.data as ClientDocument;
}

// ---------------------------------------------------------------------------------------------
// Create

/** Input of {@link createCredentialSecrets}. */
export interface CreateCredentialInput {
  name: string;
  clientDocument: ClientDocument;
  /** The first token, obtained before anything is written. */
  token: TokenRecord;
  /** User tags, put on both secrets. Keys starting with `token-rotator:` or `aws:` are rejected. */
  tags?: Record<string, string> | undefined;
  /** A customer KMS key for both secrets; Secrets Manager's own key when absent. */
  kmsKeyId?: string | undefined;
  /** Description of both secrets; a default naming the credential when absent. */
  description?: string | undefined;
}

/** The ARNs of a credential's secrets. */
export interface CredentialSecretArns {
  clientSecretArn: string;
  tokenSecretArn: string;
}

type Made = { secretName: string; how: 'created' | 'restored' };

/**
 * Creates both secrets of a credential with their tags: the client document, and the first
 * token (tagged with its `refresh-after`). A secret of the same name that is scheduled for
 * deletion is restored and reused with the new value and tags. A live secret of the same name is
 * an error: nothing is overwritten.
 *
 * All or nothing: when a step fails, whatever this call created is deleted again without
 * recovery, and a secret it restored is scheduled for deletion again, so a failed `pulumi up`
 * leaves no half-made credential.
 *
 * @throws {InvalidConfigurationError} on a bad name, prefix, tag key, document or record, before any call.
 * @throws {StoreError} naming the credential when Secrets Manager refuses or fails.
 *
 * @example
 * ```ts
 * const { tokenSecretArn } = await createCredentialSecrets(
 *   { client: new SecretsManagerClient({}) },
 *   { name: 'sirv-prod', clientDocument: { version: 1, issuer, policy: {} }, token: record },
 * );
 * ```
 */
export async function createCredentialSecrets(
  store: SecretStore,
  input: CreateCredentialInput,
): Promise<CredentialSecretArns> {
  const { name } = input;
  const names = secretNames(name, prefixOf(store));
  const record = validatedRecord(input.token, name);
  const clientDocument = validatedClientDocument(input.clientDocument, name, 'the client document to write');
  const userTags = assertUserTags(name, input.tags);
  const credentialTag = { [TAG_KEYS.credential]: name };

  // Look before writing: a live secret must not be touched, and one scheduled for deletion is
  // restored rather than recreated (CreateSecret refuses a name that is pending deletion).
  const [clientState, tokenState] = await Promise.all([
    describeSecret(store.client, names.client, name),
    describeSecret(store.client, names.token, name),
  ]);
  for (const state of [clientState, tokenState]) {
    if (state.exists && !state.deletedDate) {
      throw new StoreError(
        `Credential "${name}": secret "${state.name}" already exists and is not managed by this operation. ` +
          'Import it, delete it, or choose another credential name or prefix.',
        { credential: name, reason: 'ResourceExistsException', transient: false },
      );
    }
  }

  const made: Made[] = [];
  try {
    const clientSecret = await writeNewSecret(store.client, name, clientState, made, {
      secretString: JSON.stringify(clientDocument),
      tags: { ...userTags, ...credentialTag },
      kmsKeyId: input.kmsKeyId,
      description: input.description ?? `token-rotator client credentials of "${name}" (read by the rotator only)`,
    });
    const tokenSecret = await writeNewSecret(store.client, name, tokenState, made, {
      secretString: JSON.stringify(record),
      // The token secret names the client version it goes with (issue 14: a sweep lists token secrets only).
      tags: { ...userTags, ...initialTokenTags(record, clientSecret.versionId) },
      kmsKeyId: input.kmsKeyId,
      description: input.description ?? `token-rotator access token of "${name}"`,
      clientRequestToken: encodeTokenVersion(record),
    });
    return { clientSecretArn: clientSecret.arn, tokenSecretArn: tokenSecret.arn };
  } catch (e) {
    const failed = await rollback(store.client, made);
    const error = storeError(e, name, 'create');
    if (failed.length === 0) throw error;
    throw new StoreError(
      `${error.message} Rolling back also failed for ${failed.map((n) => `"${n}"`).join(', ')}; delete them by hand.`,
      { credential: name, status: error.status, reason: error.reason, transient: error.transient, cause: e },
    );
  }
}

interface NewSecret {
  secretString: string;
  tags: Record<string, string>;
  kmsKeyId?: string | undefined;
  description: string;
  clientRequestToken?: string | undefined;
}

async function writeNewSecret(
  client: SecretsManagerClient,
  credential: string,
  state: SecretState,
  made: Made[],
  secret: NewSecret,
): Promise<{ arn: string; versionId: string | undefined }> {
  if (!state.exists) {
    const out: CreateSecretCommandOutput = await call(credential, 'CreateSecret', () =>
      client.send(
        new CreateSecretCommand({
          Name: state.name,
          SecretString: secret.secretString,
          Tags: tagList(secret.tags),
          KmsKeyId: secret.kmsKeyId,
          Description: secret.description,
          ClientRequestToken: secret.clientRequestToken,
        }),
      ),
    );
    made.push({ secretName: state.name, how: 'created' });
    return { arn: out.ARN ?? '', versionId: out.VersionId };
  }
  await call(credential, 'RestoreSecret', () => client.send(new RestoreSecretCommand({ SecretId: state.name })));
  made.push({ secretName: state.name, how: 'restored' });
  // The restored secret keeps its old tags (failure counters, old user tags): start clean.
  const stale = Object.keys(state.tags).filter((k) => !(k in secret.tags));
  if (stale.length > 0) {
    await call(credential, 'UntagResource', () =>
      client.send(new UntagResourceCommand({ SecretId: state.name, TagKeys: stale })),
    );
  }
  await call(credential, 'TagResource', () =>
    client.send(new TagResourceCommand({ SecretId: state.name, Tags: tagList(secret.tags) })),
  );
  const updated = await call(credential, 'UpdateSecret', () =>
    client.send(
      new UpdateSecretCommand({
        SecretId: state.name,
        SecretString: secret.secretString,
        KmsKeyId: secret.kmsKeyId ?? DEFAULT_KMS_KEY_ALIAS,
        Description: secret.description,
        ClientRequestToken: secret.clientRequestToken,
      }),
    ),
  );
  return { arn: state.arn ?? '', versionId: updated?.VersionId };
}

/** Undoes what a failed create did, newest first. Returns the names it could not undo. */
async function rollback(client: SecretsManagerClient, made: readonly Made[]): Promise<string[]> {
  const failed: string[] = [];
  for (const m of [...made].reverse()) {
    try {
      // A restored secret was the user's, pending deletion: put it back in its recovery window
      // rather than destroying what they could still recover.
      await client.send(
        new DeleteSecretCommand(
          m.how === 'created'
            ? { SecretId: m.secretName, ForceDeleteWithoutRecovery: true }
            : { SecretId: m.secretName, RecoveryWindowInDays: MIN_RECOVERY_WINDOW_DAYS },
        ),
      );
    } catch (e) {
      if (!isAwsError(e, 'ResourceNotFoundException')) failed.push(m.secretName);
    }
  }
  return failed;
}

// ---------------------------------------------------------------------------------------------
// Token and client document

/**
 * Writes a new token record as the current version of the token secret. Its version id
 * (core/token-version.ts) carries generation, refresh-after and expiry, so the write is the
 * whole refresh: no tag call follows unless there is something to remove. The write is
 * idempotent: a retry of the same record maps to the same version.
 *
 * Then, unless `clearFailureTags: false`, one UntagResource removes the failure tags and the
 * legacy refresh-after/expiry tags. Pass `false` when the caller knows from the listing that
 * none is set: tag calls share the account's small write quota with PutSecretValue.
 * `clientVersion`, when given, is tagged as the client version the token goes with (a sweep
 * that read a client document whose version the listing did not show: a migration or a repair).
 * If a tag call fails after the value was written, the token is still good; the next sweep sees
 * the tags left and removes them with its next write.
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
  options: { clearFailureTags?: boolean; clientVersion?: string | undefined } = {},
): Promise<string> {
  const name = record.credential;
  const names = secretNames(name, prefixOf(store));
  const valid = validatedRecord(record, name);
  const versionId = encodeTokenVersion(valid);
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
  if (options.clientVersion) {
    const tags = { [TAG_KEYS.clientVersion]: options.clientVersion };
    await call(name, 'TagResource', () =>
      store.client.send(new TagResourceCommand({ SecretId: names.token, Tags: tagList(tags) })),
    );
  }
  if (options.clearFailureTags !== false) {
    await call(name, 'UntagResource', () =>
      store.client.send(new UntagResourceCommand({ SecretId: names.token, TagKeys: STALE_AFTER_WRITE_TAG_KEYS })),
    );
  }
  return out.VersionId ?? versionId;
}

/**
 * Brings the tags of a token secret in line with its current record: removes failure tags and
 * legacy refresh-after/expiry tags that a failed tag call after a write left behind (the record's
 * own state is in its version id). A sweep calls it when it finds a fresh token behind stale tags.
 */
export async function tagToken(store: SecretStore, record: Pick<TokenRecord, 'credential'>): Promise<void> {
  const name = record.credential;
  const names = secretNames(name, prefixOf(store));
  await call(name, 'UntagResource', () =>
    store.client.send(new UntagResourceCommand({ SecretId: names.token, TagKeys: STALE_AFTER_WRITE_TAG_KEYS })),
  );
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
  return (await readClientSecret(store, name)).document;
}

/** A client document and the version id it was read from (the key of the rotator's cache). */
export interface ClientSecretVersion {
  document: ClientDocument;
  versionId: string | undefined;
}

/** {@link readClientDocument}, with the version id of what was read. */
export async function readClientSecret(store: SecretStore, name: string): Promise<ClientSecretVersion> {
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
  return { document: validatedClientDocument(raw, name, 'the client secret'), versionId: out.VersionId };
}

/**
 * Writes a new version of the client document, then tags the token secret with its version id
 * (`token-rotator:client-version`): that is how the rotator, listing token secrets only, sees the
 * change (its cached document is stale; a block left by rejected credentials is lifted).
 */
export async function updateClientDocument(store: SecretStore, name: string, doc: ClientDocument): Promise<string> {
  const names = secretNames(name, prefixOf(store));
  const valid = validatedClientDocument(doc, name, 'the client document to write');
  // No derived ClientRequestToken here: writing document A, then B, then A again must make A
  // current again, which a repeated token would silently turn into a no-op.
  const out = await call(name, 'PutSecretValue', () =>
    store.client.send(new PutSecretValueCommand({ SecretId: names.client, SecretString: JSON.stringify(valid) })),
  );
  if (out.VersionId) {
    const tags = { [TAG_KEYS.clientVersion]: out.VersionId };
    try {
      await store.client.send(new TagResourceCommand({ SecretId: names.token, Tags: tagList(tags) }));
    } catch (e) {
      // No token secret (yet): nothing to point at the new client version.
      if (!isAwsError(e, 'ResourceNotFoundException')) throw storeError(e, name, 'TagResource');
    }
  }
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

// ---------------------------------------------------------------------------------------------
// Listing and failures

/** What a sweep knows of one credential, from the listing of its token secret alone. */
export interface CredentialListing {
  name: string;
  tokenSecretArn: string;
  /** From the current version id, else (a token written before issue 14) from the legacy tag. */
  refreshAfter?: Date | undefined;
  /** Like `refreshAfter`. */
  expiresAt?: Date | undefined;
  /** The current token's generation, when its version id carries it (else unknown without a read). */
  generation?: number | undefined;
  /** The AWSCURRENT version id of the token secret. */
  versionId?: string | undefined;
  /** The client document's version id, as tagged by its writer (absent on secrets from before issue 14). */
  clientVersion?: string | undefined;
  /** The client version a permanent failure was recorded with. */
  failedClientVersion?: string | undefined;
  /** Legacy refresh-after/expiry tags are set: the next write should remove them. */
  legacyTags?: boolean | undefined;
  failures: number;
  lastError?: string | undefined;
  nextAttempt?: Date | undefined;
  failedAt?: Date | undefined;
  /**
   * Legacy: when the client secret last changed. No longer listed (a sweep lists token secrets
   * only); `clientVersion` tells a changed client document instead.
   */
  clientChangedAt?: Date | undefined;
  /** Set only when listing with `includePlannedDeletion`: when the token secret was scheduled for deletion. */
  deletedDate?: Date | undefined;
}

/**
 * Tag keys of which every token secret carries at least one and no client secret any: what the
 * listing filters on so that it lists token secrets only (one page per 100 credentials, not 50).
 * `client-version` is on every token written since issue 14; `failures` on every older one.
 */
const TOKEN_SECRET_TAG_KEYS = [TAG_KEYS.clientVersion, TAG_KEYS.failures];

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
  const filters: Filter[] = [{ Key: 'tag-key', Values: TOKEN_SECRET_TAG_KEYS }];
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

function parseSecretName(
  secretName: string | undefined,
  prefix: string,
): { name: string; kind: 'client' | 'token' } | undefined {
  if (!secretName?.startsWith(prefix)) return undefined;
  const rest = secretName.slice(prefix.length);
  for (const [suffix, kind] of [
    [TOKEN_SUFFIX, 'token'],
    [CLIENT_SUFFIX, 'client'],
  ] as const) {
    if (!rest.endsWith(suffix)) continue;
    const name = rest.slice(0, -suffix.length);
    // A deeper path (another prefix nested under this one) is not ours.
    return CREDENTIAL_NAME.test(name) ? { name, kind } : undefined;
  }
  return undefined;
}

/**
 * One token secret's listing entry as a {@link CredentialListing}: state from the current version
 * id when token-rotator wrote it, else from the legacy tags.
 */
export function listingOf(name: string, entry: SecretListEntry): CredentialListing {
  const tags = tagMap(entry.Tags);
  const failures = Number(tags[TAG_KEYS.failures] ?? '0');
  const versionId = currentVersionId(entry.SecretVersionsToStages);
  const version = decodeTokenVersion(versionId);
  const legacyTags = TAG_KEYS.refreshAfter in tags || TAG_KEYS.expiresAt in tags;
  return {
    name,
    tokenSecretArn: entry.ARN ?? '',
    refreshAfter: version?.refreshAfter ?? fromEpochSeconds(tags[TAG_KEYS.refreshAfter]),
    expiresAt: version?.expiresAt ?? fromEpochSeconds(tags[TAG_KEYS.expiresAt]),
    ...(version ? { generation: version.generation } : {}),
    ...(versionId ? { versionId } : {}),
    ...(tags[TAG_KEYS.clientVersion] ? { clientVersion: tags[TAG_KEYS.clientVersion] } : {}),
    ...(tags[TAG_KEYS.failedClientVersion] ? { failedClientVersion: tags[TAG_KEYS.failedClientVersion] } : {}),
    ...(legacyTags ? { legacyTags } : {}),
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
  /** The client document version the failed attempt used (a newer one lifts a permanent block). */
  clientVersion?: string | undefined;
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
  if (failure.clientVersion) tags[TAG_KEYS.failedClientVersion] = failure.clientVersion;
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

// ---------------------------------------------------------------------------------------------
// Delete and describe

/** How to delete: with a recovery window (7–30 days, default 7), or at once without recovery. */
export type DeleteOptions =
  | { recoveryWindowInDays?: number; forceDeleteWithoutRecovery?: false }
  | { forceDeleteWithoutRecovery: true; recoveryWindowInDays?: undefined };

/**
 * Deletes both secrets of a credential. A secret that is already gone, or already scheduled for
 * deletion, counts as deleted. Both deletions are attempted even when the first fails.
 */
export async function deleteCredentialSecrets(
  store: SecretStore,
  name: string,
  options: DeleteOptions = {},
): Promise<void> {
  const names = secretNames(name, prefixOf(store));
  const force = options.forceDeleteWithoutRecovery === true;
  const days = options.recoveryWindowInDays ?? MIN_RECOVERY_WINDOW_DAYS;
  if (!force && (!Number.isInteger(days) || days < MIN_RECOVERY_WINDOW_DAYS || days > MAX_RECOVERY_WINDOW_DAYS)) {
    throw new InvalidConfigurationError(
      `Credential "${name}": recoveryWindowInDays must be a whole number from ${MIN_RECOVERY_WINDOW_DAYS} to ${MAX_RECOVERY_WINDOW_DAYS}.`,
      { credential: name, field: 'recoveryWindowInDays' },
    );
  }
  const errors: StoreError[] = [];
  for (const secretName of [names.token, names.client]) {
    try {
      await store.client.send(
        new DeleteSecretCommand(
          force
            ? { SecretId: secretName, ForceDeleteWithoutRecovery: true }
            : { SecretId: secretName, RecoveryWindowInDays: days },
        ),
      );
    } catch (e) {
      if (isAwsError(e, 'ResourceNotFoundException')) continue;
      // AWS refuses to schedule a deletion twice: already pending counts as done.
      if (isAwsError(e, 'InvalidRequestException') && !force) {
        const state = await describeSecret(store.client, secretName, name).catch(() => undefined);
        if (state && (!state.exists || state.deletedDate)) continue;
      }
      errors.push(storeError(e, name, 'DeleteSecret'));
    }
  }
  if (errors[0]) throw errors[0];
}

/** What Secrets Manager knows of one secret, without its value. */
export interface SecretState {
  name: string;
  exists: boolean;
  arn?: string | undefined;
  /** Set when the secret is scheduled for deletion. */
  deletedDate?: Date | undefined;
  lastChangedDate?: Date | undefined;
  kmsKeyId?: string | undefined;
  tags: Record<string, string>;
}

/** Both secrets of a credential, as Secrets Manager describes them. */
export interface CredentialState {
  client: SecretState;
  token: SecretState;
}

/**
 * Describes both secrets of a credential (existence, deletion, tags), for `pulumi refresh` and
 * drift checks. Never reads a value.
 */
export async function describeCredential(store: SecretStore, name: string): Promise<CredentialState> {
  const names = secretNames(name, prefixOf(store));
  const [client, token] = await Promise.all([
    describeSecret(store.client, names.client, name),
    describeSecret(store.client, names.token, name),
  ]);
  return { client, token };
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

async function describeSecret(
  client: SecretsManagerClient,
  secretName: string,
  credential: string,
): Promise<SecretState> {
  let out: DescribeSecretCommandOutput;
  try {
    out = await client.send(new DescribeSecretCommand({ SecretId: secretName }));
  } catch (e) {
    if (isAwsError(e, 'ResourceNotFoundException')) return { name: secretName, exists: false, tags: {} };
    throw storeError(e, credential, 'DescribeSecret');
  }
  return {
    name: secretName,
    exists: true,
    arn: out.ARN,
    deletedDate: out.DeletedDate,
    lastChangedDate: out.LastChangedDate,
    kmsKeyId: out.KmsKeyId,
    tags: tagMap(out.Tags),
  };
}
