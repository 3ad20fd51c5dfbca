/**
 * One read of a token secret (`PREFIX NAME/token`) and what its failure means: every failure
 * becomes a {@link StoreError} whose `reason` names the cause (a stable value callers may switch
 * on, see {@link ReadFailureReason}) and whose message says what to do. Nothing of the SDK's error
 * is kept (no `cause`): the reader remembers failures, and an SDK error holds the raw response.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type AwsFailure, type AwsFailureKind, classifyAwsFailure } from '../core/aws-failure';
import { StoreError } from '../core/errors';
import { InvalidTokenRecordError, parseTokenRecord, type TokenRecord } from '../core/token';

/**
 * The `reason` of a {@link StoreError} from a token read: one value per cause, each with its own
 * fix in the message. `throttled`, `unavailable` and `unexpected` are transient (the read is
 * retried after a back-off); the others need somebody to change something.
 */
export type ReadFailureReason = AwsFailureKind | 'unexpected';

/** Where a read goes: the secret, the credential it belongs to, and the prefix it was read under. */
export interface SecretReadTarget {
  credential: string;
  prefix: string;
  secretId: string;
}

/**
 * Reads and parses the token record in `target.secretId`.
 *
 * @throws {@link StoreError} when Secrets Manager refuses or fails the read (see {@link ReadFailureReason}).
 * @throws `InvalidTokenRecordError` when the value is not a token record.
 */
export async function readTokenSecret(client: SecretsManagerClient, target: SecretReadTarget): Promise<TokenRecord> {
  let secretString: string | undefined;
  try {
    const output = await client.send(new GetSecretValueCommand({ SecretId: target.secretId }));
    secretString = output.SecretString;
  } catch (error) {
    throw await readFailureError(client, target, error);
  }
  if (secretString === undefined) {
    throw new InvalidTokenRecordError(
      `Credential "${target.credential}": the token secret "${target.secretId}" holds no string value; it was not written by token-rotator.`,
      { credential: target.credential },
    );
  }
  return parseTokenRecord(secretString, target.credential);
}

/** The {@link StoreError} a failed GetSecretValue stands for, with the cause and its fix in the message. */
export async function readFailureError(
  client: SecretsManagerClient,
  target: SecretReadTarget,
  error: unknown,
): Promise<StoreError> {
  const failure = classifyAwsFailure(error);
  const where = await regionPhrase(client, failure);
  const { credential, secretId } = target;
  const what = `Credential "${credential}": reading the token secret "${secretId}"${where} failed${failedWith(failure)}`;
  return new StoreError(`${what}: ${fixFor(failure, target, error)}.`, {
    credential,
    status: failure.status,
    reason: failure.kind,
    transient: failure.transient,
  });
}

/** " (AccessDeniedException, HTTP 400)"; nothing for a plain Error with no answer (no region), which says nothing more. */
function failedWith(failure: AwsFailure): string {
  if (failure.status !== undefined) return ` (${failure.errorName}, HTTP ${failure.status})`;
  return failure.errorName === 'Error' ? '' : ` (${failure.errorName})`;
}

/** The fix, in the words of a workload that reads one token secret. */
function fixFor(failure: AwsFailure, target: SecretReadTarget, error: unknown): string {
  const { credential, prefix } = target;
  switch (failure.kind) {
    case 'not-found':
      return (
        'Secrets Manager has no secret of that name here. Check, in this order: that AWS_REGION is the region the ' +
        `credential was deployed in; that the prefix "${prefix}" is the one it was deployed with; that a credential ` +
        `"${credential}" is deployed (ProviderCredential, its tokenSecretName output)`
      );
    case 'access-denied':
      return (
        `grant the workload's role the credential's readPolicy output (secretsmanager:GetSecretValue on this token ` +
        'secret only); when it has it, the region, prefix or credential name differ from the deployed ones' +
        deniedIdentity(error)
      );
    case 'decryption-failed':
      return "grant the workload's role kms:Decrypt on the KMS key of the credential's secrets, and check the key is enabled";
    case 'invalid-request':
      return 'the token secret is scheduled for deletion: the credential is being deleted or replaced; check it is still deployed (pulumi up restores it)';
    case 'throttled':
      return "Secrets Manager throttled the read (the account's request quota, shared with the rotator): the read is retried after a back-off";
    case 'unavailable':
      return 'Secrets Manager failed or could not be reached: the read is retried after a back-off; if it persists, check the network path to Secrets Manager (VPC endpoint, NAT, AWS_ENDPOINT_URL)';
    case 'rejected':
      return 'Secrets Manager rejected the read';
    default:
      // No credentials, refused credentials, no region: the fix does not depend on the call.
      return failure.fix;
  }
}

/**
 * Who was denied, as AWS's message names them ("User: arn:aws:sts::…:assumed-role/… is not
 * authorized"): the role the fix applies to. Only an ARN is quoted, never the rest of the message.
 */
function deniedIdentity(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  const arn = /\barn:aws[a-z-]*:(?:iam|sts)::\d{12}:[A-Za-z0-9+=,.@_/-]{1,200}/.exec(message)?.[0];
  return arn === undefined ? '' : `. AWS denied it to ${arn}`;
}

/** " in region eu-west-1" when the failure may be the region's fault and the client knows its region. */
async function regionPhrase(client: SecretsManagerClient, failure: AwsFailure): Promise<string> {
  if (failure.kind !== 'not-found' && failure.kind !== 'access-denied' && failure.kind !== 'invalid-request') return '';
  try {
    const region = (client as { config?: { region?: unknown } }).config?.region;
    const value = typeof region === 'function' ? await region() : region;
    return typeof value === 'string' && value !== '' ? ` in region ${value.slice(0, 32)}` : '';
  } catch {
    return '';
  }
}
