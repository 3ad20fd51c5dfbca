/**
 * Reads a client secret from its `clientSecretSource` (client-secret-source.ts): the secret's
 * AWSCURRENT value, or a string field of the JSON object it holds.
 */
import {
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { InvalidConfigurationError } from '../errors';
import { call } from './aws-errors';
import type { ClientSecretSource } from './client-secret-source';
import { loadIssuerConfig } from './validation';

/** The client secret as read from its source, and the source's version it was read at. */
export interface SourcedClientSecret {
  value: string;
  versionId: string | undefined;
}

/**
 * Source reads shared by the credentials of one batch, by secret ARN: a source several
 * credentials take their client secret from is read once (each takes its own `jsonKey`).
 */
export type SourceReads = Map<string, Promise<GetSecretValueCommandOutput>>;

/** The permission a reader of `source` needs, for messages. */
function neededPermission(source: ClientSecretSource): string {
  return (
    `secretsmanager:GetSecretValue on ${source.secretArn} ` +
    '(and kms:Decrypt on its key when it is encrypted with a customer managed key)'
  );
}

/**
 * Reads credential `credential`'s client secret from `source` with `client` (the caller's AWS
 * identity: the deployer at `pulumi up`, the rotator's role at refresh).
 *
 * @throws {InvalidConfigurationError} (field `clientSecretSource.secretArn` or
 * `clientSecretSource.jsonKey`) when the secret is missing, cannot be read (access denied, no
 * decrypt permission), holds no string, lacks the key, or holds a value out of bounds. The
 * message says what to do, and never quotes the value.
 * @throws {StoreError} for a failure that may pass (throttling, 5xx, network), naming the
 * credential and the source.
 */
export async function readSourcedClientSecret(
  client: SecretsManagerClient,
  credential: string,
  source: ClientSecretSource,
  shared?: SourceReads,
): Promise<SourcedClientSecret> {
  const who = `Credential "${credential}": clientSecretSource.secretArn`;
  const read = () => {
    const started = shared?.get(source.secretArn);
    if (started) return started;
    const reading = client.send(new GetSecretValueCommand({ SecretId: source.secretArn }));
    shared?.set(source.secretArn, reading);
    return reading;
  };
  // Each credential gets its own error from a shared read: its name, and the source it reads.
  const out = await call(credential, `GetSecretValue of clientSecretSource ${source.secretArn}`, read).catch(
    (e: unknown) => {
      const reason = (e as { reason?: unknown }).reason;
      if (reason === 'ResourceNotFoundException') {
        throw new InvalidConfigurationError(
          `${who}: no secret ${source.secretArn} (or it has no current value). Create it, or point clientSecretSource.secretArn at the secret that holds the client secret.`,
          { credential, field: 'clientSecretSource.secretArn', reason, cause: e },
        );
      }
      if (reason === 'InvalidRequestException') {
        throw new InvalidConfigurationError(
          `${who}: ${source.secretArn} cannot be read now (InvalidRequestException: it is scheduled for deletion). Restore it (aws secretsmanager restore-secret), or point clientSecretSource.secretArn at another secret.`,
          { credential, field: 'clientSecretSource.secretArn', reason, cause: e },
        );
      }
      if (reason === 'AccessDeniedException' || reason === 'DecryptionFailure') {
        throw new InvalidConfigurationError(
          `${who}: ${source.secretArn} could not be read (${reason}). Grant ${neededPermission(source)} ` +
            "to whoever reads it: the identity running `pulumi up`, and the rotator's role (TokenRotator's clientSecretSources).",
          { credential, field: 'clientSecretSource.secretArn', reason, cause: e },
        );
      }
      throw e;
    },
  );
  const text = out.SecretString;
  if (text === undefined) {
    throw new InvalidConfigurationError(
      `${who}: ${source.secretArn} holds no text (a binary secret). Store the client secret as its SecretString.`,
      { credential, field: 'clientSecretSource.secretArn' },
    );
  }
  const value = source.jsonKey === undefined ? text : valueAtKey(text, credential, source, source.jsonKey);
  // Held to the bounds of a client secret written in the issuer.
  const { clientSecretSchema } = await loadIssuerConfig();
  const judged = clientSecretSchema.safeParse(value);
  if (!judged.success) {
    const field = source.jsonKey === undefined ? 'clientSecretSource.secretArn' : 'clientSecretSource.jsonKey';
    throw new InvalidConfigurationError(
      `Credential "${credential}": ${field}: the client secret read from ${source.secretArn} has ${value.length} characters: ` +
        `${judged.error.issues[0]?.message ?? 'not a client secret'}${source.jsonKey === undefined ? ' (or give jsonKey when it is a JSON object)' : ''}.`,
      { credential, field },
    );
  }
  return { value, versionId: out.VersionId };
}

/** The string at `source.jsonKey` of a JSON object secret; nothing of the value is ever quoted. */
function valueAtKey(text: string, credential: string, source: ClientSecretSource, key: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const fail = (what: string) =>
    new InvalidConfigurationError(
      `Credential "${credential}": clientSecretSource.jsonKey: ${source.secretArn} ${what}. Store the client secret as the string field "${key}" of a JSON object, or remove jsonKey when the whole value is the client secret.`,
      { credential, field: 'clientSecretSource.jsonKey' },
    );
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw fail('does not hold a JSON object');
  if (!Object.hasOwn(parsed, key)) throw fail(`has no field "${key}"`);
  const value = (parsed as Record<string, unknown>)[key];
  if (typeof value !== 'string')
    throw fail(`holds a ${value === null ? 'null' : typeof value} at "${key}", not a string`);
  return value;
}
