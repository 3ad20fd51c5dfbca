/**
 * What Secrets Manager knows of a credential's secrets (existence, deletion, tags), never their values.
 */
import {
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { isAwsError, storeError } from './aws-errors';
import { prefixOf, type SecretStore, secretNames } from './names';
import { tagMap } from './tags';

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

/** Describes one secret; a missing one is `{ exists: false }`. */
export async function describeSecret(
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
