/**
 * Creating both secrets of a credential, all or nothing: what a failed step made is rolled back,
 * so a failed `pulumi up` leaves no half-made credential.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  type CreateSecretCommandOutput,
  DeleteSecretCommand,
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  RestoreSecretCommand,
  type SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { isTokenRotatorError, StoreError } from '../errors';
import type { TokenRecord } from '../token';
import { encodeTokenVersion } from '../token-version';
import { call, isAwsError, storeError } from './aws-errors';
import { MIN_RECOVERY_WINDOW_DAYS } from './delete';
import { describeSecret, type SecretState } from './describe';
import { prefixOf, type SecretStore, secretNames } from './names';
import { assertUserTags, initialTokenTags, TAG_KEYS, tagList } from './tags';
import { type ClientDocumentInput, declaredClientDocument, validatedRecord } from './validation';

/**
 * Tag key naming who made a credential's secrets (the provider puts its resource's identity here):
 * a create that finds a live secret carrying its own owner adopts it, as a retried `pulumi up`
 * finds what a killed one made.
 */
export const OWNER_TAG_KEY = 'token-rotator:owner';

/** Secrets Manager's own key, used when a credential asks for no customer key. */
export const DEFAULT_KMS_KEY_ALIAS = 'alias/aws/secretsmanager';

/** Input of {@link createCredentialSecrets}. */
export interface CreateCredentialInput {
  name: string;
  clientDocument: ClientDocumentInput;
  /**
   * The first token, obtained before anything is written. Absent when the rotator is to obtain it
   * (an issuer reachable only from its network): the token secret is then made without a value, and
   * `options.firstToken` must write one.
   */
  token?: TokenRecord | undefined;
  /** User tags, put on both secrets. Keys starting with `token-rotator:` or `aws:` are rejected. */
  tags?: Record<string, string> | undefined;
  /** A customer KMS key for both secrets; Secrets Manager's own key when absent. */
  kmsKeyId?: string | undefined;
  /** Description of both secrets; a default naming the credential when absent. */
  description?: string | undefined;
  /**
   * Who is creating the secrets, tagged on both ({@link OWNER_TAG_KEY}). A live secret of the same
   * name tagged with the same owner is this caller's own (made by an earlier, interrupted run): it
   * is adopted, written in place and never deleted by a rollback. Any other live secret is refused.
   */
  owner?: string | undefined;
}

/** The ARNs of a credential's secrets. */
export interface CredentialSecretArns {
  clientSecretArn: string;
  tokenSecretArn: string;
}

/** Options of {@link createCredentialSecrets}. */
export interface CreateCredentialOptions {
  /**
   * The live secrets of this credential that the caller already manages (a repair: the other
   * half is gone). A live secret with one of these ARNs is written in place rather than refused,
   * and a failure never deletes it.
   */
  keep?: Partial<CredentialSecretArns> | undefined;
  /**
   * Runs once both secrets exist (the token secret without a value when `input.token` is absent):
   * it has the first token written, by the rotator. Its failure rolls the create back like any
   * other step's, and is thrown as it is.
   */
  firstToken?: (() => Promise<void>) | undefined;
}

/**
 * What a create did, for its rollback. A call whose answer never came (a timeout, a reset
 * connection, or an SDK retry refused because the first try went through) may have been carried
 * out: `unanswered` names the version id the CreateSecret asked for, so that only a secret
 * holding that version, which this call made, is deleted; `restore-unanswered` is a
 * RestoreSecret, whose secret was pending deletion before and is put back there if it is live.
 */
type Made =
  | { secretName: string; how: 'created' | 'restored' | 'restore-unanswered' }
  | { secretName: string; how: 'unanswered'; versionId: string };

/**
 * Creates both secrets of a credential with their tags: the client document, and the first
 * token (its state in its version id, tagged with the client document's version). A secret of
 * the same name that is scheduled for deletion is restored and reused with the new value and
 * tags. A live secret of the same name is an error: nothing is overwritten.
 *
 * All or nothing: when a step fails, whatever this call created is deleted again without
 * recovery, and a secret it restored is scheduled for deletion again, so a failed `pulumi up`
 * leaves no half-made credential. A live secret named in `options.keep` is written in place
 * (new value and tags) and kept whatever happens.
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
  options: CreateCredentialOptions = {},
): Promise<CredentialSecretArns> {
  const { name } = input;
  const names = secretNames(name, prefixOf(store));
  const record = input.token === undefined ? undefined : validatedRecord(input.token, name);
  if (record === undefined && options.firstToken === undefined) {
    throw new RangeError('createCredentialSecrets: without a token, options.firstToken must write one');
  }
  // A client secret kept in a source is left out: the document records only where it is.
  const clientDocument = await declaredClientDocument(input.clientDocument, name, 'the client document to write');
  const userTags = assertUserTags(name, input.tags);
  const credentialTag = { [TAG_KEYS.credential]: name };

  // Look before writing: a live secret must not be touched, and one scheduled for deletion is
  // restored rather than recreated (CreateSecret refuses a name that is pending deletion).
  const [clientState, tokenState] = await Promise.all([
    describeSecret(store.client, names.client, name),
    describeSecret(store.client, names.token, name),
  ]);
  const ownerTag: Record<string, string> = input.owner === undefined ? {} : { [OWNER_TAG_KEY]: input.owner };
  const kept = (state: SecretState, arn: string | undefined) =>
    state.exists &&
    !state.deletedDate &&
    ((arn !== undefined && state.arn === arn) ||
      (input.owner !== undefined && state.tags[OWNER_TAG_KEY] === input.owner));
  const keepClient = kept(clientState, options.keep?.clientSecretArn);
  const keepToken = kept(tokenState, options.keep?.tokenSecretArn);
  const foreign = [
    [clientState, keepClient],
    [tokenState, keepToken],
  ]
    .filter(([state, keep]) => (state as SecretState).exists && !(state as SecretState).deletedDate && !keep)
    .map(([state]) => state as SecretState);
  if (foreign.length > 0) throw await foreignSecretError(store.client, name, foreign, input.owner);

  const made: Made[] = [];
  try {
    const clientSecret = await writeNewSecret(store.client, name, clientState, keepClient, made, {
      secretString: JSON.stringify(clientDocument),
      tags: { ...userTags, ...credentialTag, ...ownerTag },
      kmsKeyId: input.kmsKeyId,
      description: input.description ?? `token-rotator client credentials of "${name}" (read by the rotator only)`,
    });
    const tokenSecret = await writeNewSecret(store.client, name, tokenState, keepToken, made, {
      secretString: record === undefined ? undefined : JSON.stringify(record),
      // The token secret names the client version it goes with: a sweep lists token secrets only.
      tags: { ...userTags, ...initialTokenTags({ credential: name }, clientSecret.versionId), ...ownerTag },
      kmsKeyId: input.kmsKeyId,
      description: input.description ?? `token-rotator access token of "${name}"`,
      clientRequestToken: record === undefined ? undefined : encodeTokenVersion(record, clientSecret.versionId),
    });
    await options.firstToken?.();
    return { clientSecretArn: clientSecret.arn, tokenSecretArn: tokenSecret.arn };
  } catch (e) {
    const failed = await rollback(store.client, made);
    // The first token's own failure (the issuer refused) is the caller's to read as it is.
    const error = isTokenRotatorError(e) && !(e instanceof StoreError) ? e : storeError(e, name, 'create');
    if (failed.length === 0) throw error;
    throw new StoreError(
      `${error.message} Rolling back also failed for ${failed.map((n) => `"${n}"`).join(', ')}; delete them by hand.`,
      { credential: name, status: error.status, reason: error.reason, transient: error.transient, cause: e },
    );
  }
}

/**
 * The refusal of live secrets that are not the caller's, with the commands that resolve it: tag
 * them as the caller's (a secret left by an interrupted run of the same resource, or one to take
 * over: its value is replaced), or choose another name.
 */
async function foreignSecretError(
  client: SecretsManagerClient,
  credential: string,
  secrets: readonly SecretState[],
  owner: string | undefined,
): Promise<StoreError> {
  const region = await client.config.region().catch(() => undefined);
  const where = region ? ` --region ${region}` : '';
  const names = secrets.map((s) => `"${s.name}"`).join(' and ');
  const whose = secrets
    .map((s) => s.tags[OWNER_TAG_KEY])
    .filter((o): o is string => o !== undefined)
    .map((o) => ` (owner: ${o})`)
    .join('');
  const verb = secrets.length === 1 ? 'exists' : 'exist';
  const head = `Credential "${credential}": ${names} already ${verb}${region ? ` in ${region}` : ''} and ${secrets.length === 1 ? 'is' : 'are'} not this resource's${whose}.`;
  const advice =
    owner === undefined
      ? ` Delete ${secrets.length === 1 ? 'it' : 'them'} (${secrets.map((s) => `aws secretsmanager delete-secret${where} --secret-id ${s.name}`).join('; ')}) or choose another credential name or prefix.`
      : ` If ${secrets.length === 1 ? 'it is' : 'they are'} this credential's (left by an interrupted pulumi up) or you mean to take ${secrets.length === 1 ? 'it' : 'them'} over (the value is replaced), run ` +
        secrets
          .map(
            (s) =>
              `aws secretsmanager tag-resource${where} --secret-id ${s.name} --tags '[{"Key":"${OWNER_TAG_KEY}","Value":"${owner}"}]'`,
          )
          .join(' and ') +
        ', then pulumi up again. Otherwise choose another credential name or prefix.';
  return new StoreError(`${head}${advice}`, { credential, reason: 'ResourceExistsException', transient: false });
}

interface NewSecret {
  /** Absent: a secret without a value (a token secret the rotator writes first). */
  secretString: string | undefined;
  tags: Record<string, string>;
  kmsKeyId?: string | undefined;
  description: string;
  clientRequestToken?: string | undefined;
}

async function writeNewSecret(
  client: SecretsManagerClient,
  credential: string,
  state: SecretState,
  keep: boolean,
  made: Made[],
  secret: NewSecret,
): Promise<{ arn: string; versionId: string }> {
  if (!state.exists) {
    // Our own version id, not the SDK's hidden one: the rollback's proof that a secret found
    // after an unanswered CreateSecret is this call's.
    const versionId = secret.clientRequestToken ?? randomUUID();
    let out: CreateSecretCommandOutput;
    try {
      out = await call(credential, 'CreateSecret', () =>
        client.send(
          new CreateSecretCommand({
            Name: state.name,
            SecretString: secret.secretString,
            Tags: tagList(secret.tags),
            KmsKeyId: secret.kmsKeyId,
            Description: secret.description,
            ClientRequestToken: versionId,
          }),
        ),
      );
    } catch (e) {
      made.push({ secretName: state.name, how: 'unanswered', versionId });
      throw e;
    }
    made.push({ secretName: state.name, how: 'created' });
    return { arn: out.ARN ?? '', versionId: out.VersionId ?? versionId };
  }
  // A kept secret is live and the caller's own: written in place, never undone.
  if (!keep) {
    try {
      await call(credential, 'RestoreSecret', () => client.send(new RestoreSecretCommand({ SecretId: state.name })));
    } catch (e) {
      made.push({ secretName: state.name, how: 'restore-unanswered' });
      throw e;
    }
    made.push({ secretName: state.name, how: 'restored' });
  }
  // The restored or kept secret keeps its old tags (failure counters, old user tags): start clean.
  const stale = Object.keys(state.tags).filter((k) => !(k in secret.tags));
  if (stale.length > 0) {
    await call(credential, 'UntagResource', () =>
      client.send(new UntagResourceCommand({ SecretId: state.name, TagKeys: stale })),
    );
  }
  await call(credential, 'TagResource', () =>
    client.send(new TagResourceCommand({ SecretId: state.name, Tags: tagList(secret.tags) })),
  );
  // Our own version id here too, so the token secret can always be tagged with the client version.
  const versionId = secret.clientRequestToken ?? randomUUID();
  const updated = await call(credential, 'UpdateSecret', () =>
    client.send(
      new UpdateSecretCommand({
        SecretId: state.name,
        SecretString: secret.secretString,
        KmsKeyId: secret.kmsKeyId ?? DEFAULT_KMS_KEY_ALIAS,
        Description: secret.description,
        // Without a value the call changes settings only and makes no version.
        ClientRequestToken: secret.secretString === undefined ? undefined : versionId,
      }),
    ),
  );
  return { arn: state.arn ?? '', versionId: updated?.VersionId ?? versionId };
}

/** Undoes what a failed create did, newest first. Returns the names it could not undo. */
async function rollback(client: SecretsManagerClient, made: readonly Made[]): Promise<string[]> {
  const failed: string[] = [];
  for (const m of [...made].reverse()) {
    try {
      if (m.how === 'unanswered' || m.how === 'restore-unanswered') {
        const found = await undoneBy(client, m);
        if (found === 'not ours') continue;
      }
      // A restored secret was the user's, pending deletion: put it back in its recovery window
      // rather than destroying what they could still recover.
      await client.send(
        new DeleteSecretCommand(
          m.how === 'created' || m.how === 'unanswered'
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

/**
 * Whether an unanswered call was carried out: the created secret holds the version id this call
 * asked for, or the restored one is live again. Anything else (no secret, someone else's
 * secret, still pending deletion) is left alone.
 */
async function undoneBy(client: SecretsManagerClient, m: Made): Promise<'ours' | 'not ours'> {
  let out: DescribeSecretCommandOutput;
  try {
    out = await client.send(new DescribeSecretCommand({ SecretId: m.secretName }));
  } catch (e) {
    if (isAwsError(e, 'ResourceNotFoundException')) return 'not ours';
    throw e;
  }
  if (out.DeletedDate) return 'not ours';
  if (m.how === 'unanswered') return m.versionId in (out.VersionIdsToStages ?? {}) ? 'ours' : 'not ours';
  return 'ours';
}
