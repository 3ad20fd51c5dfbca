import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalBackend, inlineStack, type LocalBackend } from '../../local-stack/pulumi';

// A trivial dynamic provider: proves the CLI, the in-process language runtime and the
// pulumi-resource-pulumi-nodejs plugin work together before the real provider is tested.
class EchoProvider implements pulumi.dynamic.ResourceProvider {
  async create(inputs: { message: string }): Promise<pulumi.dynamic.CreateResult> {
    return { id: `echo-${inputs.message.length}`, outs: { message: inputs.message, length: inputs.message.length } };
  }
}

class Echo extends pulumi.dynamic.Resource {
  declare readonly length: pulumi.Output<number>;
  constructor(name: string, args: { message: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
    super(new EchoProvider(), name, { ...args, length: undefined }, opts);
  }
}

async function* walk(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

describe('the pulumi CLI smoke test', () => {
  let backend: LocalBackend;

  beforeAll(async () => {
    backend = await createLocalBackend();
  });
  afterAll(async () => {
    await backend?.dispose();
  });

  it('creates and destroys a dynamic resource on a local file backend with a passphrase', async () => {
    // Prepare
    const stack = await inlineStack(backend, 'smoke', 'dev', async () => {
      const echo = new Echo('hello', { message: 'hello, token-rotator' });
      return { length: echo.length, id: echo.id };
    });

    // Act
    const up = await stack.up();
    const destroy = await stack.destroy();

    // Assess
    expect(up.summary.result).toBe('succeeded');
    expect(up.summary.resourceChanges).toMatchObject({ create: 2 });
    expect(up.outputs.length?.value).toBe('hello, token-rotator'.length);
    expect(up.outputs.id?.value).toBe('echo-20');
    expect(destroy.summary.result).toBe('succeeded');
    expect(destroy.summary.resourceChanges).toMatchObject({ delete: 2 });
    const stateFiles: string[] = [];
    for await (const file of walk(backend.stateDir)) if (file.endsWith('dev.json')) stateFiles.push(file);
    expect(stateFiles).toHaveLength(1);
    const state = JSON.parse(await readFile(stateFiles[0] ?? '', 'utf8'));
    expect(state.checkpoint.latest.resources ?? []).toHaveLength(0);
  });
});
