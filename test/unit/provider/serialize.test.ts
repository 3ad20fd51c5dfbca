import * as pulumi from '@pulumi/pulumi';
import { describe, expect, it } from 'vitest';
import { CredentialProvider, PROVIDER_RUNTIME_MODULE } from '../../../provider/provider';

const PLANTED_SECRET = 'planted-serialization-secret-91d4';

describe('CredentialProvider serialization', () => {
  it('serializes to a small stub that loads the runtime by name and captures no secret', async () => {
    // Prepare: a secret the program holds while it constructs the provider.
    process.env.TOKEN_ROTATOR_TEST_SECRET = PLANTED_SECRET;
    const issuer = { kind: 'sirv', clientId: 'id', clientSecret: PLANTED_SECRET };
    const provider = new CredentialProvider();

    // Act
    const serialized = await pulumi.runtime.serializeFunction(() => provider);

    // Assess
    expect(serialized.text).toContain(PROVIDER_RUNTIME_MODULE);
    expect(serialized.text).not.toContain(PLANTED_SECRET);
    expect(serialized.text).not.toContain(JSON.stringify(issuer));
    // No SDK or our own modules are inlined: they are required by name in the provider process.
    expect(serialized.text).not.toMatch(/SecretsManagerClient|PutSecretValueCommand|zod/);
    expect(serialized.text.length).toBeLessThan(8_000);
    delete process.env.TOKEN_ROTATOR_TEST_SECRET;
  });

  it('evaluates in a fresh module and exposes every provider method', async () => {
    const serialized = await pulumi.runtime.serializeFunction(() => new CredentialProvider('node:path'));
    const module = { exports: {} as Record<string, () => unknown> };
    new Function('module', 'exports', 'require', serialized.text)(module, module.exports, require);
    const revived = module.exports[serialized.exportName]?.() as CredentialProvider;

    for (const method of ['check', 'diff', 'create', 'update', 'read', 'delete'] as const) {
      expect(typeof revived[method]).toBe('function');
    }
  });
});
