import { SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidConfigurationError, StoreError } from '../../../core/errors';
import { storeError } from '../../../core/store/aws-errors';
import {
  clientConfig,
  explainAwsFailure,
  PROVIDER_MAX_ATTEMPTS,
  recordedSettings,
  regionOfArn,
  resolveAwsSettings,
} from '../../../provider/aws-settings';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:token-rotator/sirv-prod/token-AbCdEf';

function awsError(name: string, message = 'denied'): SecretsManagerServiceException {
  return new SecretsManagerServiceException({ name, message, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

describe('resolveAwsSettings', () => {
  it('takes the arguments first, then the stack, then the environment for the region only', () => {
    const stack = { region: 'eu-west-1', profile: 'platform' };
    expect(resolveAwsSettings({ region: 'ap-southeast-2' }, stack, 'us-west-2')).toEqual({
      region: 'ap-southeast-2',
      profile: 'platform',
    });
    expect(resolveAwsSettings({}, stack, 'us-west-2')).toEqual({ region: 'eu-west-1', profile: 'platform' });
    expect(resolveAwsSettings({ profile: 'mine' }, {}, 'us-west-2')).toEqual({ region: 'us-west-2', profile: 'mine' });
    expect(resolveAwsSettings({}, {})).toEqual({});
  });

  it('records the roles of aws:assumeRoles, or the one of aws:assumeRole, with names only', () => {
    const roleArn = 'arn:aws:iam::123456789012:role/deployer';
    const chained = resolveAwsSettings(
      {},
      {
        region: 'us-east-1',
        assumeRoles: [{ roleArn, sessionName: 'ci', externalId: 'ext-1', policy: '{}' } as never],
      },
    );
    expect(chained.assumeRoles).toEqual([{ roleArn, sessionName: 'ci', externalId: 'ext-1' }]);
    expect(resolveAwsSettings({}, { region: 'us-east-1', assumeRole: { roleArn } }).assumeRoles).toEqual([{ roleArn }]);
  });
});

describe('recordedSettings', () => {
  it('reads the recorded settings, else the region of the secrets ARNs', () => {
    expect(recordedSettings({ aws: { region: 'us-east-2', profile: 'p' }, tokenSecretArn: ARN })).toEqual({
      region: 'us-east-2',
      profile: 'p',
    });
    expect(recordedSettings({ tokenSecretArn: '', clientSecretArn: ARN })).toEqual({ region: 'eu-west-1' });
    expect(recordedSettings({})).toEqual({});
  });

  it('finds no region in what is not a Secrets Manager ARN', () => {
    expect(regionOfArn('arn:aws:secretsmanager:::x')).toBeUndefined();
    expect(regionOfArn(42)).toBeUndefined();
    expect(regionOfArn(ARN)).toBe('eu-west-1');
  });
});

describe('clientConfig', () => {
  it('passes region and profile, credentials only when a role is assumed, and enough attempts to ride out throttling', () => {
    expect(clientConfig({ region: 'eu-west-1', profile: 'platform' })).toEqual({
      region: 'eu-west-1',
      profile: 'platform',
      maxAttempts: PROVIDER_MAX_ATTEMPTS,
    });
    expect(PROVIDER_MAX_ATTEMPTS).toBeGreaterThanOrEqual(10);
    const withRole = clientConfig({
      region: 'eu-west-1',
      assumeRoles: [{ roleArn: 'arn:aws:iam::123456789012:role/deployer' }],
    });
    expect(typeof withRole.credentials).toBe('function');
  });
});

describe('explainAwsFailure', () => {
  const settings = { region: 'eu-west-1', profile: 'platform' };

  it('turns a missing region into a configuration error that says how to set one', () => {
    const error = explainAwsFailure(new Error('Region is missing'), 'sirv-prod', {});
    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect((error as Error).message).toMatch(/Credential "sirv-prod": no AWS region.*pulumi config set aws:region/);
  });

  it('says where it looked when no credentials load, through the store error that wraps it', () => {
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    const error = explainAwsFailure(storeError(noCredentials, 'sirv-prod', 'DescribeSecret'), 'sirv-prod', settings);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toBe(
      'Credential "sirv-prod": no AWS credentials could be loaded (region eu-west-1, profile "platform"). ' +
        'Check that profile "platform" exists in this machine\'s AWS config files (for SSO: aws sso login --profile platform), then run it again.',
    );
  });

  it.each([
    ['ExpiredTokenException', /have expired \(region eu-west-1, profile "platform"\)\. Renew them/],
    ['UnrecognizedClientException', /AWS rejected the credentials \(UnrecognizedClientException; region eu-west-1/],
    ['AccessDeniedException', /AWS denied access \(AccessDeniedException; region eu-west-1.*docs\/provider\.md/],
  ])('explains %s with the settings and what to do', (name, message) => {
    const error = explainAwsFailure(storeError(awsError(name), 'sirv-prod', 'CreateSecret'), 'sirv-prod', settings);
    expect((error as Error).message).toMatch(message);
    expect((error as StoreError).transient).toBe(false);
  });

  it('never throws, whatever is thrown, cause cycles included, and keeps no foreign message', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.boolean(), (name, message, cyclic) => {
        const error = Object.assign(new Error(message), { name });
        if (cyclic) Object.assign(error, { cause: error });
        const explained = explainAwsFailure(error, 'sirv-prod', settings);
        if (explained !== error) {
          expect((explained as Error).message).toMatch(/^Credential "sirv-prod": /);
          if (message.length > 12) expect((explained as Error).message).not.toContain(message);
        }
      }),
    );
  });

  it('leaves every other failure as it is', () => {
    const throttled = storeError(awsError('ThrottlingException'), 'sirv-prod', 'PutSecretValue');
    expect(explainAwsFailure(throttled, 'sirv-prod', settings)).toBe(throttled);
  });
});
