/**
 * A user's platform program in a fresh temporary directory, made from docs/getting-started.md's blocks, and
 * every command run in it: npm, the pulumi CLI (with the Node.js language host on PATH, no
 * Automation API) and the installed package's own CLI. Every byte any command prints is kept, so
 * the suite can prove no planted secret was ever printed.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { commandLines, readmeBlock, readmeBlocks, shellWords } from '../helpers/readme-blocks';

/** What one command printed, and how it ended. */
export interface CommandRun {
  argv: string[];
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

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

// ANSI colour codes, which pulumi prints even without a terminal on some paths.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** A platform project directory and a runner for commands in it. */
export class PlatformProject {
  /** Every run so far, in order. */
  readonly runs: CommandRun[] = [];
  readonly blocks = readmeBlocks();

  private constructor(
    readonly base: string,
    readonly dir: string,
    readonly stateDir: string,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  /**
   * Creates the directory, writes the guide's package.json, Pulumi.yaml, tsconfig.json and
   * index.ts into it and copies the tarball beside them, as docs/getting-started.md tells a user.
   */
  static async create(runtime: ConsumerRuntime, pulumiBin: string, tarball: string): Promise<PlatformProject> {
    const base = await mkdtemp(join(tmpdir(), 'token-rotator-consumer-'));
    const dir = join(base, 'platform');
    const stateDir = join(base, 'state');
    await mkdir(dir, { recursive: true });
    await mkdir(stateDir, { recursive: true });
    const inherited = { ...process.env };
    // Nothing of this checkout may leak into the user's program: it resolves only its own node_modules.
    for (const name of ['NODE_PATH', 'NODE_OPTIONS', 'TS_NODE_PROJECT', 'npm_config_prefix']) delete inherited[name];
    for (const name of Object.keys(inherited)) if (name.startsWith('npm_package_')) delete inherited[name];
    const env: NodeJS.ProcessEnv = {
      ...inherited,
      PATH: [pulumiBin, ...(runtime.nodeBin ? [runtime.nodeBin] : []), process.env.PATH ?? ''].join(':'),
      PULUMI_BACKEND_URL: `file://${stateDir}`,
      PULUMI_CONFIG_PASSPHRASE: CONSUMER_PASSPHRASE,
      PULUMI_HOME: join(base, 'pulumi-home'),
      PULUMI_SKIP_UPDATE_CHECK: 'true',
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
      // npm as on a developer's machine, minus the noise; its cache (~/.npm) is what makes a second install fast.
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    };
    const project = new PlatformProject(base, dir, stateDir, env);
    for (const file of ['package.json', 'Pulumi.yaml', 'tsconfig.json', 'index.ts']) {
      await writeFile(join(dir, file), readmeBlock(file, project.blocks));
    }
    await writeFile(join(dir, basename(tarball)), await readFile(tarball));
    return project;
  }

  /** The command lines of a shell block of docs/getting-started.md, as argv. */
  readmeCommands(block: string): string[][] {
    return commandLines(readmeBlock(block, this.blocks)).map(shellWords);
  }

  /** Runs a command in the project directory; never throws on a non-zero exit. */
  run(argv: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CommandRun> {
    const [command, ...args] = argv;
    if (command === undefined) throw new Error('run: empty argv');
    const started = Date.now();
    return new Promise((resolveRun) => {
      execFile(
        command,
        args,
        {
          cwd: this.dir,
          env: { ...this.env, ...options.env },
          maxBuffer: 64 * 1024 * 1024,
          timeout: options.timeoutMs ?? 5 * 60_000,
        },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          const run = {
            argv,
            code,
            stdout: stdout.replace(ANSI, ''),
            stderr: `${stderr.replace(ANSI, '')}${error && typeof error.code !== 'number' ? `\n${error.message}` : ''}`,
            ms: Date.now() - started,
          };
          this.runs.push(run);
          resolveRun(run);
        },
      );
    });
  }

  /** Runs a command and throws, with everything it printed, unless it exits 0. */
  async ok(argv: string[], options: { timeoutMs?: number } = {}): Promise<CommandRun> {
    const run = await this.run(argv, options);
    if (run.code !== 0) {
      throw new Error(`${argv.join(' ')} exited ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`);
    }
    return run;
  }

  /** What each command printed so far (stdout and stderr; not its argv, which holds the values set). */
  printed(): { command: string; output: string }[] {
    return this.runs.map((r) => ({ command: r.argv.slice(0, 4).join(' '), output: `${r.stdout}\n${r.stderr}` }));
  }

  /** Every file of the local backend (checkpoints, backups, history) and the stack config, concatenated. */
  async stateFiles(): Promise<string> {
    const texts: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else texts.push(await readFile(path, 'utf8'));
      }
    };
    await walk(this.stateDir);
    for (const entry of await readdir(this.dir)) {
      if (entry.startsWith('Pulumi.') && entry.endsWith('.yaml'))
        texts.push(await readFile(join(this.dir, entry), 'utf8'));
    }
    return texts.join('\n');
  }

  async dispose(): Promise<void> {
    await rm(this.base, { recursive: true, force: true });
  }
}
