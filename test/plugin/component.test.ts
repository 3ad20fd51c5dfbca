/**
 * The TokenRotator component from a YAML program and from a Python program (the generated SDK),
 * under the real CLI: the program registers the component as a remote component, and the engine
 * calls the plugin's `construct`, which builds infra/token-rotator.ts. The component's
 * children are `aws` resources, and the `aws` resource plugin cannot be had here (no release
 * download), so no preview gets past the first of them: these tests pin how far a program gets —
 * the component's own validation refusing a bad argument with its message, and, with good
 * arguments, the engine asking for exactly the `aws` plugin the component's resources need. What
 * `construct` declares is checked in moto by test/integration/plugin-construct.test.ts (in process)
 * and component-engine.test.ts (under the CLI, with a stand-in aws plugin).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AWS_PLUGIN_VERSION } from './aws-version';
import { PluginProject } from './plugin-project';
import { pythonSdkEnvironment } from './python-sdk';

const PROJECT = 'plugin-component';

/** The three declarations the tests preview, in one language. */
interface ComponentLanguage {
  label: string;
  /** The program declaring `rotator` with: concurrency 100; a secret prefix; good arguments. */
  files(declaration: 'bad-concurrency' | 'secret-prefix' | 'good'): Record<string, string>;
  environment(): Promise<{ path: string[]; env?: Record<string, string> }>;
}

const yamlProperties = {
  'bad-concurrency': '      prefix: team-a/\n      concurrency: 100\n',
  'secret-prefix': '      prefix:\n        fn::secret: team-a/\n',
  good: '      prefix: team-a/\n      createAlarmTopic: true\n',
};

const yaml: ComponentLanguage = {
  label: 'YAML',
  files: (declaration) => ({
    'Pulumi.yaml': `name: ${PROJECT}
runtime: yaml
description: The token-rotator component declared in YAML through the provider plugin.
resources:
  rotator:
    type: token-rotator:TokenRotator
    properties:
${yamlProperties[declaration]}outputs:
  functionName: \${rotator.functionName}
  requestPolicy: \${rotator.requestPolicy}
`,
  }),
  environment: async () => ({ path: [] }),
};

const pythonArguments = {
  'bad-concurrency': 'prefix="team-a/", concurrency=100',
  'secret-prefix': 'prefix=pulumi.Output.secret("team-a/")',
  good: 'prefix="team-a/", create_alarm_topic=True',
};

const python: ComponentLanguage = {
  label: 'Python',
  files: (declaration) => ({
    'Pulumi.yaml': `name: ${PROJECT}
runtime: python
description: The token-rotator component declared in Python through the provider plugin.
`,
    '__main__.py': `import pulumi
import pulumi_token_rotator as tr

rotator = tr.TokenRotator("rotator", ${pythonArguments[declaration]})
pulumi.export("functionName", rotator.function_name)
pulumi.export("requestPolicy", rotator.request_policy)
`,
  }),
  environment: pythonSdkEnvironment,
};

for (const language of [yaml, python]) {
  describe(`a ${language.label} program declaring the TokenRotator component through the plugin`, () => {
    let project: PluginProject;

    beforeAll(async () => {
      const environment = await language.environment();
      project = await PluginProject.create(
        language.files('bad-concurrency'),
        [inject('pulumiBin'), inject('node22Bin'), ...environment.path],
        // No AWS is reached: what runs fails before any call; the region is set so none is looked up.
        { AWS_REGION: 'eu-west-1', ...environment.env },
      );
      await project.installPlugin();
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
      expect(output).not.toContain('pulumi-resource-aws');
    });

    it('refuses an argument that shapes the resources when it is a secret, naming it', async () => {
      // Prepare
      await project.write(language.files('secret-prefix'));
      // Act
      const preview = await project.run(['pulumi', 'preview']);
      // Assess
      const output = `${preview.stdout}\n${preview.stderr}`;
      expect(preview.code).not.toBe(0);
      expect(output).toMatch(/prefix must be known before the component declares anything/);
    });

    it('with good arguments, gets as far as the aws resource plugin its resources need, which is not installed', async () => {
      // Prepare
      await project.write(language.files('good'));
      // Act
      const preview = await project.run(['pulumi', 'preview']);
      // Assess: the component's first child needs the default aws provider at the version of the
      // component's @pulumi/aws, which the engine has no plugin for. (Whether the component's own
      // step is displayed before that error ends the preview is a race, so it is not asserted.)
      const output = `${preview.stdout}\n${preview.stderr}`;
      expect(preview.code).not.toBe(0);
      expect(output).toContain(
        `no resource plugin 'pulumi-resource-aws' found in the workspace at version v${AWS_PLUGIN_VERSION} or on your $PATH`,
      );
      expect(output).toMatch(
        new RegExp(`pulumi:providers:aws +default_${AWS_PLUGIN_VERSION.replaceAll('.', '_')} +error`),
      );
    });
  });
}
