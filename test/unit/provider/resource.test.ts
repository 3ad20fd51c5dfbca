import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { tokenReadPolicy } from '../../../provider/read-policy';
import { caught } from '../../helpers/caught';
import { promiseOf } from '../../helpers/pulumi-mocks';

type Resource = typeof import('../../../provider/resource.js');

const CREDENTIAL_TYPE = 'pulumi-nodejs:dynamic/token-rotator:ProviderCredential';
const TOKEN_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/sirv-prod/token-AbCdEf';
const CLIENT_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/sirv-prod/client-GhIjKl';
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/0f6d3d1e-2c4b-4a57-9a3e-6f1d2b3c4d5e';

const registered: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
let resource: Resource;

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        // What the provider's create returns beside the inputs: the ARNs only it can know.
        const outputs = args.type === CREDENTIAL_TYPE ? { tokenSecretArn: TOKEN_ARN, clientSecretArn: CLIENT_ARN } : {};
        return { id: `${args.name}-id`, state: { ...args.inputs, ...outputs } };
      },
      call: () => ({}),
    },
    'platform',
    'dev',
  );
  pulumi.runtime.setAllConfig({ 'aws:region': 'eu-west-1' });
  resource = await import('../../../provider/resource.js');
});

afterEach(() => {
  registered.length = 0;
  vi.unstubAllEnvs();
});

const issuer = {
  kind: 'sirv' as const,
  clientId: 'ZcnZNfzwRhQExoHFoGpxWJ4p2R',
  clientSecret: 'planted-resource-test-secret',
};

function inputsOf(name: string): Record<string, unknown> {
  const found = registered.find((r) => r.type === CREDENTIAL_TYPE && r.name === name);
  if (!found) throw new Error(`no credential ${name} registered`);
  return found.inputs;
}

describe('ProviderCredential in a program', () => {
  it('derives the secret names and the read policy from the token secret ARN, as the provider does', async () => {
    // Act
    const plain = new resource.ProviderCredential('sirv-prod', { prefix: 'team/', issuer });
    const keyed = new resource.ProviderCredential('sirv-kms', { prefix: 'team/', issuer, kmsKeyId: KEY_ARN });
    const aliased = new resource.ProviderCredential('sirv-alias', { issuer, kmsKeyId: 'alias/tokens' });

    // Assess
    expect(await promiseOf(plain.tokenSecretName)).toBe('team/sirv-prod/token');
    expect(await promiseOf(plain.clientSecretName)).toBe('team/sirv-prod/client');
    expect(await promiseOf(aliased.tokenSecretName)).toBe('token-rotator/sirv-alias/token');
    expect(await promiseOf(plain.readPolicy)).toBe(tokenReadPolicy([TOKEN_ARN]));
    expect(await promiseOf(keyed.readPolicy)).toBe(tokenReadPolicy([TOKEN_ARN], KEY_ARN));
    // An alias cannot be a policy's resource: the policy names the secret alone.
    expect(await promiseOf(aliased.readPolicy)).toBe(tokenReadPolicy([TOKEN_ARN]));
  });

  it('makes the derived outputs depend on the credential, so a consumer waits for its secrets', async () => {
    // Act
    const credential = new resource.ProviderCredential('sirv-dep', { issuer });

    // Assess
    for (const output of [credential.tokenSecretName, credential.clientSecretName, credential.readPolicy]) {
      const resources = await (output as unknown as { allResources(): Promise<Set<pulumi.Resource>> }).allResources();
      expect(resources.has(credential)).toBe(true);
    }
  });

  it('records its own URN as the owner, at once for a top-level credential and through a parent', async () => {
    // Prepare
    class Platform extends pulumi.ComponentResource {
      constructor(name: string) {
        super('acme:platform:Credentials', name);
      }
    }
    const parent = new Platform('team');

    // Act
    const top = new resource.ProviderCredential('sirv-top', { issuer });
    const child = new resource.ProviderCredential('sirv-child', { issuer }, { parent });
    await promiseOf(child.tokenSecretArn);

    // Assess
    expect(inputsOf('sirv-top').owner).toBe(await promiseOf(top.urn));
    expect(inputsOf('sirv-child').owner).toBe(await promiseOf(child.urn));
    expect(inputsOf('sirv-child').owner).toContain('acme:platform:Credentials$');
  });

  it('records the region from the arguments, the stack, the shell, or else the profile', async () => {
    // Prepare: the stack names eu-west-1 (beforeAll), the shell another region, and a profile a third.
    const dir = mkdtempSync(join(tmpdir(), 'token-rotator-resource-'));
    writeFileSync(join(dir, 'config'), '[profile regional]\nregion = sa-east-1\n');
    vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'config'));
    vi.stubEnv('AWS_REGION', 'ap-south-1');

    // Act
    new resource.ProviderCredential('by-argument', { issuer, region: 'us-west-2', profile: 'platform' });
    new resource.ProviderCredential('by-output', { issuer, region: pulumi.output('eu-central-1') });
    new resource.ProviderCredential('by-stack', { issuer });
    pulumi.runtime.setAllConfig({});
    try {
      new resource.ProviderCredential('by-shell', { issuer });
      vi.stubEnv('AWS_REGION', undefined);
      vi.stubEnv('AWS_DEFAULT_REGION', undefined);
      new resource.ProviderCredential('by-profile', { issuer, profile: 'regional' });
    } finally {
      pulumi.runtime.setAllConfig({ 'aws:region': 'eu-west-1' });
    }
    await vi.waitFor(() => expect(registered.filter((r) => r.type === CREDENTIAL_TYPE)).toHaveLength(5));

    // Assess
    expect(inputsOf('by-argument').aws).toEqual({ region: 'us-west-2', profile: 'platform' });
    expect(inputsOf('by-output').aws).toEqual({ region: 'eu-central-1' });
    expect(inputsOf('by-stack').aws).toEqual({ region: 'eu-west-1' });
    expect(inputsOf('by-shell').aws).toEqual({ region: 'ap-south-1' });
    expect(inputsOf('by-profile').aws).toEqual({ region: 'sa-east-1', profile: 'regional' });
  });

  it('leaves Error.stackTraceLimit as it found it, and gives a refused declaration its stack back', async () => {
    // Prepare
    const before = Error.stackTraceLimit;

    // Act
    new resource.ProviderCredential('sirv-limit', { issuer });
    // `providers` is refused synchronously by Pulumi for a custom resource.
    const refused = caught(
      () =>
        new resource.ProviderCredential('sirv-refused', { issuer }, { providers: {} } as pulumi.CustomResourceOptions),
    );

    // Assess
    expect(Error.stackTraceLimit).toBe(before);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toMatch(/providers/);
    expect((refused as Error).stack).toContain('resource.test.ts');
  });
});
