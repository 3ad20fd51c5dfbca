import * as pulumi from '@pulumi/pulumi';
import * as rpc from '@pulumi/pulumi/runtime/rpc';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { checkInputs } from '../../provider/inputs';

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

const registered: Registered[] = [];
const SECRET = 'planted-example-secret-1234';

/** The plain value of an input that may be wrapped as a secret. */
function unwrap(value: unknown): unknown {
  const v = value as Record<string, unknown> | undefined;
  return v && v[rpc.specialSigKey] === rpc.specialSecretSig ? v.value : value;
}

async function runExample(dir: string, config: Record<string, string>, secrets: string[] = []) {
  registered.length = 0;
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        return {
          id: `${args.name}-id`,
          state: { ...args.inputs, tokenSecretArn: `arn:aws:secretsmanager:::${args.name}` },
        };
      },
      call: () => ({}),
    },
    `token-rotator-example-${dir}`,
    'dev',
  );
  const project = `token-rotator-example-${dir}`;
  pulumi.runtime.setAllConfig(
    {
      ...Object.fromEntries(Object.entries(config).map(([k, v]) => [`${project}:${k}`, v])),
      // The stack's region, which every credential records (a program without one fails check).
      'aws:region': 'eu-west-1',
    },
    secrets.map((k) => `${project}:${k}`),
  );
  vi.resetModules();
  const outputs = (await import(`../../examples/${dir}/index.ts`)) as Record<string, pulumi.Output<unknown>>;
  await new Promise<void>((resolve) => outputs.tokenSecretArn?.apply(() => resolve()));
  return outputs;
}

describe('the examples', () => {
  beforeEach(() => vi.resetModules());

  it.each([
    ['sirv', { clientId: 'ZcnZNfzwRhQExoHFoGpxWJ4p2R', clientSecret: SECRET }, ['clientSecret'], 'sirv'],
    ['aspose', { clientId: 'app-sid', clientSecret: SECRET }, ['clientSecret'], 'aspose'],
    ['upload', {}, [], 'upload'],
    [
      'header-jwt',
      { url: 'https://api.vendor.example/auth/jwt', clientId: 'client-123', clientSecret: SECRET },
      ['clientSecret'],
      'header-jwt',
    ],
  ] as const)('declares a valid %s credential with its secret kept secret', async (dir, config, secrets, kind) => {
    // Act
    await runExample(dir, config, [...secrets]);

    // Assess
    const credential = registered.find((r) => r.type === 'pulumi-nodejs:dynamic/token-rotator:ProviderCredential');
    expect(credential).toBeDefined();
    const issuer = credential?.inputs.issuer as Record<string, unknown>;
    expect(issuer[rpc.specialSigKey]).toBe(rpc.specialSecretSig);
    const inputs = { ...credential?.inputs, issuer: unwrap(issuer), codeVersion: '0' };
    expect((inputs.issuer as { kind: string }).kind).toBe(kind);
    expect(credential?.inputs.aws).toEqual({ region: 'eu-west-1' });
    // The provider's own check accepts what the example declares.
    expect(checkInputs(inputs).failures).toEqual([]);
  });
});
