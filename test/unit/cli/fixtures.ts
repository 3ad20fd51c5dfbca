/**
 * Small factories for the CLI's unit tests: ListSecrets entries with token-rotator's tags, token
 * records and client documents, all relative to one frozen instant, and the Secrets Manager mock
 * that serves them.
 */
import {
  DescribeSecretCommand,
  type DescribeSecretResponse,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  type SecretListEntry,
  type SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { TAG_KEYS } from '../../../core/store';
import type { TokenRecord } from '../../../core/token';
import { encodeTokenVersion } from '../../../core/token-version';
import { tokenRecord as record } from '../../helpers/token-record';

export const NOW = new Date('2026-01-01T12:00:00.000Z');
export const ACCESS_TOKEN = 'planted-access-token-that-must-never-be-printed';
export const CLIENT_SECRET = 'planted-client-secret-that-must-never-be-printed';
export const ARN = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;

/** `NOW` shifted by whole seconds. */
export const at = (offsetSeconds: number) => new Date(NOW.getTime() + offsetSeconds * 1000);
const epoch = (offsetSeconds: number) => String(Math.floor(at(offsetSeconds).getTime() / 1000));

/** Tag state of a credential, in seconds from `NOW`. */
export interface TagState {
  refreshAfter?: number;
  expiresAt?: number;
  failures?: number;
  lastError?: string;
  nextAttempt?: number;
  failedAt?: number;
  /** The `client-version` tag (the provider sets it with every client secret version). */
  clientVersion?: string;
  /** The `clientSecretSource` version a rejection was recorded with (a sourced credential's). */
  failedSourceVersion?: string;
}

/** The two ListSecrets entries (client, token) of credential `name` under `prefix`. */
export function listedCredential(name: string, state: TagState = {}, prefix = 'token-rotator/'): SecretListEntry[] {
  const {
    refreshAfter = 600,
    expiresAt = 900,
    failures = 0,
    lastError,
    nextAttempt,
    failedAt,
    clientVersion = 'client-v1',
    failedSourceVersion,
  } = state;
  // The token's state travels in its version id, as the store writes it.
  const versionId = encodeTokenVersion(tokenRecord(name, { refreshAfter, expiresAt }), clientVersion);
  const tags = [
    { Key: TAG_KEYS.credential, Value: name },
    ...(failures > 0 ? [{ Key: TAG_KEYS.failures, Value: String(failures) }] : []),
    ...(lastError ? [{ Key: TAG_KEYS.lastError, Value: lastError }] : []),
    ...(nextAttempt !== undefined ? [{ Key: TAG_KEYS.nextAttempt, Value: epoch(nextAttempt) }] : []),
    ...(failedAt !== undefined ? [{ Key: TAG_KEYS.failedAt, Value: epoch(failedAt) }] : []),
    ...(failedSourceVersion ? [{ Key: TAG_KEYS.failedSourceVersion, Value: failedSourceVersion }] : []),
    { Key: TAG_KEYS.clientVersion, Value: clientVersion },
  ];
  return [
    {
      Name: `${prefix}${name}/client`,
      ARN: ARN(`${prefix}${name}/client`),
      LastChangedDate: at(-86_400),
      Tags: [{ Key: TAG_KEYS.credential, Value: name }],
    },
    {
      Name: `${prefix}${name}/token`,
      ARN: ARN(`${prefix}${name}/token`),
      LastChangedDate: at(-300),
      Tags: tags,
      SecretVersionsToStages: { [versionId]: ['AWSCURRENT'] },
    },
  ];
}

/**
 * DescribeSecret as Secrets Manager would answer it for the secrets of `list` (what a refresh reads
 * before it asks an issuer): a `callsFake` for the mock.
 */
export function describeFrom(list: readonly SecretListEntry[]) {
  return async (input: { SecretId?: string }): Promise<DescribeSecretResponse> => {
    const entry = list.find((e) => e.Name === input.SecretId || e.ARN === input.SecretId);
    if (!entry) throw new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 400 } });
    return {
      ARN: entry.ARN,
      Name: entry.Name,
      LastChangedDate: entry.LastChangedDate,
      Tags: entry.Tags,
      VersionIdsToStages: entry.SecretVersionsToStages,
    };
  };
}

/**
 * A token record of `name`, issued 700 s before `NOW` (longer ago than the forced-refresh floor),
 * expiring at `expiresAt` seconds from `NOW`.
 */
export function tokenRecord(
  name: string,
  overrides: { expiresAt?: number; refreshAfter?: number; generation?: number } = {},
): TokenRecord {
  const { expiresAt = 900, refreshAfter = 600, generation = 7 } = overrides;
  return record(
    name,
    { at: NOW, issued: -700, refresh: refreshAfter, expires: expiresAt },
    { accessToken: ACCESS_TOKEN, scope: ['files:read'], generation },
  );
}

/** The client document of a Sirv credential. */
export function sirvClientDocument() {
  return { version: 1, issuer: { kind: 'sirv', clientId: 'client-id-1', clientSecret: CLIENT_SECRET }, policy: {} };
}

/** A credential as `givenCredentials` stores it: its tag state, and a token record other than the one its tags describe. */
export interface GivenCredential {
  tags?: TagState;
  record?: TokenRecord;
}

/**
 * Stores `credentials` (under `token-rotator/`) in the Secrets Manager mock as the rotator's
 * commands meet them: listed and described with their tags, client documents and token records
 * readable, and every write accepted. A test that needs other answers sets them afterwards.
 */
export function givenCredentials(
  secretsManager: AwsClientStub<SecretsManagerClient>,
  credentials: Record<string, GivenCredential>,
): void {
  const list: SecretListEntry[] = [];
  for (const [name, { tags = {}, record }] of Object.entries(credentials)) {
    list.push(...listedCredential(name, tags));
    const { refreshAfter = 600, expiresAt = 900, clientVersion = 'client-v1' } = tags;
    secretsManager
      .on(GetSecretValueCommand, { SecretId: `token-rotator/${name}/client` })
      .resolves({ SecretString: JSON.stringify(sirvClientDocument()), VersionId: clientVersion });
    secretsManager.on(GetSecretValueCommand, { SecretId: `token-rotator/${name}/token` }).resolves({
      SecretString: JSON.stringify(record ?? tokenRecord(name, { refreshAfter, expiresAt })),
    });
  }
  secretsManager.on(ListSecretsCommand).resolves({ SecretList: list });
  secretsManager.on(DescribeSecretCommand).callsFake(describeFrom(list));
  secretsManager.on(PutSecretValueCommand).callsFake((input) => ({ ARN: 'arn', VersionId: input.ClientRequestToken }));
  secretsManager.on(TagResourceCommand).resolves({});
  secretsManager.on(UntagResourceCommand).resolves({});
}
