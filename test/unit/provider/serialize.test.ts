import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { describe, expect, it } from 'vitest';
import { CredentialProvider, credentialOperations, PROVIDER_RUNTIME_MODULE } from '../../../provider/provider';

const PLANTED_SECRET = 'planted-serialization-secret-91d4';

describe('CredentialProvider serialization', () => {
  it('serializes to a small stub that loads the runtime by name and captures no secret', async () => {
    // Prepare: a secret the program holds while it constructs the provider.
    process.env.TOKEN_ROTATOR_TEST_SECRET = PLANTED_SECRET;
    const issuer = { kind: 'sirv', clientId: 'id', clientSecret: PLANTED_SECRET };
    const provider = credentialOperations();

    // Act
    const serialized = await pulumi.runtime.serializeFunction(() => provider);

    // Assess
    expect(serialized.text).toContain(PROVIDER_RUNTIME_MODULE);
    expect(serialized.text).not.toContain(PLANTED_SECRET);
    expect(serialized.text).not.toContain(JSON.stringify(issuer));
    // No SDK or our own modules are inlined: they are required by name in the provider process.
    expect(serialized.text).not.toMatch(/SecretsManagerClient|PutSecretValueCommand|zod/);
    // Written into every credential's inputs and outputs: a plain object, no class machinery.
    expect(serialized.text.length).toBeLessThan(2_500);
    expect(serialized.text).not.toContain('prototype');
    delete process.env.TOKEN_ROTATOR_TEST_SECRET;
  });

  it('evaluates in a fresh module, exposes every provider method and calls the runtime named', async () => {
    // Prepare: a stand-in runtime module, so the revived methods can be seen to reach it by name.
    const calls: string[] = [];
    const stub = {
      diff: (olds: unknown, news: unknown) => {
        calls.push('diff');
        return { changes: olds !== news };
      },
    };
    const operations = credentialOperations('token-rotator-test-runtime');
    const serialized = await pulumi.runtime.serializeFunction(() => operations);

    // Act
    const module = { exports: {} as Record<string, () => unknown> };
    const requireStub = (name: string) => (name === 'token-rotator-test-runtime' ? stub : require(name));
    new Function('module', 'exports', 'require', serialized.text)(module, module.exports, requireStub);
    const revived = module.exports[serialized.exportName]?.() as ReturnType<typeof credentialOperations>;

    // Assess
    for (const method of ['check', 'diff', 'create', 'update', 'read', 'delete'] as const) {
      expect(typeof revived[method]).toBe('function');
    }
    expect(await revived.diff('id', { a: 1 }, { a: 1 })).toEqual({ changes: true });
    expect(calls).toEqual(['diff']);
  });

  it('keeps the CredentialProvider class, calling the same runtime functions', async () => {
    // Prepare: a runtime module on disk, loaded by path as the provider process loads it by name.
    const dir = mkdtempSync(join(tmpdir(), 'token-rotator-runtime-'));
    const runtimePath = join(dir, 'runtime.js');
    writeFileSync(runtimePath, 'exports.read = async (id, props) => ({ id, props: { ...props, seen: true } });\n');

    // Act
    const read = await new CredentialProvider(runtimePath).read('cred-id', { name: 'n' });

    // Assess
    expect(read).toEqual({ id: 'cred-id', props: { name: 'n', seen: true } });
  });
});
