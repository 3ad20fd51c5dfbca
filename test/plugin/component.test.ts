/**
 * The TokenRotator component from a YAML program, under the real CLI: the engine hands the YAML
 * language host the plugin's schema, the host registers the component as a remote component, and
 * the engine calls the plugin's `construct`, which builds infra/token-rotator.ts. The component's
 * children are `aws` resources, and the `aws` resource plugin cannot be had here (no release
 * download), so no preview gets past the first of them: these tests pin how far a program gets —
 * the component's own validation refusing a bad argument with its message, and, with good
 * arguments, the engine asking for exactly the `aws` plugin the component's resources need. What
 * `construct` declares is checked in moto by test/integration/plugin-construct.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PluginProject } from './plugin-project';

const PROJECT = 'plugin-component';
const repoRoot = resolve(__dirname, '..', '..');
/** The @pulumi/aws version the component is built with: the `aws` plugin version its resources ask for. */
const AWS_VERSION = (
  JSON.parse(readFileSync(join(repoRoot, 'node_modules', '@pulumi', 'aws', 'package.json'), 'utf8')) as {
    version: string;
  }
).version;

function program(properties: string): Record<string, string> {
  return {
    'Pulumi.yaml': `name: ${PROJECT}
runtime: yaml
description: The token-rotator component declared in YAML through the provider plugin.
resources:
  rotator:
    type: token-rotator:TokenRotator
    properties:
${properties}outputs:
  functionName: \${rotator.functionName}
  requestPolicy: \${rotator.requestPolicy}
`,
  };
}

describe('a YAML program declaring the TokenRotator component through the plugin', () => {
  let project: PluginProject;

  beforeAll(async () => {
    project = await PluginProject.create(
      program('      prefix: team-a/\n      concurrency: 100\n'),
      [inject('pulumiBin'), inject('node22Bin')],
      // No AWS is reached: what runs fails before any call; the region is set so none is looked up.
      { AWS_REGION: 'eu-west-1' },
    );
    await project.ok([
      'pulumi',
      'plugin',
      'install',
      'resource',
      'token-rotator',
      inject('pluginVersion'),
      '--file',
      inject('pluginArchive'),
    ]);
    await project.ok(['pulumi', 'stack', 'init', 'dev']);
  }, 600_000);

  afterAll(async () => {
    await project?.dispose();
  });

  it("refuses an argument the component's validation refuses, with its field and message", async () => {
    // Act
    const preview = await project.run(['pulumi', 'preview']);
    // Assess
    const output = `${preview.stdout}\n${preview.stderr}`;
    expect(preview.code).not.toBe(0);
    expect(output).toContain('concurrency: expected an integer from 1 to 64; got 100');
    expect(output).not.toMatch(/pulumi-resource-aws|resource plugin aws/);
  });

  it('refuses an argument that shapes the resources when it is a secret, naming it', async () => {
    // Prepare
    await project.write(program('      prefix:\n        fn::secret: team-a/\n'));
    // Act
    const preview = await project.run(['pulumi', 'preview']);
    // Assess
    const output = `${preview.stdout}\n${preview.stderr}`;
    expect(preview.code).not.toBe(0);
    expect(output).toMatch(/prefix must be known before the component declares anything/);
  });

  it('with good arguments, gets as far as the aws resource plugin its resources need, which is not installed', async () => {
    // Prepare
    await project.write(program('      prefix: team-a/\n      createAlarmTopic: true\n'));
    // Act
    const preview = await project.run(['pulumi', 'preview']);
    // Assess: the engine asks for the aws plugin at the version of the component's @pulumi/aws.
    const output = `${preview.stdout}\n${preview.stderr}`;
    expect(preview.code).not.toBe(0);
    expect(output).toMatch(new RegExp(`aws[^\\n]*v?${AWS_VERSION.replaceAll('.', '\\.')}`));
    expect(output).toMatch(/token-rotator:index:TokenRotator/);
  });
});
