import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidConfigurationError } from '../../../core/errors';
import { getToken, TokenCache, TokenReader } from '../../../reader';
import { tokenRecord } from '../../helpers/token-record';

// The default reader uses the real clock: records are issued now and stay fresh for the test.
const fresh = (credential: string, accessToken: string) => tokenRecord(credential, { at: Date.now() }, { accessToken });

let secrets: AwsClientStub<SecretsManagerClient>;
let prefixCount = 0;
let prefix: string;

beforeEach(() => {
  vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
  vi.stubEnv('AWS_REGION', 'us-east-1');
  // Every default client the facade builds is this mock (aws-sdk-client-mock stubs the class).
  secrets = mockClient(SecretsManagerClient);
  // Default readers live for the whole process: a prefix of its own keeps each test's cache apart.
  prefixCount += 1;
  prefix = `get-token-${prefixCount}/`;
});

afterEach(() => {
  secrets.restore();
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('getToken', () => {
  it('reads the token secret of the default prefix once and answers later calls from the cache', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(fresh('sirv-prod', 'first')) });

    const first = await getToken('sirv-prod');
    const second = await getToken('sirv-prod');

    expect(first.accessToken).toBe('first');
    expect(second.accessToken).toBe('first');
    const reads = secrets.commandCalls(GetSecretValueCommand);
    expect(reads.map((c) => c.args[0].input.SecretId)).toEqual(['token-rotator/sirv-prod/token']);
  });

  it('keeps one reader per prefix and reads again when asked to force the fetch', async () => {
    secrets
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify(fresh('aspose', 'one')) })
      .resolves({ SecretString: JSON.stringify(fresh('aspose', 'two')) });

    expect((await getToken('aspose', { prefix })).accessToken).toBe('one');
    expect((await getToken('aspose', { prefix })).accessToken).toBe('one');
    expect((await getToken('aspose', { prefix, forceFetch: true })).accessToken).toBe('two');

    const ids = secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId);
    expect(ids).toEqual([`${prefix}aspose/token`, `${prefix}aspose/token`]);
  });

  it('shares one cache with every TokenReader made without a client, as the default client is shared', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(fresh('shared', 'one')) });
    const reader = new TokenReader({ prefix });

    await getToken('shared', { prefix });
    await reader.getToken('shared');
    await Promise.all([getToken('shared', { prefix }), reader.getToken('shared')]);

    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('does not share with a reader given a cache of its own', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(fresh('apart', 'one')) });

    await getToken('apart', { prefix });
    await new TokenReader({ prefix, cache: new TokenCache() }).getToken('apart');

    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('refuses a name no credential can have, before any read', async () => {
    await expect(getToken('../other/x', { prefix })).rejects.toBeInstanceOf(InvalidConfigurationError);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });
});
