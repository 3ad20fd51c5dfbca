import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidConfigurationError, StoreError } from '../../core/errors';
import {
  declaredIssuerOf,
  readClientSecret,
  readClientSecrets,
  secretNames,
  updateClientDocument,
} from '../../core/store';
import { caught } from '../helpers/caught';

const PLANTED = 'planted-source-secret-4b1d9e7c';
const SOURCE_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:platform/sirv-AbCdEf';
const names = secretNames('sirv-prod', 'token-rotator/');
const storedDocument = (jsonKey?: string) => ({
  version: 1,
  issuer: { kind: 'sirv', clientId: 'ZcnZNfzwRhQExoHFoGpxWJ4p2R' },
  policy: {},
  clientSecretSource: { secretArn: SOURCE_ARN, ...(jsonKey ? { jsonKey } : {}) },
});

const awsError = (name: string, status: number) =>
  new SecretsManagerServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });

describe('a client document whose client secret is kept in a clientSecretSource', () => {
  const sm = mockClient(SecretsManagerClient);
  const store = { client: new SecretsManagerClient({ region: 'us-east-1' }), prefix: 'token-rotator/' };
  beforeEach(() => sm.reset());
  afterEach(() => sm.reset());

  const stored = (doc: unknown, versionId = 'client-v1') =>
    sm
      .on(GetSecretValueCommand, { SecretId: names.client })
      .resolves({ SecretString: JSON.stringify(doc), VersionId: versionId });

  it('reads the value from the source (AWSCURRENT), with both versions, the same client doing both reads', async () => {
    stored(storedDocument());
    sm.on(GetSecretValueCommand, { SecretId: SOURCE_ARN }).resolves({ SecretString: PLANTED, VersionId: 'source-v7' });

    const read = await readClientSecret(store, 'sirv-prod');

    expect(read.document.issuer).toMatchObject({ kind: 'sirv', clientSecret: PLANTED });
    expect(read.document.clientSecretSource).toEqual({ secretArn: SOURCE_ARN });
    expect(read.versionId).toBe('client-v1');
    expect(read.sourceVersionId).toBe('source-v7');
    const sourceRead = sm.commandCalls(GetSecretValueCommand)[1]?.args[0].input;
    expect(sourceRead).toEqual({ SecretId: SOURCE_ARN });
  });

  it('takes the string field jsonKey of a JSON object, as ECS valueFrom does', async () => {
    stored(storedDocument('clientSecret'));
    sm.on(GetSecretValueCommand, { SecretId: SOURCE_ARN }).resolves({
      SecretString: JSON.stringify({ clientId: 'x', clientSecret: PLANTED }),
      VersionId: 'source-v1',
    });

    expect((await readClientSecret(store, 'sirv-prod')).document.issuer).toMatchObject({ clientSecret: PLANTED });
  });

  const failures: [string, () => void, string, RegExp][] = [
    [
      'a missing source',
      () =>
        sm
          .on(GetSecretValueCommand, { SecretId: SOURCE_ARN })
          .rejects(new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 400 } })),
      'clientSecretSource.secretArn',
      /no secret arn:aws:secretsmanager:.*platform\/sirv-AbCdEf/,
    ],
    [
      'a source the reader may not read',
      () => sm.on(GetSecretValueCommand, { SecretId: SOURCE_ARN }).rejects(awsError('AccessDeniedException', 400)),
      'clientSecretSource.secretArn',
      /Grant secretsmanager:GetSecretValue on arn:.*kms:Decrypt.*clientSecretSources/,
    ],
    [
      'a source it cannot decrypt',
      () => sm.on(GetSecretValueCommand, { SecretId: SOURCE_ARN }).rejects(awsError('DecryptionFailure', 400)),
      'clientSecretSource.secretArn',
      /DecryptionFailure.*kms:Decrypt/,
    ],
    [
      'a binary source',
      () => sm.on(GetSecretValueCommand, { SecretId: SOURCE_ARN }).resolves({ SecretBinary: new Uint8Array([1, 2]) }),
      'clientSecretSource.secretArn',
      /holds no text/,
    ],
    [
      'a source value too short to be a client secret',
      () => sm.on(GetSecretValueCommand, { SecretId: SOURCE_ARN }).resolves({ SecretString: 'short' }),
      'clientSecretSource.secretArn',
      /5 characters: expected clientSecret of at least 8 characters; check that the whole value was copied/,
    ],
    [
      'a source value too long to be a client secret',
      () =>
        sm.on(GetSecretValueCommand, { SecretId: SOURCE_ARN }).resolves({ SecretString: `"${PLANTED.repeat(300)}"` }),
      'clientSecretSource.secretArn',
      /expected clientSecret of at most 8192 characters \(or give jsonKey/,
    ],
  ];

  it.each(failures)(
    'refuses %s, naming the credential and the field, quoting no value',
    async (_what, arrange, field, reason) => {
      stored(storedDocument());
      arrange();

      const error = await readClientSecret(store, 'sirv-prod').then(
        () => undefined,
        (e: unknown) => e,
      );

      expect(error).toBeInstanceOf(InvalidConfigurationError);
      const e = error as InvalidConfigurationError;
      expect(e.field).toBe(field);
      expect(e.message).toMatch(/^Credential "sirv-prod": /);
      expect(e.message).toMatch(reason);
      expect(JSON.stringify({ message: e.message, json: e.toJSON() })).not.toContain(PLANTED.slice(0, 12));
    },
  );

  it.each([
    ['a source that is not JSON', 'not json at all', /does not hold a JSON object/],
    ['a JSON object without the key', JSON.stringify({ other: PLANTED }), /has no field "clientSecret"/],
    ['a key that holds no string', JSON.stringify({ clientSecret: 42, other: PLANTED }), /holds a number/],
  ])('refuses %s with jsonKey, quoting no value', async (_what, value, reason) => {
    stored(storedDocument('clientSecret'));
    sm.on(GetSecretValueCommand, { SecretId: SOURCE_ARN }).resolves({ SecretString: value });

    const error = await readClientSecret(store, 'sirv-prod').then(
      () => undefined,
      (e: unknown) => e as InvalidConfigurationError,
    );

    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect(error?.field).toBe('clientSecretSource.jsonKey');
    expect(error?.message).toMatch(reason);
    expect(error?.message).not.toContain(PLANTED);
  });

  it('leaves a throttled source read a StoreError that may pass', async () => {
    stored(storedDocument());
    sm.on(GetSecretValueCommand, { SecretId: SOURCE_ARN }).rejects(awsError('ThrottlingException', 400));

    const error = await readClientSecret(store, 'sirv-prod').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).transient).toBe(true);
  });

  it('refuses a stored document that holds both a client secret and a source', async () => {
    const both = storedDocument();
    stored({ ...both, issuer: { ...both.issuer, clientSecret: PLANTED } });

    const error = await caught(readClientSecret(store, 'sirv-prod'), InvalidConfigurationError);

    expect(error.message).toMatch(/both issuer\.clientSecret and clientSecretSource/);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('writes the reference and never the value', async () => {
    sm.on(PutSecretValueCommand).resolves({ VersionId: 'client-v2' });
    sm.on(TagResourceCommand).resolves({});

    await updateClientDocument(store, 'sirv-prod', {
      version: 1,
      issuer: { kind: 'sirv', clientId: 'ZcnZNfzwRhQExoHFoGpxWJ4p2R', clientSecret: PLANTED },
      policy: {},
      clientSecretSource: { secretArn: SOURCE_ARN },
    });

    const written = sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input.SecretString ?? '';
    expect(written).not.toContain(PLANTED);
    expect(JSON.parse(written)).toMatchObject({
      issuer: { kind: 'sirv', clientId: 'ZcnZNfzwRhQExoHFoGpxWJ4p2R' },
      clientSecretSource: { secretArn: SOURCE_ARN },
    });
  });

  it('resolves sources in a batch read: a refused source is that name error, a throttled one is left to a single read', async () => {
    const alpha = secretNames('alpha', 'token-rotator/').client;
    const beta = secretNames('beta', 'token-rotator/').client;
    const gamma = secretNames('gamma', 'token-rotator/').client;
    const other = (n: string) => SOURCE_ARN.replace('sirv', n);
    const doc = (n: string) => JSON.stringify({ ...storedDocument(), clientSecretSource: { secretArn: other(n) } });
    sm.on(BatchGetSecretValueCommand).resolves({
      SecretValues: [
        { Name: alpha, SecretString: doc('alpha'), VersionId: 'a1' },
        { Name: beta, SecretString: doc('beta'), VersionId: 'b1' },
        { Name: gamma, SecretString: doc('gamma'), VersionId: 'g1' },
      ],
    });
    sm.on(GetSecretValueCommand, { SecretId: other('alpha') }).resolves({ SecretString: PLANTED, VersionId: 's1' });
    sm.on(GetSecretValueCommand, { SecretId: other('beta') }).rejects(awsError('AccessDeniedException', 400));
    sm.on(GetSecretValueCommand, { SecretId: other('gamma') }).rejects(awsError('ThrottlingException', 400));

    const reads = await readClientSecrets(store, ['alpha', 'beta', 'gamma']);

    expect(reads.get('alpha')).toMatchObject({ versionId: 'a1', sourceVersionId: 's1' });
    expect(reads.get('beta')).toBeInstanceOf(InvalidConfigurationError);
    expect(reads.has('gamma')).toBe(false);
  });

  it('reads the document as stored with resolveSource: false, never the source, even one the reader may not read', async () => {
    stored(storedDocument('clientSecret'));
    sm.on(GetSecretValueCommand, { SecretId: SOURCE_ARN }).rejects(awsError('AccessDeniedException', 400));

    const read = await readClientSecret(store, 'sirv-prod', { resolveSource: false });

    expect(read.document).toEqual({
      version: 1,
      issuer: { kind: 'sirv', url: 'https://api.sirv.com/v2/token', clientId: 'ZcnZNfzwRhQExoHFoGpxWJ4p2R' },
      policy: {},
      clientSecretSource: { secretArn: SOURCE_ARN, jsonKey: 'clientSecret' },
    });
    expect(read.versionId).toBe('client-v1');
    expect(sm.commandCalls(GetSecretValueCommand, { SecretId: SOURCE_ARN })).toHaveLength(0);
  });

  it('gives the issuer as declared: a resolved client secret left out, a client secret of its own kept', async () => {
    stored(storedDocument());
    sm.on(GetSecretValueCommand, { SecretId: SOURCE_ARN }).resolves({ SecretString: PLANTED, VersionId: 's1' });
    const resolved = (await readClientSecret(store, 'sirv-prod')).document;
    const own = { ...resolved, clientSecretSource: undefined };

    expect(declaredIssuerOf(resolved)).not.toHaveProperty('clientSecret');
    expect(declaredIssuerOf(resolved)).toEqual(
      (await readClientSecret(store, 'sirv-prod', { resolveSource: false })).document.issuer,
    );
    expect(declaredIssuerOf(own)).toMatchObject({ clientSecret: PLANTED });
  });

  it('reads a source shared by several credentials once per batch, each taking its own jsonKey', async () => {
    const docs = (['alpha', 'beta', 'gamma'] as const).map((n, i) => ({
      Name: secretNames(n, 'token-rotator/').client,
      SecretString: JSON.stringify(storedDocument(['first', 'second', 'first'][i])),
      VersionId: `${n}-v1`,
    }));
    sm.on(BatchGetSecretValueCommand).resolves({ SecretValues: docs });
    sm.on(GetSecretValueCommand, { SecretId: SOURCE_ARN }).resolves({
      SecretString: JSON.stringify({ first: `${PLANTED}-1`, second: `${PLANTED}-2` }),
      VersionId: 'source-v3',
    });

    const reads = await readClientSecrets(store, ['alpha', 'beta', 'gamma']);

    expect(sm.commandCalls(GetSecretValueCommand, { SecretId: SOURCE_ARN })).toHaveLength(1);
    const secretOf = (n: string) =>
      (reads.get(n) as { document: { issuer: { clientSecret?: string } } }).document.issuer.clientSecret;
    expect([secretOf('alpha'), secretOf('beta'), secretOf('gamma')]).toEqual([
      `${PLANTED}-1`,
      `${PLANTED}-2`,
      `${PLANTED}-1`,
    ]);
    expect(reads.get('beta')).toMatchObject({ versionId: 'beta-v1', sourceVersionId: 'source-v3' });
  });

  it('gives each credential of a batch its own error when their shared source is refused', async () => {
    sm.on(BatchGetSecretValueCommand).resolves({
      SecretValues: ['alpha', 'beta'].map((n) => ({
        Name: secretNames(n, 'token-rotator/').client,
        SecretString: JSON.stringify(storedDocument()),
      })),
    });
    sm.on(GetSecretValueCommand, { SecretId: SOURCE_ARN }).rejects(awsError('AccessDeniedException', 400));

    const reads = await readClientSecrets(store, ['alpha', 'beta']);

    expect(sm.commandCalls(GetSecretValueCommand, { SecretId: SOURCE_ARN })).toHaveLength(1);
    for (const n of ['alpha', 'beta']) {
      expect(reads.get(n)).toBeInstanceOf(InvalidConfigurationError);
      expect((reads.get(n) as InvalidConfigurationError).message).toMatch(new RegExp(`^Credential "${n}": `));
    }
  });

  it('names the credential and the source in a transient source-read error, never the value', async () => {
    const other = SOURCE_ARN.replace('sirv', 'other');
    sm.on(BatchGetSecretValueCommand).resolves({
      SecretValues: [
        { Name: secretNames('alpha', 'token-rotator/').client, SecretString: JSON.stringify(storedDocument()) },
        {
          Name: names.client,
          SecretString: JSON.stringify({ ...storedDocument(), clientSecretSource: { secretArn: other } }),
        },
      ],
    });
    stored({ ...storedDocument(), clientSecretSource: { secretArn: other } });
    sm.on(GetSecretValueCommand, { SecretId: SOURCE_ARN }).resolves({ SecretString: PLANTED });
    sm.on(GetSecretValueCommand, { SecretId: other }).rejects(awsError('ThrottlingException', 400));
    const batch = await readClientSecrets(store, ['alpha', 'sirv-prod']);

    const error = await caught(readClientSecret(store, 'sirv-prod'), StoreError);

    expect(batch.has('sirv-prod')).toBe(false);
    expect(error.transient).toBe(true);
    expect(error.message).toMatch(/^Credential "sirv-prod": /);
    expect(error.message).toContain(other);
    expect(error.message).toMatch(/ThrottlingException/);
    expect(JSON.stringify({ message: error.message, json: error.toJSON() })).not.toContain(PLANTED);
  });
});
