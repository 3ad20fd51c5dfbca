/**
 * A workload's reader against records written by a newer rotator (docs/compatibility.md): the
 * next minor version (fields added, same `version: 1`) is read; the next major one is refused
 * with an error that tells the workload to upgrade.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { InvalidTokenRecordError, NEWER_TOKEN_RECORD_REASON } from '../../../core/token';
import { TokenReader } from '../../../reader/token-reader';
import { caught } from '../../helpers/caught';
import { frozenClock } from '../../helpers/clock';
import { tokenRecord } from '../../helpers/token-record';

const T0 = Date.parse('2026-11-22T12:00:00.000Z');
const ACCESS_TOKEN = 'planted-access-token-of-a-newer-rotator';

function readerOf(secretString: string) {
  const client = new SecretsManagerClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
  });
  mockClient(client).on(GetSecretValueCommand).resolves({ SecretString: secretString });
  return new TokenReader({ client, now: frozenClock(T0).now });
}

describe('TokenReader and records of newer versions', () => {
  it('reads a record of the next minor version, ignoring the fields it does not know', async () => {
    // Prepare
    const known = tokenRecord('sirv-prod', { at: T0 }, { accessToken: ACCESS_TOKEN });
    const reader = readerOf(JSON.stringify({ ...known, tokenId: 'tok-1', claims: { sub: 'x' } }));
    // Act
    const record = await reader.getToken('sirv-prod');
    // Assess
    expect(record).toEqual(known);
  });

  it('refuses a record of the next major version, saying to upgrade, without quoting the token', async () => {
    // Prepare
    const { accessToken, ...rest } = tokenRecord('sirv-prod', { at: T0 }, { accessToken: ACCESS_TOKEN });
    const reader = readerOf(JSON.stringify({ ...rest, version: 2, credentials: [{ accessToken }] }));
    // Act
    const error = await caught(reader.getToken('sirv-prod'));
    // Assess
    expect(error).toBeInstanceOf(InvalidTokenRecordError);
    expect(error).toMatchObject({ code: 'InvalidTokenRecord', reason: NEWER_TOKEN_RECORD_REASON });
    expect((error as Error).message).toMatch(
      /version 2 token record; this code reads version 1\. Upgrade token-rotator/,
    );
    expect(JSON.stringify(error)).not.toContain(ACCESS_TOKEN);
    expect((error as Error).message).not.toContain(ACCESS_TOKEN);
  });
});
