/**
 * A user's platform program in a fresh temporary directory, made from docs/getting-started.md's blocks, and
 * every command run in it: npm, the pulumi CLI (with the Node.js language host on PATH, no
 * Automation API) and the installed package's own CLI. Every byte any command prints is kept, so
 * the suite can prove no planted secret was ever printed.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { PulumiProject } from '../helpers/pulumi-project';
import { commandLines, readmeBlock, readmeBlocks, shellWords } from '../helpers/readme-blocks';

/** The runtime a platform program runs on. */
export interface ConsumerRuntime {
  /** For test names and log lines, e.g. `node 20, @pulumi/pulumi 3.248.0`. */
  label: string;
  /** Directory put first on PATH so `node` (and npm, npx, the plugins) run on it; none: the machine's. */
  nodeBin?: string;
  /** The guide's install line to run: its index among the install block's command lines. */
  installLine: number;
  /** The @pulumi/pulumi version the install must end up with. */
  expectedSdk: string;
}

/** The passphrase of the consumer stacks (a test value, not a secret). */
export const CONSUMER_PASSPHRASE = 'token-rotator-consumer-passphrase';

/** A platform project directory and a runner for commands in it. */
export class PlatformProject extends PulumiProject {
  readonly blocks = readmeBlocks();

  /**
   * Creates the directory, writes the guide's package.json, Pulumi.yaml, tsconfig.json and
   * index.ts into it and copies the tarball beside them, as docs/getting-started.md tells a user.
   */
  static async create(runtime: ConsumerRuntime, pulumiBin: string, tarball: string): Promise<PlatformProject> {
    const project = new PlatformProject(
      await PulumiProject.layout({
        tempPrefix: 'token-rotator-consumer-',
        programDir: 'platform',
        passphrase: CONSUMER_PASSPHRASE,
        path: [pulumiBin, ...(runtime.nodeBin ? [runtime.nodeBin] : [])],
        // Nothing of this checkout may leak into the user's program: it resolves only its own node_modules.
        unset: ['NODE_PATH', 'NODE_OPTIONS', 'TS_NODE_PROJECT', 'npm_config_prefix'],
        unsetPrefixes: ['npm_package_'],
        env: {
          // npm as on a developer's machine, minus the noise; its cache (~/.npm) is what makes a second install fast.
          npm_config_audit: 'false',
          npm_config_fund: 'false',
          npm_config_update_notifier: 'false',
        },
      }),
    );
    const files: Record<string, string | Buffer> = {};
    for (const file of ['package.json', 'Pulumi.yaml', 'tsconfig.json', 'index.ts']) {
      files[file] = readmeBlock(file, project.blocks);
    }
    files[basename(tarball)] = await readFile(tarball);
    await project.write(files);
    return project;
  }

  /** The command lines of a shell block of docs/getting-started.md, as argv. */
  readmeCommands(block: string): string[][] {
    return commandLines(readmeBlock(block, this.blocks)).map(shellWords);
  }
}
