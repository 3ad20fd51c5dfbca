import { describe, expect, expectTypeOf, it } from 'vitest';
import { checkInputs, UNKNOWN, withSourcedClientSecret } from '../../../provider/inputs';
import type { ProviderCredentialArgs } from '../../../provider/resource';
import { checkForPulumi, diff } from '../../../provider/runtime';

const SOURCE_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:platform/sirv-AbCdEf';
const PLANTED = 'planted-client-secret-9c2e41';

const sourced = (issuer: Record<string, unknown>, source: unknown = { secretArn: SOURCE_ARN }) => ({
  name: 'sirv-prod',
  issuer,
  clientSecretSource: source,
  aws: { region: 'us-east-1' },
  codeVersion: '0.1.0',
});
const SIRV = { kind: 'sirv', clientId: 'ZcnZNfzwRhQExoHFoGpxWJ4p2R' };

describe('check of clientSecretSource', () => {
  it.each([
    ['sirv', SIRV],
    ['aspose', { kind: 'aspose', clientId: 'c' }],
    ['json', { kind: 'json', url: 'https://auth.example.com/token', clientId: 'c' }],
    [
      'oauth2 (client_secret_basic)',
      { kind: 'oauth2', tokenUrl: 'https://a.example/t', clientId: 'c', authMethod: 'client_secret_basic' },
    ],
    ['oauth2 (default client_secret_post)', { kind: 'oauth2', tokenUrl: 'https://a.example/t', clientId: 'c' }],
    ['header-jwt', { kind: 'header-jwt', url: 'https://a.example/jwt', clientId: 'c' }],
  ])('accepts a %s issuer without clientSecret, and create puts the value read in place', (_kind, issuer) => {
    const { failures, credential } = checkInputs(sourced(issuer, { secretArn: SOURCE_ARN, jsonKey: 'clientSecret' }));

    expect(failures).toEqual([]);
    expect(credential?.inputs.clientSecretSource).toEqual({ secretArn: SOURCE_ARN, jsonKey: 'clientSecret' });
    // The declared issuer, as outputs echo it, holds no client secret.
    expect(credential?.inputs.issuer).not.toHaveProperty('clientSecret');
    const resolved = withSourcedClientSecret(credential?.issuer ?? ({} as never), PLANTED);
    expect(resolved).toMatchObject({ clientSecret: PLANTED });
  });

  it('refuses to put a value in place of a client secret check did not stand in for', () => {
    const { credential } = checkInputs({
      ...sourced({ ...SIRV, clientSecret: PLANTED }),
      clientSecretSource: undefined,
    });
    expect(() => withSourcedClientSecret(credential?.issuer ?? ({} as never), 'other-value-123')).toThrow(TypeError);
  });

  it.each([
    [
      'both a clientSecret and a source',
      sourced({ ...SIRV, clientSecret: PLANTED }),
      'clientSecretSource',
      /either issuer\.clientSecret or clientSecretSource, not both; remove issuer\.clientSecret/,
    ],
    [
      'a kind without a client secret',
      sourced({ kind: 'upload', subject: 'app' }),
      'clientSecretSource',
      /a upload issuer has no client secret to read; remove clientSecretSource/,
    ],
    [
      'oauth2 with private_key_jwt',
      sourced({
        kind: 'oauth2',
        tokenUrl: 'https://a.example/t',
        clientId: 'c',
        authMethod: 'private_key_jwt',
        kms: { keyId: 'alias/k' },
      }),
      'clientSecretSource',
      /private_key_jwt" authenticates with a key/,
    ],
    [
      'a secret name, not an ARN',
      sourced(SIRV, { secretArn: 'platform/sirv' }),
      'clientSecretSource.secretArn',
      /complete ARN/,
    ],
    [
      'a partial ARN (no six-character suffix)',
      sourced(SIRV, { secretArn: SOURCE_ARN.replace('-AbCdEf', '') }),
      'clientSecretSource.secretArn',
      /six characters Secrets Manager adds/,
    ],
    [
      'an SSM parameter ARN',
      sourced(SIRV, { secretArn: 'arn:aws:ssm:us-east-1:123456789012:parameter/sirv' }),
      'clientSecretSource.secretArn',
      /Secrets Manager secret's complete ARN/,
    ],
    [
      'a source in another region than the credential',
      sourced(SIRV, { secretArn: SOURCE_ARN.replace('us-east-1', 'eu-west-1') }),
      'clientSecretSource.secretArn',
      /credential's region us-east-1.*got one in eu-west-1; replicate/,
    ],
    [
      'an empty jsonKey',
      sourced(SIRV, { secretArn: SOURCE_ARN, jsonKey: '' }),
      'clientSecretSource.jsonKey',
      /non-empty jsonKey/,
    ],
    [
      'an unknown field',
      sourced(SIRV, { secretArn: SOURCE_ARN, key: 'x' }),
      'clientSecretSource',
      /unknown field\(s\) key/,
    ],
    ['a string', sourced(SIRV, SOURCE_ARN), 'clientSecretSource', /object \{ secretArn, jsonKey\? \}/],
  ])('refuses %s, naming the field', (_what, inputs, property, reason) => {
    const { failures } = checkInputs(inputs);

    const failure = failures.find((f) => f.property === property);
    expect(failure, JSON.stringify(failures)).toBeDefined();
    expect(failure?.reason).toMatch(reason);
    expect(JSON.stringify(failures)).not.toContain(PLANTED);
  });

  it('says it as pulumi up shows it: the credential, the field, what to do', () => {
    const { failures } = checkForPulumi(sourced({ ...SIRV, clientSecret: PLANTED }));

    expect(failures).toEqual([
      {
        property: '',
        reason: expect.stringMatching(
          /^Credential "sirv-prod": clientSecretSource: expected either issuer\.clientSecret or clientSecretSource/,
        ),
      },
    ]);
  });

  it('passes a source not known yet (preview)', () => {
    expect(checkInputs(sourced(SIRV, UNKNOWN)).failures).toEqual([]);
    expect(checkInputs(sourced(SIRV, { secretArn: UNKNOWN })).failures).toEqual([]);
  });

  it('updates in place when the source changes', () => {
    const olds = { ...sourced(SIRV), tokenSecretArn: 't', clientSecretArn: 'c' };
    const news = sourced(SIRV, { secretArn: SOURCE_ARN, jsonKey: 'secret' });

    expect(diff(olds, news)).toMatchObject({ changes: true, replaces: [] });
  });
});

describe('ProviderCredentialArgs', () => {
  it('types a sourced issuer without clientSecret (judged by npm run typecheck)', () => {
    expectTypeOf({
      issuer: { kind: 'sirv' as const, clientId: 'ZcnZNfzwRhQExoHFoGpxWJ4p2R' },
      clientSecretSource: { secretArn: SOURCE_ARN, jsonKey: 'clientSecret' },
    }).toExtend<ProviderCredentialArgs>();
  });
});
