import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InternalServiceError,
  InvalidRequestException,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  RestoreSecretCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidConfigurationError, StoreError } from '../../core/errors';
import { parseIssuerConfig } from '../../core/issuers/config';
import {
  type ClientDocument,
  type ClientDocumentInput,
  createCredentialSecrets,
  DEFAULT_PREFIX,
  deleteCredentialSecrets,
  describeCredential,
  listCredentials,
  listingOf,
  putToken,
  putTokenValue,
  readClientSecret,
  readClientSecrets,
  readToken,
  recordFailure,
  type SecretStore,
  secretNames,
  TAG_KEYS,
  updateClientDocument,
  updateCredentialSettings,
} from '../../core/store';
import { layoutSecretNames } from '../../core/store/names';
import { InvalidTokenRecordError, type TokenRecord } from '../../core/token';
import { decodeTokenVersion, encodeTokenVersion } from '../../core/token-version';
import { TokenReader } from '../../reader/token-reader';
import { caught } from '../helpers/caught';
import { tokenRecord } from '../helpers/token-record';

const NOW = new Date('2025-03-01T12:00:00.000Z');
const CLIENT_VERSION = 'c0ffee00-0000-4000-8000-000000000001';
const CLIENT_SECRET = 'client-secret-value-that-must-never-leak';
const ACCESS_TOKEN = 'access-token-value-that-must-never-leak';
const ARN = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;

function aRecord(overrides: Partial<TokenRecord> = {}): TokenRecord {
  return tokenRecord(
    'sirv-prod',
    { at: NOW, issued: 0, refresh: 900, expires: 1200 },
    { accessToken: ACCESS_TOKEN, ...overrides },
  );
}

function aClientDocument(): ClientDocumentInput {
  return { version: 1, issuer: { kind: 'sirv', clientId: 'id', clientSecret: CLIENT_SECRET }, policy: {} };
}

/** The document a read gives back: the issuer parsed, its defaults filled in. */
function aClientDocumentAsRead(): ClientDocument {
  const doc = aClientDocument();
  return { ...doc, issuer: parseIssuerConfig(doc.issuer) };
}

function awsError(name: string, status: number, fault: 'client' | 'server' = 'client'): SecretsManagerServiceException {
  return new SecretsManagerServiceException({
    name,
    $fault: fault,
    $metadata: { httpStatusCode: status },
    message: `${name} happened`,
  });
}

const notFound = () =>
  new ResourceNotFoundException({ $metadata: { httpStatusCode: 400 }, message: "Secrets Manager can't find it" });

const names = secretNames('sirv-prod');
const epoch = (iso: string) => String(Date.parse(iso) / 1000);

let client: SecretsManagerClient;
let sm: AwsClientStub<SecretsManagerClient>;
let store: SecretStore;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  client = new SecretsManagerClient({ region: 'us-east-1' });
  sm = mockClient(client);
  store = { client };
});

afterEach(() => {
  sm.restore();
  vi.useRealTimers();
});

/** Every command name the client was sent, in order. */
function sentCommands(): string[] {
  return sm.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('secretNames', () => {
  it('puts a credential under the default prefix with /client and /token suffixes', () => {
    expect(secretNames('sirv-prod')).toEqual({
      client: 'token-rotator/sirv-prod/client',
      token: 'token-rotator/sirv-prod/token',
    });
    expect(DEFAULT_PREFIX).toBe('token-rotator/');
  });

  it('uses a custom prefix of path segments', () => {
    expect(secretNames('a.b@c', 'team/prod/').token).toBe('team/prod/a.b@c/token');
  });

  it.each([
    ['empty', ''],
    ['with a slash', 'a/b'],
    ['with a space', 'a b'],
    ['starting with a dash', '-a'],
    ['65 characters long', 'a'.repeat(65)],
  ])('rejects a credential name that is %s, naming the field', (_what, name) => {
    // Act
    const error = caught(() => secretNames(name), InvalidConfigurationError);
    // Assess
    expect(error.field).toBe('name');
    expect(error.message).toMatch(/^name: /);
  });

  it('rejects a prefix that does not end with a slash', () => {
    expect(() => secretNames('a', 'token-rotator')).toThrow(/prefix: expected path segments/);
  });

  it('rejects the empty prefix and one above 256 characters', () => {
    expect(() => secretNames('a', '')).toThrow(/prefix: .*one or more/);
    expect(() => secretNames('a', `${'p'.repeat(256)}/`)).toThrow(/prefix: .*at most 256/);
    expect(secretNames('a', `${'p'.repeat(255)}/`).token).toBe(`${'p'.repeat(255)}/a/token`);
  });
});

describe('createCredentialSecrets', () => {
  function prepareFreshNames(): void {
    sm.on(DescribeSecretCommand).rejects(notFound());
    sm.on(CreateSecretCommand, { Name: names.client }).resolves({
      ARN: ARN(names.client),
      Name: names.client,
      VersionId: CLIENT_VERSION,
    });
    sm.on(CreateSecretCommand, { Name: names.token }).resolves({ ARN: ARN(names.token), Name: names.token });
  }

  it('creates the client and token secrets with the documented JSON, tags and idempotency token', async () => {
    // Prepare
    prepareFreshNames();
    const record = aRecord();
    // Act
    const arns = await createCredentialSecrets(store, {
      name: 'sirv-prod',
      clientDocument: aClientDocument(),
      token: record,
      tags: { team: 'media' },
      kmsKeyId: 'alias/tokens',
    });
    // Assess
    expect(arns).toEqual({ clientSecretArn: ARN(names.client), tokenSecretArn: ARN(names.token) });
    const creates = sm.commandCalls(CreateSecretCommand).map((c) => c.args[0].input);
    expect(creates).toHaveLength(2);
    const [clientCreate, tokenCreate] = creates;
    expect(clientCreate).toMatchObject({ Name: names.client, KmsKeyId: 'alias/tokens' });
    expect(JSON.parse(clientCreate?.SecretString ?? '')).toEqual(aClientDocumentAsRead());
    expect(clientCreate?.Tags).toEqual([
      { Key: 'team', Value: 'media' },
      { Key: TAG_KEYS.credential, Value: 'sirv-prod' },
    ]);
    expect(tokenCreate).toMatchObject({
      Name: names.token,
      KmsKeyId: 'alias/tokens',
      ClientRequestToken: encodeTokenVersion(record, CLIENT_VERSION),
    });
    // The version id carries the token's state; the token secret's tag names its client version.
    expect(decodeTokenVersion(tokenCreate?.ClientRequestToken)).toMatchObject({
      generation: record.generation,
      refreshAfter: new Date(Number(epoch(record.refreshAfter)) * 1000),
      expiresAt: new Date(Number(epoch(record.expiresAt)) * 1000),
    });
    expect(JSON.parse(tokenCreate?.SecretString ?? '')).toEqual(record);
    expect(tokenCreate?.Tags).toEqual([
      { Key: 'team', Value: 'media' },
      { Key: TAG_KEYS.credential, Value: 'sirv-prod' },
      { Key: TAG_KEYS.clientVersion, Value: CLIENT_VERSION },
    ]);
  });

  it('refuses to touch a live secret of the same name and writes nothing', async () => {
    // Prepare
    sm.on(DescribeSecretCommand, { SecretId: names.client }).resolves({ ARN: ARN(names.client), Name: names.client });
    sm.on(DescribeSecretCommand, { SecretId: names.token }).rejects(notFound());
    // Act
    const error = await caught(
      createCredentialSecrets(store, { name: 'sirv-prod', clientDocument: aClientDocument(), token: aRecord() }),
    );
    // Assess
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ credential: 'sirv-prod', reason: 'ResourceExistsException', transient: false });
    expect((error as Error).message).toContain('token-rotator/sirv-prod/client');
    expect(sentCommands().filter((c) => c !== 'DescribeSecretCommand')).toEqual([]);
  });

  it('restores a secret scheduled for deletion and reuses it with a new value and reset tags', async () => {
    // Prepare
    sm.on(DescribeSecretCommand, { SecretId: names.client }).rejects(notFound());
    sm.on(DescribeSecretCommand, { SecretId: names.token }).resolves({
      ARN: ARN(names.token),
      Name: names.token,
      DeletedDate: new Date('2025-03-05T00:00:00Z'),
      Tags: [
        { Key: TAG_KEYS.failures, Value: '4' },
        { Key: TAG_KEYS.lastError, Value: 'InvalidCredentials' },
        { Key: 'old-user-tag', Value: 'x' },
      ],
    });
    sm.on(CreateSecretCommand).resolves({ ARN: ARN(names.client) });
    const record = aRecord({ generation: 7 });
    // Act
    const arns = await createCredentialSecrets(store, {
      name: 'sirv-prod',
      clientDocument: aClientDocument(),
      token: record,
    });
    // Assess
    expect(arns.tokenSecretArn).toBe(ARN(names.token));
    expect(sm.commandCalls(CreateSecretCommand).map((c) => c.args[0].input.Name)).toEqual([names.client]);
    expect(sm.commandCalls(RestoreSecretCommand)[0]?.args[0].input).toEqual({ SecretId: names.token });
    expect(sm.commandCalls(UntagResourceCommand)[0]?.args[0].input).toEqual({
      SecretId: names.token,
      TagKeys: [TAG_KEYS.failures, TAG_KEYS.lastError, 'old-user-tag'],
    });
    // The client secret was created with a version id of the call's own choosing: the token names it.
    const clientVersion = sm.commandCalls(CreateSecretCommand)[0]?.args[0].input.ClientRequestToken;
    expect(clientVersion).toMatch(/^[0-9a-f-]{36}$/);
    expect(sm.commandCalls(TagResourceCommand)[0]?.args[0].input.Tags).toContainEqual({
      Key: TAG_KEYS.clientVersion,
      Value: clientVersion,
    });
    const update = sm.commandCalls(UpdateSecretCommand)[0]?.args[0].input;
    expect(update).toMatchObject({
      SecretId: names.token,
      ClientRequestToken: encodeTokenVersion(record, clientVersion),
    });
    expect(JSON.parse(update?.SecretString ?? '')).toEqual(record);
    expect(sentCommands().indexOf('RestoreSecretCommand')).toBeLessThan(sentCommands().indexOf('UpdateSecretCommand'));
  });

  it('deletes the client secret it created, without recovery, when the token secret cannot be created', async () => {
    // Prepare
    prepareFreshNames();
    sm.on(CreateSecretCommand, { Name: names.token }).rejects(awsError('AccessDeniedException', 400));
    // Act
    const error = await caught(
      createCredentialSecrets(store, { name: 'sirv-prod', clientDocument: aClientDocument(), token: aRecord() }),
    );
    // Assess
    expect(sm.commandCalls(DeleteSecretCommand).map((c) => c.args[0].input)).toEqual([
      { SecretId: names.client, ForceDeleteWithoutRecovery: true },
    ]);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ credential: 'sirv-prod', reason: 'AccessDeniedException', transient: false });
    expect((error as Error).message).toMatch(/^Credential "sirv-prod": Secrets Manager CreateSecret failed/);
    expect((error as Error).message).not.toContain(CLIENT_SECRET);
    expect((error as Error).message).not.toContain(ACCESS_TOKEN);
  });

  it('puts a restored secret back into a recovery window when a later step fails', async () => {
    // Prepare
    sm.on(DescribeSecretCommand, { SecretId: names.client }).resolves({
      ARN: ARN(names.client),
      Name: names.client,
      DeletedDate: new Date('2025-03-05T00:00:00Z'),
    });
    sm.on(DescribeSecretCommand, { SecretId: names.token }).rejects(notFound());
    sm.on(CreateSecretCommand).rejects(awsError('ThrottlingException', 400));
    // Act
    const error = await caught(
      createCredentialSecrets(store, { name: 'sirv-prod', clientDocument: aClientDocument(), token: aRecord() }),
    );
    // Assess
    expect(sm.commandCalls(DeleteSecretCommand).map((c) => c.args[0].input)).toEqual([
      { SecretId: names.client, RecoveryWindowInDays: 7 },
    ]);
    expect(error).toMatchObject({ reason: 'ThrottlingException', transient: true });
  });

  it('names the secrets it could not roll back', async () => {
    // Prepare
    prepareFreshNames();
    sm.on(CreateSecretCommand, { Name: names.token }).rejects(awsError('InternalServiceError', 500, 'server'));
    sm.on(DeleteSecretCommand).rejects(awsError('AccessDeniedException', 400));
    // Act
    const error = await caught(
      createCredentialSecrets(store, { name: 'sirv-prod', clientDocument: aClientDocument(), token: aRecord() }),
    );
    // Assess
    expect((error as Error).message).toContain(`Rolling back also failed for "${names.client}"`);
    expect(error).toMatchObject({ reason: 'InternalServiceError', transient: true });
  });

  it('rejects reserved tag keys and a record of another credential before calling AWS', async () => {
    const base = { name: 'sirv-prod', clientDocument: aClientDocument(), token: aRecord() };
    await expect(createCredentialSecrets(store, { ...base, tags: { 'token-rotator:x': '1' } })).rejects.toMatchObject({
      field: 'tags.token-rotator:x',
    });
    await expect(createCredentialSecrets(store, { ...base, tags: { 'aws:x': '1' } })).rejects.toBeInstanceOf(
      InvalidConfigurationError,
    );
    await expect(
      createCredentialSecrets(store, { ...base, token: aRecord({ credential: 'other' }) }),
    ).rejects.toMatchObject({ field: 'token.credential' });
    expect(sm.calls()).toHaveLength(0);
  });
});

describe('putToken', () => {
  it('writes the record with a ClientRequestToken carrying its state, then clears the failure tags', async () => {
    // Prepare
    sm.on(PutSecretValueCommand).resolves({ VersionId: 'v-1' });
    const record = aRecord({ generation: 42 });
    // Act
    const versionId = await putToken(store, record, { obtainedWith: 'c-1' });
    // Assess
    expect(versionId).toBe('v-1');
    expect(sentCommands()).toEqual(['PutSecretValueCommand', 'UntagResourceCommand']);
    const put = sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input;
    expect(put).toMatchObject({ SecretId: names.token, ClientRequestToken: encodeTokenVersion(record, 'c-1') });
    expect(decodeTokenVersion(put?.ClientRequestToken)?.generation).toBe(42);
    expect(JSON.parse(put?.SecretString ?? '')).toEqual(record);
    expect(sm.commandCalls(UntagResourceCommand)[0]?.args[0].input).toEqual({
      SecretId: names.token,
      TagKeys: [
        TAG_KEYS.failures,
        TAG_KEYS.lastError,
        TAG_KEYS.nextAttempt,
        TAG_KEYS.failedAt,
        TAG_KEYS.failedClientVersion,
        TAG_KEYS.failedSourceVersion,
        TAG_KEYS.failedVersion,
      ],
    });
  });

  it('writes the value alone with putTokenValue, telling a write from a token another writer already stored', async () => {
    // Prepare
    sm.on(PutSecretValueCommand)
      .resolvesOnce({ VersionId: 'v-1' })
      .rejectsOnce(
        new SecretsManagerServiceException({
          name: 'ResourceExistsException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        }),
      );
    // Act
    const first = await putTokenValue(store, aRecord(), 'c-1');
    const second = await putTokenValue(store, aRecord(), 'c-1');
    // Assess: no tag call either time; the caller tags only what it wrote.
    expect(first).toEqual({ versionId: 'v-1', written: true });
    expect(second).toEqual({ versionId: encodeTokenVersion(aRecord(), 'c-1'), written: false });
    expect(sentCommands()).toEqual(['PutSecretValueCommand', 'PutSecretValueCommand']);
  });

  it('makes the write the only call when the caller knows no tag needs clearing', async () => {
    sm.on(PutSecretValueCommand).resolves({ VersionId: 'v-1' });
    await putToken(store, aRecord(), { clearFailureTags: false });
    expect(sentCommands()).toEqual(['PutSecretValueCommand']);
  });

  it('tags the client version it was given (a repair of a lost tag call)', async () => {
    sm.on(PutSecretValueCommand).resolves({ VersionId: 'v-1' });
    await putToken(store, aRecord(), { clearFailureTags: false, clientVersion: 'c-7' });
    expect(sm.commandCalls(TagResourceCommand)[0]?.args[0].input).toEqual({
      SecretId: names.token,
      Tags: [{ Key: TAG_KEYS.clientVersion, Value: 'c-7' }],
    });
  });

  it('sends the same ClientRequestToken when the same record is written again', async () => {
    sm.on(PutSecretValueCommand).resolves({});
    await putToken(store, aRecord());
    await putToken(store, aRecord());
    const tokens = sm.commandCalls(PutSecretValueCommand).map((c) => c.args[0].input.ClientRequestToken);
    expect(tokens[0]).toBe(tokens[1]);
  });

  it('leaves the tags alone when the write is throttled and reports a transient StoreError', async () => {
    // Prepare
    sm.on(PutSecretValueCommand).rejects(awsError('ThrottlingException', 400));
    // Act
    const error = await caught(putToken(store, aRecord()));
    // Assess
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ credential: 'sirv-prod', reason: 'ThrottlingException', transient: true });
    expect(sentCommands()).toEqual(['PutSecretValueCommand']);
  });

  it('uses the store prefix', async () => {
    sm.on(PutSecretValueCommand).resolves({});
    await putToken({ client, prefix: 'team/' }, aRecord());
    expect(sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input.SecretId).toBe('team/sirv-prod/token');
  });
});

describe('readToken', () => {
  it('parses the current token record', async () => {
    sm.on(GetSecretValueCommand, { SecretId: names.token }).resolves({ SecretString: JSON.stringify(aRecord()) });
    await expect(readToken(store, 'sirv-prod')).resolves.toEqual(aRecord());
  });

  it('returns undefined when the token secret does not exist', async () => {
    sm.on(GetSecretValueCommand).rejects(notFound());
    await expect(readToken(store, 'sirv-prod')).resolves.toBeUndefined();
  });

  it('rejects a value that is not a token record without quoting it', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ accessToken: ACCESS_TOKEN }) });
    const error = await caught(readToken(store, 'sirv-prod'));
    expect(error).toBeInstanceOf(InvalidTokenRecordError);
    expect((error as Error).message).not.toContain(ACCESS_TOKEN);
  });
});

describe('readClientSecret and updateClientDocument', () => {
  it('reads and validates the client document', async () => {
    sm.on(GetSecretValueCommand, { SecretId: names.client }).resolves({
      SecretString: JSON.stringify(aClientDocument()),
    });
    await expect(readClientSecret(store, 'sirv-prod')).resolves.toMatchObject({ document: aClientDocumentAsRead() });
  });

  it('rejects a document of another version, naming the fields and never the values', async () => {
    // Prepare
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ version: 2, issuer: { clientSecret: CLIENT_SECRET } }),
    });
    // Act
    const error = await caught(readClientSecret(store, 'sirv-prod'));
    // Assess
    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect((error as Error).message).toContain('Credential "sirv-prod"');
    expect((error as Error).message).toContain('version');
    expect((error as Error).message).toContain('issuer.kind');
    expect((error as Error).message).not.toContain(CLIENT_SECRET);
  });

  it('reports a missing client secret as a permanent StoreError', async () => {
    sm.on(GetSecretValueCommand).rejects(notFound());
    await expect(readClientSecret(store, 'sirv-prod')).rejects.toMatchObject({
      code: 'StoreError',
      reason: 'ResourceNotFoundException',
      transient: false,
    });
  });

  it('writes a new client document version with no derived request token', async () => {
    sm.on(PutSecretValueCommand).resolves({ VersionId: 'c-2' });
    await expect(updateClientDocument(store, 'sirv-prod', aClientDocument())).resolves.toBe('c-2');
    const put = sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input;
    expect(put?.SecretId).toBe(names.client);
    expect(put?.ClientRequestToken).toBeUndefined();
  });

  it('tags the token secret with the new client version, so a sweep listing token secrets sees the change', async () => {
    sm.on(PutSecretValueCommand).resolves({ VersionId: 'c-2' });
    await updateClientDocument(store, 'sirv-prod', aClientDocument());
    expect(sentCommands()).toEqual(['PutSecretValueCommand', 'TagResourceCommand']);
    expect(sm.commandCalls(TagResourceCommand)[0]?.args[0].input).toEqual({
      SecretId: names.token,
      Tags: [{ Key: TAG_KEYS.clientVersion, Value: 'c-2' }],
    });
  });

  it('reads the client document with the version id it was read at', async () => {
    sm.on(GetSecretValueCommand, { SecretId: names.client }).resolves({
      SecretString: JSON.stringify(aClientDocument()),
      VersionId: 'c-9',
    });
    await expect(readClientSecret(store, 'sirv-prod')).resolves.toEqual({
      document: aClientDocumentAsRead(),
      versionId: 'c-9',
    });
  });
});

describe('readClientSecrets', () => {
  const other = secretNames('sirv-dev');

  it('reads up to 20 client documents with one BatchGetSecretValue, each with its version id', async () => {
    // Prepare
    sm.on(BatchGetSecretValueCommand).resolves({
      SecretValues: [
        { Name: other.client, SecretString: JSON.stringify(aClientDocument()), VersionId: 'd-1' },
        { Name: names.client, SecretString: JSON.stringify(aClientDocument()), VersionId: 'p-3' },
      ],
    });
    // Act
    const reads = await readClientSecrets(store, ['sirv-prod', 'sirv-dev']);
    // Assess
    expect(sentCommands()).toEqual(['BatchGetSecretValueCommand']);
    expect(sm.commandCalls(BatchGetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretIdList: [names.client, other.client],
    });
    expect(reads.get('sirv-prod')).toEqual({ document: aClientDocumentAsRead(), versionId: 'p-3' });
    expect(reads.get('sirv-dev')).toEqual({ document: aClientDocumentAsRead(), versionId: 'd-1' });
  });

  it('leaves out a secret the batch reports an error for, and one it did not ask for', async () => {
    sm.on(BatchGetSecretValueCommand).resolves({
      SecretValues: [{ Name: 'someone/else/client', SecretString: JSON.stringify(aClientDocument()) }],
      Errors: [{ SecretId: names.client, ErrorCode: 'AccessDeniedException', Message: 'no' }],
    });
    const reads = await readClientSecrets(store, ['sirv-prod']);
    expect([...reads.keys()]).toEqual([]);
  });

  it('gives an invalid document the very error a single read throws', async () => {
    // Prepare: not JSON, and JSON of another version.
    const bad = JSON.stringify({ version: 2, issuer: { clientSecret: CLIENT_SECRET } });
    sm.on(BatchGetSecretValueCommand).resolves({
      SecretValues: [
        { Name: names.client, SecretString: bad },
        { Name: other.client, SecretString: `{${CLIENT_SECRET}` },
      ],
    });
    sm.on(GetSecretValueCommand, { SecretId: names.client }).resolves({ SecretString: bad });
    sm.on(GetSecretValueCommand, { SecretId: other.client }).resolves({ SecretString: `{${CLIENT_SECRET}` });
    // Act
    const reads = await readClientSecrets(store, ['sirv-prod', 'sirv-dev']);
    // Assess
    for (const name of ['sirv-prod', 'sirv-dev']) {
      const single = (await caught(readClientSecret(store, name))) as InvalidConfigurationError;
      const batched = reads.get(name);
      expect(batched).toBeInstanceOf(InvalidConfigurationError);
      expect(single).toBeInstanceOf(InvalidConfigurationError);
      const { code, message, field, credential } = batched as InvalidConfigurationError;
      expect({ code, message, field, credential }).toEqual({
        code: single.code,
        message: single.message,
        field: single.field,
        credential: single.credential,
      });
      expect(message).not.toContain(CLIENT_SECRET);
    }
  });

  it('throws a StoreError when the call fails as a whole', async () => {
    sm.on(BatchGetSecretValueCommand).rejects(
      new SecretsManagerServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'not authorized to perform: secretsmanager:BatchGetSecretValue',
      }),
    );
    await expect(readClientSecrets(store, ['sirv-prod'])).rejects.toMatchObject({
      code: 'StoreError',
      reason: 'AccessDeniedException',
      transient: false,
    });
  });

  it('refuses more than 20 names and sends nothing for none', async () => {
    const many = Array.from({ length: 21 }, (_, i) => `c${i}`);
    await expect(readClientSecrets(store, many)).rejects.toBeInstanceOf(RangeError);
    await expect(readClientSecrets(store, [])).resolves.toEqual(new Map());
    expect(sentCommands()).toEqual([]);
  });
});

describe('updateCredentialSettings', () => {
  it('removes dropped user tags, sets the new ones and the KMS key on both secrets', async () => {
    sm.onAnyCommand().resolves({});
    await updateCredentialSettings(store, 'sirv-prod', {
      tags: { team: 'media' },
      previousTags: { team: 'old', owner: 'x' },
      kmsKeyId: 'alias/k',
    });
    expect(sm.commandCalls(UntagResourceCommand).map((c) => c.args[0].input)).toEqual([
      { SecretId: names.client, TagKeys: ['owner'] },
      { SecretId: names.token, TagKeys: ['owner'] },
    ]);
    expect(sm.commandCalls(TagResourceCommand)).toHaveLength(2);
    expect(sm.commandCalls(UpdateSecretCommand).map((c) => c.args[0].input)).toEqual([
      { SecretId: names.client, KmsKeyId: 'alias/k' },
      { SecretId: names.token, KmsKeyId: 'alias/k' },
    ]);
  });
});

describe('listCredentials', () => {
  function tokenEntry(name: string, tags: Record<string, string>, extra: object = {}) {
    const secretName = `token-rotator/${name}/token`;
    return {
      ARN: ARN(secretName),
      Name: secretName,
      Tags: Object.entries({ [TAG_KEYS.credential]: name, ...tags }).map(([Key, Value]) => ({ Key, Value })),
      ...extra,
    };
  }
  function clientEntry(name: string, changed: Date) {
    return { ARN: ARN(`token-rotator/${name}/client`), Name: `token-rotator/${name}/client`, LastChangedDate: changed };
  }

  it('lists token secrets only (server-side filters) and reads each state from its version id', async () => {
    // Prepare: a is healthy, b is failing, c's current version was written by hand (no state in it).
    const version = (credential: string, generation: number, refresh: number, expires: number) =>
      encodeTokenVersion(
        {
          credential,
          generation,
          accessToken: ACCESS_TOKEN,
          issuedAt: new Date(1740830000_000),
          refreshAfter: new Date(refresh * 1000),
          expiresAt: new Date(expires * 1000),
        },
        CLIENT_VERSION,
      );
    const aVersion = version('a', 12, 1740830400, 1740830700);
    const bVersion = version('b', 3, 1740830500, 1740831000);
    const changed = new Date('2025-02-01T00:00:00Z');
    const pages = [
      {
        SecretList: [
          tokenEntry(
            'a',
            { [TAG_KEYS.clientVersion]: CLIENT_VERSION },
            { SecretVersionsToStages: { [aVersion]: ['AWSCURRENT'], 'older-id-000000000000000000000000': [] } },
          ),
          // A client secret someone tagged by hand is not listed as a credential.
          { ...clientEntry('a', changed), Tags: [{ Key: TAG_KEYS.clientVersion, Value: 'x' }] },
        ],
        NextToken: 'p2',
      },
      {
        SecretList: [
          tokenEntry(
            'b',
            {
              [TAG_KEYS.clientVersion]: CLIENT_VERSION,
              [TAG_KEYS.failures]: '3',
              [TAG_KEYS.lastError]: 'IssuerUnavailable',
              [TAG_KEYS.nextAttempt]: '1740830600',
              [TAG_KEYS.failedAt]: '1740830300',
              [TAG_KEYS.failedVersion]: bVersion,
            },
            { SecretVersionsToStages: { [bVersion]: ['AWSCURRENT'] } },
          ),
          tokenEntry(
            'c',
            { [TAG_KEYS.clientVersion]: CLIENT_VERSION },
            { SecretVersionsToStages: { '1b4e28ba-2fa1-51d2-883f-0016d3cca427': ['AWSCURRENT'] } },
          ),
          // A nested prefix and a foreign secret are not credentials of this prefix.
          { Name: 'token-rotator/nested/x/token', Tags: [] },
          { Name: 'token-rotator/b/other', Tags: [] },
        ],
        NextToken: 'p3',
      },
      { SecretList: [] },
    ];
    // The paginator reuses one input object, so the page tokens are recorded as they are sent.
    const sentTokens: (string | undefined)[] = [];
    sm.on(ListSecretsCommand).callsFake((input: { NextToken?: string }) => {
      sentTokens.push(input.NextToken);
      return pages[sentTokens.length - 1];
    });
    // Act
    const listings = await collect(listCredentials(store, { pageSize: 2 }));
    // Assess
    expect(sentTokens).toEqual([undefined, 'p2', 'p3']);
    expect(sm.commandCalls(ListSecretsCommand)[0]?.args[0].input).toMatchObject({
      Filters: [
        { Key: 'name', Values: ['token-rotator/'] },
        { Key: 'tag-key', Values: [TAG_KEYS.clientVersion] },
      ],
      IncludePlannedDeletion: false,
      MaxResults: 2,
    });
    expect(listings).toEqual([
      {
        name: 'a',
        tokenSecretArn: ARN('token-rotator/a/token'),
        refreshAfter: new Date(1740830400_000),
        expiresAt: new Date(1740830700_000),
        generation: 12,
        versionId: aVersion,
        clientVersion: CLIENT_VERSION,
        failures: 0,
        lastError: undefined,
        nextAttempt: undefined,
        failedAt: undefined,
      },
      {
        name: 'b',
        tokenSecretArn: ARN('token-rotator/b/token'),
        refreshAfter: new Date(1740830500_000),
        expiresAt: new Date(1740831000_000),
        generation: 3,
        versionId: bVersion,
        clientVersion: CLIENT_VERSION,
        failures: 3,
        lastError: 'IssuerUnavailable',
        nextAttempt: new Date(1740830600_000),
        failedAt: new Date(1740830300_000),
      },
      {
        name: 'c',
        tokenSecretArn: ARN('token-rotator/c/token'),
        versionId: '1b4e28ba-2fa1-51d2-883f-0016d3cca427',
        clientVersion: CLIENT_VERSION,
        failures: 0,
        lastError: undefined,
        nextAttempt: undefined,
        failedAt: undefined,
      },
    ]);
    expect(sentCommands().every((c) => c === 'ListSecretsCommand')).toBe(true);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('skips secrets scheduled for deletion unless asked to include them', async () => {
    // Prepare
    const deleted = new Date('2025-03-08T00:00:00Z');
    sm.on(ListSecretsCommand).resolves({ SecretList: [tokenEntry('gone', {}, { DeletedDate: deleted })] });
    // Act
    const live = await collect(listCredentials(store));
    const all = await collect(listCredentials(store, { includePlannedDeletion: true }));
    // Assess
    expect(live).toEqual([]);
    expect(all).toMatchObject([{ name: 'gone', deletedDate: deleted }]);
    expect(sm.commandCalls(ListSecretsCommand)[1]?.args[0].input.IncludePlannedDeletion).toBe(true);
  });

  it('still lists a token whose client secret is missing', async () => {
    sm.on(ListSecretsCommand).resolves({ SecretList: [tokenEntry('orphan', {})] });
    await expect(collect(listCredentials(store))).resolves.toMatchObject([{ name: 'orphan', failures: 0 }]);
  });

  it('wraps a failed ListSecrets in a StoreError', async () => {
    sm.on(ListSecretsCommand).rejects(awsError('AccessDeniedException', 400));
    await expect(collect(listCredentials(store))).rejects.toMatchObject({
      code: 'StoreError',
      reason: 'AccessDeniedException',
      transient: false,
    });
  });
});

describe('listingOf failure tags', () => {
  const failed = (failedVersion: string) => ({
    Name: names.token,
    SecretVersionsToStages: { 'v-current': ['AWSCURRENT'] },
    Tags: [
      { Key: TAG_KEYS.clientVersion, Value: 'c-1' },
      { Key: TAG_KEYS.failures, Value: '3' },
      { Key: TAG_KEYS.lastError, Value: 'InvalidCredentials' },
      { Key: TAG_KEYS.nextAttempt, Value: epoch(NOW.toISOString()) },
      { Key: TAG_KEYS.failedAt, Value: epoch(NOW.toISOString()) },
      { Key: TAG_KEYS.failedClientVersion, Value: 'c-1' },
      { Key: TAG_KEYS.failedVersion, Value: failedVersion },
    ],
  });

  it('counts a failure recorded against the current token version', () => {
    expect(listingOf('sirv-prod', failed('v-current'))).toMatchObject({
      failures: 3,
      lastError: 'InvalidCredentials',
      failedClientVersion: 'c-1',
      nextAttempt: NOW,
    });
    expect(listingOf('sirv-prod', failed('v-current')).staleFailureTags).toBeUndefined();
  });

  it('ignores, and flags for removal, a failure recorded against a version a later write replaced', () => {
    const listing = listingOf('sirv-prod', failed('v-older'));
    expect(listing).toMatchObject({ failures: 0, staleFailureTags: true, clientVersion: 'c-1' });
    for (const key of ['lastError', 'nextAttempt', 'failedAt', 'failedClientVersion'] as const) {
      expect(listing[key]).toBeUndefined();
    }
  });
});

describe('recordFailure', () => {
  it('records failures, the code, the next attempt and the failure time in tags only', async () => {
    // Prepare
    sm.onAnyCommand().resolves({});
    // Act
    await recordFailure(store, 'sirv-prod', {
      failures: 2,
      lastError: 'IssuerUnavailable',
      nextAttempt: new Date('2025-03-01T12:05:00Z'),
      failedAt: NOW,
    });
    // Assess
    expect(sentCommands()).toEqual(['TagResourceCommand']);
    expect(sm.commandCalls(TagResourceCommand)[0]?.args[0].input).toEqual({
      SecretId: names.token,
      Tags: [
        { Key: TAG_KEYS.failures, Value: '2' },
        { Key: TAG_KEYS.lastError, Value: 'IssuerUnavailable' },
        { Key: TAG_KEYS.nextAttempt, Value: epoch('2025-03-01T12:05:00Z') },
        { Key: TAG_KEYS.failedAt, Value: epoch(NOW.toISOString()) },
      ],
    });
  });

  it('tags the token version the failure was recorded against, in the same call', async () => {
    sm.onAnyCommand().resolves({});
    await recordFailure(store, 'sirv-prod', {
      failures: 1,
      lastError: 'IssuerUnavailable',
      nextAttempt: NOW,
      tokenVersion: 'tr1-7-abc-abd-0123',
    });
    expect(sentCommands()).toEqual(['TagResourceCommand']);
    expect(sm.commandCalls(TagResourceCommand)[0]?.args[0].input.Tags).toContainEqual({
      Key: TAG_KEYS.failedVersion,
      Value: 'tr1-7-abc-abd-0123',
    });
  });

  it('removes a stale next attempt after a permanent failure', async () => {
    sm.onAnyCommand().resolves({});
    await recordFailure(store, 'sirv-prod', { failures: 1, lastError: 'InvalidCredentials' });
    expect(sentCommands()).toEqual(['TagResourceCommand', 'UntagResourceCommand']);
    expect(sm.commandCalls(UntagResourceCommand)[0]?.args[0].input.TagKeys).toEqual([TAG_KEYS.nextAttempt]);
  });

  it.each([
    ['upstream text', 'connect ECONNREFUSED 10.0.0.1:443'],
    ['an empty code', ''],
    ['a code of 65 characters', 'E'.repeat(65)],
    ['a code with a colon', 'Store:Error'],
  ])('rejects %s as lastError before any call', async (_what, lastError) => {
    const error = await caught(recordFailure(store, 'sirv-prod', { failures: 1, lastError }));
    expect(error).toMatchObject({ code: 'InvalidConfiguration', field: 'lastError' });
    expect(sm.calls()).toHaveLength(0);
  });
});

describe('deleteCredentialSecrets', () => {
  it('schedules both secrets for deletion with a 7-day recovery window by default', async () => {
    sm.on(DeleteSecretCommand).resolves({});
    await deleteCredentialSecrets(store, 'sirv-prod');
    expect(sm.commandCalls(DeleteSecretCommand).map((c) => c.args[0].input)).toEqual([
      { SecretId: names.token, RecoveryWindowInDays: 7 },
      { SecretId: names.client, RecoveryWindowInDays: 7 },
    ]);
  });

  it('deletes at once without recovery when forced', async () => {
    sm.on(DeleteSecretCommand).resolves({});
    await deleteCredentialSecrets(store, 'sirv-prod', { forceDeleteWithoutRecovery: true });
    expect(sm.commandCalls(DeleteSecretCommand)[0]?.args[0].input).toEqual({
      SecretId: names.token,
      ForceDeleteWithoutRecovery: true,
    });
  });

  it.each([3, 31, 7.5])('rejects a recovery window of %s days', async (days) => {
    await expect(deleteCredentialSecrets(store, 'sirv-prod', { recoveryWindowInDays: days })).rejects.toMatchObject({
      field: 'recoveryWindowInDays',
    });
    expect(sm.calls()).toHaveLength(0);
  });

  it('counts a secret that is already gone or already scheduled for deletion as deleted', async () => {
    // Prepare
    sm.on(DeleteSecretCommand, { SecretId: names.token }).rejects(notFound());
    sm.on(DeleteSecretCommand, { SecretId: names.client }).rejects(
      new InvalidRequestException({ $metadata: { httpStatusCode: 400 }, message: 'marked deleted' }),
    );
    sm.on(DescribeSecretCommand, { SecretId: names.client }).resolves({ DeletedDate: new Date('2025-03-05Z') });
    // Act / Assess
    await expect(deleteCredentialSecrets(store, 'sirv-prod')).resolves.toBeUndefined();
  });

  it('still deletes the client secret when deleting the token secret fails, then reports the failure', async () => {
    sm.on(DeleteSecretCommand, { SecretId: names.token }).rejects(awsError('AccessDeniedException', 400));
    sm.on(DeleteSecretCommand, { SecretId: names.client }).resolves({});
    await expect(deleteCredentialSecrets(store, 'sirv-prod')).rejects.toMatchObject({
      reason: 'AccessDeniedException',
    });
    expect(sm.commandCalls(DeleteSecretCommand)).toHaveLength(2);
  });
});

describe('describeCredential', () => {
  it('reports existence, deletion and tags of both secrets without reading a value', async () => {
    // Prepare
    const deleted = new Date('2025-03-05T00:00:00Z');
    sm.on(DescribeSecretCommand, { SecretId: names.client }).rejects(notFound());
    sm.on(DescribeSecretCommand, { SecretId: names.token }).resolves({
      ARN: ARN(names.token),
      DeletedDate: deleted,
      Tags: [{ Key: TAG_KEYS.credential, Value: 'sirv-prod' }],
    });
    // Act
    const state = await describeCredential(store, 'sirv-prod');
    // Assess
    expect(state.client).toEqual({ name: names.client, exists: false, tags: {} });
    expect(state.token).toMatchObject({
      name: names.token,
      exists: true,
      arn: ARN(names.token),
      deletedDate: deleted,
      tags: { [TAG_KEYS.credential]: 'sirv-prod' },
    });
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });
});

describe('error classification', () => {
  const network = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  it.each([
    ['ThrottlingException', true, awsError('ThrottlingException', 400)],
    ['InternalServiceError', true, new InternalServiceError({ $metadata: { httpStatusCode: 500 }, message: 'x' })],
    ['ServiceUnavailable', true, awsError('ServiceUnavailable', 503, 'server')],
    ['Error', true, network],
    ['AccessDeniedException', false, awsError('AccessDeniedException', 400)],
    ['ValidationException', false, awsError('ValidationException', 400)],
    ['LimitExceededException', false, awsError('LimitExceededException', 400)],
  ])('classifies %s as transient: %s', async (name, transient, error) => {
    sm.on(GetSecretValueCommand).rejects(error);
    await expect(readClientSecret(store, 'sirv-prod')).rejects.toMatchObject({
      code: 'StoreError',
      credential: 'sirv-prod',
      reason: name,
      transient,
    });
  });
});

describe('the secret-name layout the reader shares', () => {
  it('names the same token secret in the store and in TokenReader', () => {
    for (const prefix of ['token-rotator/', 'team-a/prod/', 'a/']) {
      const reader = new TokenReader({ prefix, client: new SecretsManagerClient({ region: 'us-east-1' }) });
      expect(reader.secretName('sirv-prod')).toBe(secretNames('sirv-prod', prefix).token);
      expect(layoutSecretNames('sirv-prod', prefix)).toEqual(secretNames('sirv-prod', prefix));
    }
  });
});
