/**
 * How often the provider reads a credential's `clientSecretSource`: only where the value goes to
 * the issuer (create, and an update that validates new credentials). Refresh, an update with
 * nothing to validate, and an import need only the reference, which the client document holds,
 * so a deployer who may not read the source can still run them.
 */
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidConfigurationError } from '../../../core/errors';
import { reveal, TokenRotatorProvider } from '../../../plugin/provider';
import { CREDENTIAL_TOKEN } from '../../../plugin/schema';
import { create, read, update } from '../../../provider/runtime';
import { tokenRecord } from '../../helpers/token-record';

const NOW = new Date('2026-11-22T12:00:00.000Z');
const PLANTED = 'planted-sourced-secret-5e0d17aa';
const SOURCE_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:platform/sirv-AbCdEf';
const CLIENT_ID = 'ZcnZNfzwRhQExoHFoGpxWJ4p2R';
const arnOf = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;
const sm = mockClient(SecretsManagerClient);

const declared = (clientId = CLIENT_ID) => ({
  name: 'sirv-prod',
  prefix: 'token-rotator/',
  issuer: { kind: 'sirv', clientId },
  clientSecretSource: { secretArn: SOURCE_ARN, jsonKey: 'clientSecret' },
  codeVersion: '0.1.0',
});
const state = { ...declared(), tokenSecretArn: arnOf('t'), clientSecretArn: arnOf('c') };

/** The client document as the provider stored it: the reference, never the value. */
const storedDocument = (clientId = CLIENT_ID) =>
  JSON.stringify({
    version: 1,
    issuer: { kind: 'sirv', url: 'https://api.sirv.com/v2/token', clientId },
    policy: {},
    clientSecretSource: { secretArn: SOURCE_ARN, jsonKey: 'clientSecret' },
  });

const denied = () =>
  new SecretsManagerServiceException({
    name: 'AccessDeniedException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: `User is not authorized to perform secretsmanager:GetSecretValue on ${SOURCE_ARN}`,
  });

/** The issuer's requests, each with the client secret it was sent. */
function sirvFetch(sent: string[]) {
  return (async (_url: string | URL | Request, init?: RequestInit) => {
    sent.push(String((JSON.parse(String(init?.body ?? '{}')) as { clientSecret?: unknown }).clientSecret));
    return Response.json({ token: 'issued-access-token-1', expiresIn: 1200 });
  }) as typeof fetch;
}

const seams = (sent: string[] = []) => ({
  secretsManager: new SecretsManagerClient({ region: 'us-east-1' }),
  fetch: sirvFetch(sent),
  now: () => NOW,
  random: () => 0,
});

const sourceReads = () => sm.commandCalls(GetSecretValueCommand, { SecretId: SOURCE_ARN }).length;

/** A live credential whose client document holds `storedDocument(clientId)`; the source answers with `source`. */
function arrange(source: 'readable' | 'denied', clientId = CLIENT_ID) {
  sm.reset();
  sm.on(DescribeSecretCommand).callsFake((input: { SecretId: string }) => ({
    ARN: input.SecretId.endsWith('/client') ? arnOf('c') : arnOf('t'),
    Name: input.SecretId,
    Tags: [
      { Key: 'token-rotator:credential', Value: 'sirv-prod' },
      // The token was written for the stored client document: nothing left undone to finish.
      { Key: 'token-rotator:client-version', Value: 'client-v1' },
    ],
  }));
  sm.on(GetSecretValueCommand, { SecretId: 'token-rotator/sirv-prod/client' }).resolves({
    SecretString: storedDocument(clientId),
    VersionId: 'client-v1',
  });
  sm.on(GetSecretValueCommand, { SecretId: 'token-rotator/sirv-prod/token' }).resolves({
    SecretString: JSON.stringify(
      tokenRecord('sirv-prod', { at: NOW, issued: -300, refresh: 540, expires: 900 }, { generation: 3 }),
    ),
  });
  if (source === 'readable') {
    sm.on(GetSecretValueCommand, { SecretId: SOURCE_ARN }).resolves({
      SecretString: JSON.stringify({ clientSecret: PLANTED }),
      VersionId: 'source-v1',
    });
  } else {
    sm.on(GetSecretValueCommand, { SecretId: SOURCE_ARN }).rejects(denied());
  }
  sm.on(PutSecretValueCommand).resolves({ VersionId: 'v2' });
  sm.on(TagResourceCommand).resolves({});
}

describe('create of a credential with a clientSecretSource', () => {
  it('reads the source once, for the first token, and writes only the reference', async () => {
    sm.reset();
    sm.on(DescribeSecretCommand).rejects(new ResourceNotFoundException({ message: 'not found', $metadata: {} }));
    sm.on(CreateSecretCommand).callsFake((input: { Name: string }) => ({ ARN: arnOf(input.Name), Name: input.Name }));
    sm.on(GetSecretValueCommand, { SecretId: SOURCE_ARN }).resolves({
      SecretString: JSON.stringify({ clientSecret: PLANTED }),
    });
    const sent: string[] = [];

    await create(declared(), seams(sent));

    expect(sent).toEqual([PLANTED]);
    expect(sourceReads()).toBe(1);
    const written = sm.commandCalls(CreateSecretCommand).map((c) => c.args[0].input.SecretString ?? '');
    expect(written.join()).not.toContain(PLANTED);
  });
});

describe('refresh of a credential with a clientSecretSource', () => {
  beforeEach(() => arrange('readable'));

  it('reads the reference from the client document and never the source', async () => {
    const refreshed = await read('token-rotator/sirv-prod', state, seams());

    expect(refreshed.props?.issuer).toEqual(declared().issuer);
    expect(refreshed.props?.clientSecretSource).toEqual(declared().clientSecretSource);
    expect(sourceReads()).toBe(0);
  });

  it('reports drift of the stored issuer to a deployer who may not read the source, never a value', async () => {
    arrange('denied', 'changed-out-of-band-client');

    const refreshed = await read('token-rotator/sirv-prod', state, seams());

    expect(refreshed.props?.issuer).toEqual({
      kind: 'sirv',
      url: 'https://api.sirv.com/v2/token',
      clientId: 'changed-out-of-band-client',
    });
    expect(refreshed.props?.clientSecretSource).toEqual(declared().clientSecretSource);
    expect(JSON.stringify(refreshed)).not.toContain(PLANTED);
  });
});

describe('update of a credential with a clientSecretSource', () => {
  beforeEach(() => arrange('readable'));

  it('reads the source once, to validate a changed declaration against the issuer', async () => {
    const sent: string[] = [];

    await update(state, declared('NewClientIdOfTheCredential'), seams(sent));

    expect(sent).toEqual([PLANTED]);
    expect(sourceReads()).toBe(1);
    const written = sm.commandCalls(PutSecretValueCommand).map((c) => c.args[0].input.SecretString ?? '');
    expect(written.join()).not.toContain(PLANTED);
  });

  it('refuses a source it may not read with the permission wanted on that source, before writing', async () => {
    arrange('denied');

    const error = await update(state, declared('NewClientIdOfTheCredential'), seams()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect((error as InvalidConfigurationError).field).toBe('clientSecretSource.secretArn');
    expect((error as Error).message).toContain(`Grant secretsmanager:GetSecretValue on ${SOURCE_ARN}`);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('reads no source when nothing is validated (only tags change), even one it may not read', async () => {
    arrange('denied');
    const sent: string[] = [];

    await update(state, { ...declared(), tags: { team: 'media' } }, seams(sent));

    expect(sent).toEqual([]);
    expect(sourceReads()).toBe(0);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });
});

describe('pulumi import of a credential with a clientSecretSource', () => {
  const provider = new TokenRotatorProvider('0.1.0');
  const URN = `urn:pulumi:dev::platform::${CREDENTIAL_TOKEN}::sirv-prod`;

  it.each(['readable', 'denied'] as const)(
    'adopts the reference with the source %s, reading no source',
    async (source) => {
      arrange(source);

      const result = await provider.read('token-rotator/sirv-prod', URN, {});

      const inputs = reveal(result.inputs) as Record<string, unknown>;
      expect(inputs.clientSecretSource).toEqual(declared().clientSecretSource);
      expect(inputs.issuer).toEqual({ kind: 'sirv', url: 'https://api.sirv.com/v2/token', clientId: CLIENT_ID });
      expect(result.id).toBe('token-rotator/sirv-prod');
      expect(sourceReads()).toBe(0);
      expect(JSON.stringify(reveal(result))).not.toContain(PLANTED);
    },
  );
});
