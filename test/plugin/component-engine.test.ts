/**
 * The TokenRotator component through the plugin under the real CLI, all the way: `pulumi up` of a
 * YAML program declaring it, the engine calling the plugin's `construct`, and the component's
 * children handed by the engine to an `aws` resource plugin. The real one cannot be had here, so a
 * stand-in (fake-aws-provider.ts, found on PATH) records each resource as the engine hands it
 * over; those resources then go through the same checks in moto as the TypeScript component's
 * declaration (test/integration/declared-resource-checks.ts).
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { TokenRotatorArgs } from '../../infra';
import { ROTATOR_OUTPUTS } from '../../plugin/rotator-args';
import type { RecordedResource } from '../helpers/pulumi-mocks';
import { describeDeclaredResourceChecks } from '../integration/declared-resource-checks';
import { type Declared, declaredFrom } from '../integration/declared-resources';
import { PluginProject } from './plugin-project';

const repoRoot = resolve(__dirname, '..', '..');
let project: PluginProject | undefined;
/** The stand-in's directory: its launcher, on PATH, and the file it records in. */
let standInDir: string | undefined;
let declaredByEngine: Declared | undefined;

/** Writes `pulumi-resource-aws` into `dir` (returned, for PATH): the stand-in, run from the sources with tsx. */
async function standInAwsPlugin(dir: string): Promise<string> {
  const launcher = join(dir, 'pulumi-resource-aws');
  await writeFile(
    launcher,
    `#!/bin/sh\nexec "${join(repoRoot, 'node_modules', '.bin', 'tsx')}" "${join(__dirname, 'fake-aws-provider.ts')}" "$@"\n`,
  );
  await chmod(launcher, 0o755);
  return dir;
}

/** `pulumi up` of a YAML program declaring the component `name` with `args`; what the stand-in recorded. */
async function declareThroughEngine(name: string, args: TokenRotatorArgs): Promise<Declared> {
  standInDir = await mkdtemp(join(tmpdir(), 'token-rotator-fake-aws-'));
  const record = join(standInDir, 'created.jsonl');
  await writeFile(record, '');
  const outputs = Object.keys(ROTATOR_OUTPUTS)
    .map((key) => `  ${key}: \${${name}.${key}}\n`)
    .join('');
  project = await PluginProject.create(
    {
      'Pulumi.yaml': `name: plugin-component-engine
runtime: yaml
resources:
  ${name}:
    type: token-rotator:TokenRotator
    properties: ${JSON.stringify(args)}
outputs:
${outputs}`,
    },
    [inject('pulumiBin'), inject('node22Bin'), await standInAwsPlugin(standInDir)],
    { AWS_REGION: 'eu-west-1', FAKE_AWS_RECORD: record },
  );
  await project.installPlugin();
  await project.ok(['pulumi', 'stack', 'init', 'dev']);
  await project.ok(['pulumi', 'up', '--yes', '--skip-preview']);
  const stackOutputs = JSON.parse((await project.ok(['pulumi', 'stack', 'output', '--json'])).stdout) as Record<
    string,
    unknown
  >;
  const resources: RecordedResource[] = (await readFile(record, 'utf8'))
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => ({ ...(JSON.parse(line) as Omit<RecordedResource, 'custom'>), custom: true }))
    .filter((r) => r.name.startsWith(`${name}-`));
  declaredByEngine = declaredFrom(
    resources,
    Object.fromEntries(Object.entries(stackOutputs).map(([key, value]) => [key, pulumi.output(value)])),
  );
  return declaredByEngine;
}

afterAll(async () => {
  await project?.destroyAndDispose();
  if (standInDir) await rm(standInDir, { recursive: true, force: true });
}, 300_000);

describeDeclaredResourceChecks("the plugin's construct under the real CLI", declareThroughEngine);

describe("the plugin's construct under the real CLI: what the engine received", () => {
  it("deploys the Lambda bundle shipped in the plugin's installed archive", () => {
    const functions = declaredByEngine?.all('aws:lambda/function:Function') ?? [];
    expect(functions).toHaveLength(2);
    for (const fn of functions) {
      expect(fn.inputs.code.path).toBe(
        join(
          project?.env.PULUMI_HOME ?? '',
          'plugins',
          `resource-token-rotator-v${inject('pluginVersion')}`,
          'lambda-bundle',
        ),
      );
    }
  });

  it('returns every output of the component to the program', () => {
    expect(Object.keys(declaredByEngine?.outputs ?? {}).sort()).toEqual(Object.keys(ROTATOR_OUTPUTS).sort());
  });
});
