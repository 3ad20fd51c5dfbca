/**
 * A failed read names its cause and its fix, with a stable `reason`, and never a secret: the
 * environment cases (no credentials, no region, refused credentials, an unreachable endpoint) are
 * produced by the real SDK client on this machine with nothing reaching the network; the answers
 * of AWS (denied, not found, throttled) by a mocked client, as AWS words them.
 */
import { inspect } from 'node:util';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidConfigurationError, StoreError, TokenExpiredError } from '../../../core/errors';
import { TokenReader } from '../../../reader/token-reader';
import { caught } from '../../helpers/caught';
import { frozenClock } from '../../helpers/clock';
import { tokenRecord } from '../../helpers/token-record';

const PLANTED = {
  secretAccessKey: 'PLANTED-aws-secret-access-key-0001',
  sessionToken: 'PLANTED-aws-session-token-0002',
  accessToken: 'PLANTED-access-token-0003',
};
const credentials = {
  accessKeyId: 'AKIDPLANTED0000',
  secretAccessKey: PLANTED.secretAccessKey,
  sessionToken: PLANTED.sessionToken,
};
// Nothing listens on the discard port: a request that got this far would fail to connect.
const NOWHERE = 'http://127.0.0.1:9';

/** Every way an error may be shown: message, JSON, inspection with its causes. */
function everything(error: unknown): string {
  return `${(error as Error).message}\n${JSON.stringify(error)}\n${inspect(error, { depth: 8 })}`;
}

function expectNoSecret(error: unknown): void {
  const text = everything(error);
  for (const planted of Object.values(PLANTED)) expect(text).not.toContain(planted);
  expect(text).not.toContain('$response');
}

async function failureOf(reader: TokenReader, name = 'sirv-prod'): Promise<StoreError> {
  return caught(reader.getToken(name), StoreError);
}

/** An error as the SDK throws it for an AWS answer, with the raw response attached. */
function awsAnswer(name: string, status: number, message: string) {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, requestId: 'req-1', attempts: 1 },
    $response: { statusCode: status, headers: {}, body: `{"__type":"${name}","x":"${PLANTED.accessToken}"}` },
  });
}

function mockedReader(prefix?: string) {
  const client = new SecretsManagerClient({ region: 'eu-west-1', credentials });
  const secrets = mockClient(client);
  return { reader: new TokenReader({ client, ...(prefix === undefined ? {} : { prefix }) }), secrets };
}

describe('TokenReader errors that name the cause and the fix', () => {
  describe('from the environment, with the real SDK client', () => {
    beforeEach(() => {
      vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
      // An environment with no AWS configuration at all, and no instance metadata to ask.
      for (const name of [
        'AWS_REGION',
        'AWS_DEFAULT_REGION',
        'AWS_PROFILE',
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'AWS_SESSION_TOKEN',
        'AWS_WEB_IDENTITY_TOKEN_FILE',
        'AWS_ROLE_ARN',
        'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
        'AWS_CONTAINER_CREDENTIALS_FULL_URI',
        'AWS_ENDPOINT_URL',
        'AWS_ENDPOINT_URL_SECRETS_MANAGER',
      ]) {
        vi.stubEnv(name, undefined);
      }
      vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
      vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/token-rotator-test/config');
      vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/token-rotator-test/credentials');
    });

    afterEach(() => {
      vi.unstubAllEnvs();
      vi.restoreAllMocks();
    });

    it('no AWS credentials: says to give the process credentials, not that Secrets Manager is throttling', async () => {
      const client = new SecretsManagerClient({ region: 'eu-west-1', endpoint: NOWHERE, maxAttempts: 1 });

      const error = await failureOf(new TokenReader({ client }));

      expect(error).toMatchObject({ reason: 'no-aws-credentials', transient: false, credential: 'sirv-prod' });
      expect(error.message).toContain('token-rotator/sirv-prod/token');
      expect(error.message).toContain('no AWS credentials were found');
      expect(error.message).toMatch(/IAM role .*AWS_PROFILE.*AWS_ACCESS_KEY_ID/);
      expect(error.message).not.toMatch(/throttl|retried/);
      expect(error.cause).toBeUndefined();
      expectNoSecret(error);
    });

    it('no region: says to set AWS_REGION', async () => {
      const client = new SecretsManagerClient({ credentials, maxAttempts: 1 });

      const error = await failureOf(new TokenReader({ client }));

      expect(error).toMatchObject({ reason: 'no-region', transient: false });
      expect(error.message).toContain('no AWS region is configured: set AWS_REGION');
      expect(error.message).not.toMatch(/throttl|retried|prefix/);
      expectNoSecret(error);
    });

    it('an endpoint that cannot be reached: transient, retried after a back-off', async () => {
      const client = new SecretsManagerClient({ region: 'eu-west-1', endpoint: NOWHERE, credentials, maxAttempts: 1 });

      const error = await failureOf(new TokenReader({ client }));

      expect(error).toMatchObject({ reason: 'unavailable', transient: true });
      expect(error.message).toContain('the read is retried after a back-off');
      expectNoSecret(error);
    });
  });

  describe('from AWS answers', () => {
    it('not found: names the region, the prefix and the credential to check, in that order', async () => {
      const { reader, secrets } = mockedReader('team-a/');
      secrets
        .on(GetSecretValueCommand)
        .rejects(awsAnswer('ResourceNotFoundException', 400, "Secrets Manager can't find the specified secret."));

      const error = await failureOf(reader);

      expect(error).toMatchObject({ reason: 'not-found', transient: false, status: 400 });
      expect(error.message).toContain('"team-a/sirv-prod/token" in region eu-west-1');
      expect(error.message).toMatch(/AWS_REGION is the region .* the prefix "team-a\/" .* credential "sirv-prod"/);
      expectNoSecret(error);
    });

    it('access denied: names the read policy and quotes who was denied, never a secret', async () => {
      const { reader, secrets } = mockedReader();
      secrets
        .on(GetSecretValueCommand)
        .rejects(
          awsAnswer(
            'AccessDeniedException',
            400,
            `User: arn:aws:sts::123456789012:assumed-role/workload/i-0abc is not authorized to perform: secretsmanager:GetSecretValue on resource: ${PLANTED.accessToken}`,
          ),
        );

      const error = await failureOf(reader);

      expect(error).toMatchObject({ reason: 'access-denied', transient: false });
      expect(error.message).toContain("the credential's readPolicy output (secretsmanager:GetSecretValue");
      expect(error.message).toContain('AWS denied it to arn:aws:sts::123456789012:assumed-role/workload/i-0abc.');
      expect(error.message).not.toContain('DescribeSecret');
      expectNoSecret(error);
    });

    it('refused AWS credentials: says to renew them', async () => {
      const { reader, secrets } = mockedReader();
      secrets
        .on(GetSecretValueCommand)
        .rejects(
          awsAnswer('UnrecognizedClientException', 400, 'The security token included in the request is invalid.'),
        );

      const error = await failureOf(reader);

      expect(error).toMatchObject({ reason: 'aws-credentials-rejected', transient: false });
      expect(error.message).toContain('AWS refused the credentials');
      expectNoSecret(error);
    });

    it('a secret scheduled for deletion, and a KMS key that cannot decrypt: each its own fix', async () => {
      const { reader, secrets } = mockedReader();
      secrets
        .on(GetSecretValueCommand)
        .rejectsOnce(awsAnswer('InvalidRequestException', 400, 'You tried to access a secret marked for deletion.'))
        .rejects(awsAnswer('DecryptionFailure', 400, 'Access to KMS is not allowed'));

      const deleted = await failureOf(reader, 'deleted');
      const undecryptable = await failureOf(reader, 'undecryptable');

      expect(deleted).toMatchObject({ reason: 'invalid-request', transient: false });
      expect(deleted.message).toContain('scheduled for deletion');
      expect(undecryptable).toMatchObject({ reason: 'decryption-failed', transient: false });
      expect(undecryptable.message).toContain('kms:Decrypt');
      expectNoSecret(deleted);
      expectNoSecret(undecryptable);
    });

    it.each([
      ['ThrottlingException', 400, 'throttled', 'throttled the read'],
      ['InternalServiceError', 500, 'unavailable', 'failed or could not be reached'],
      ['ServiceUnavailable', 503, 'unavailable', 'failed or could not be reached'],
    ])('%s (HTTP %i) stays transient: %s, retried after a back-off', async (name, status, reason, words) => {
      const { reader, secrets } = mockedReader();
      secrets.on(GetSecretValueCommand).rejects(awsAnswer(name, status, 'Rate exceeded'));

      const error = await failureOf(reader);

      expect(error).toMatchObject({ reason, transient: true, status });
      expect(error.message).toContain(words);
      expect(error.message).toContain('the read is retried after a back-off');
      expectNoSecret(error);
    });

    it('a failure while an older token is served, then the expiry, carry no secret either', async () => {
      const client = new SecretsManagerClient({ region: 'eu-west-1', credentials });
      const secrets = mockClient(client);
      const clock = frozenClock();
      const errors: Error[] = [];
      const reader = new TokenReader({ client, now: clock.now, onError: (e) => errors.push(e) });
      const record = tokenRecord('sirv-prod', { at: clock.now() }, { accessToken: PLANTED.accessToken });
      secrets
        .on(GetSecretValueCommand)
        .resolvesOnce({ SecretString: JSON.stringify(record) })
        .rejects(awsAnswer('AccessDeniedException', 400, `denied ${PLANTED.accessToken}`));
      await reader.getToken('sirv-prod');

      clock.advance(900);
      await reader.getToken('sirv-prod');
      clock.advance(600);
      const expired = await caught(reader.getToken('sirv-prod'));

      expect(errors).toHaveLength(1);
      expect(expired).toBeInstanceOf(TokenExpiredError);
      expectNoSecret(errors[0]);
      expectNoSecret(expired);
    });
  });

  describe('a prefix no credential can be deployed under', () => {
    it.each(['', 'token-rotator', 'team a/', '/leading-slash/', 'double//', `${'p'.repeat(256)}/`])(
      'refuses %j at construction',
      (prefix) => {
        const make = () => new TokenReader({ prefix, client: new SecretsManagerClient({ region: 'eu-west-1' }) });

        expect(make).toThrow(InvalidConfigurationError);
        expect(make).toThrow(/each ending with "\/" \(e\.g\. "token-rotator\/"\)/);
        expect(caught(make)).toMatchObject({ field: 'prefix', reason: 'invalid-prefix' });
      },
    );

    it('accepts every prefix the store accepts', () => {
      for (const prefix of [`${'p'.repeat(255)}/`, 'token-rotator/', 'team-a/prod/', 'a.b_c+d=e@f-g/']) {
        expect(
          () => new TokenReader({ prefix, client: new SecretsManagerClient({ region: 'eu-west-1' }) }),
        ).not.toThrow();
      }
    });
  });
});
