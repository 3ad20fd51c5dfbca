/**
 * A platform program in a language other than TypeScript (YAML, Python) that uses the
 * token-rotator provider plugin as a user installs it: the plugin archive installed with
 * `pulumi plugin install … --file`, a local file backend with a passphrase, and a runner that
 * records every command's output for the leak checks.
 */
import { inject } from 'vitest';
import { type CommandRun, PulumiProject } from '../helpers/pulumi-project';

/** The passphrase of these stacks (a test value, not a secret). */
export const PLUGIN_PASSPHRASE = 'token-rotator-plugin-passphrase';

/** A project directory, its backend and PULUMI_HOME, and a runner for commands in it. */
export class PluginProject extends PulumiProject {
  /**
   * Creates the directory and its files; the plugin is not installed yet.
   * `path` is put first on PATH (the pulumi CLI with its language hosts, Node 22, a venv's bin).
   */
  static async create(
    files: Record<string, string>,
    path: string[],
    extraEnv: Record<string, string> = {},
  ): Promise<PluginProject> {
    const project = new PluginProject(
      await PulumiProject.layout({
        tempPrefix: 'token-rotator-plugin-',
        programDir: 'program',
        passphrase: PLUGIN_PASSPHRASE,
        path,
        // Nothing of this checkout may reach the plugin but through its archive.
        unset: ['NODE_PATH', 'NODE_OPTIONS', 'VIRTUAL_ENV', 'PYTHONPATH'],
        unsetPrefixes: ['npm_'],
        env: extraEnv,
      }),
    );
    await project.write(files);
    return project;
  }

  /** Installs the plugin archive of this test run, as a user does: `pulumi plugin install … --file`. */
  installPlugin(): Promise<CommandRun> {
    return this.ok([
      'pulumi',
      'plugin',
      'install',
      'resource',
      'token-rotator',
      inject('pluginVersion'),
      '--file',
      inject('pluginArchive'),
    ]);
  }
}
