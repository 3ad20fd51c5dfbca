/**
 * A platform program in a language other than TypeScript (YAML, Python) that uses the
 * token-rotator provider plugin as a user installs it: the plugin archive installed with
 * `pulumi plugin install … --file`, a local file backend with a passphrase, and a runner that
 * records every command's output for the leak checks.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One command run in the project. */
export interface CommandRun {
  argv: string[];
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The passphrase of these stacks (a test value, not a secret). */
export const PLUGIN_PASSPHRASE = 'token-rotator-plugin-passphrase';

// ANSI colour codes, which pulumi prints even without a terminal on some paths.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** A project directory, its backend and PULUMI_HOME, and a runner for commands in it. */
export class PluginProject {
  readonly runs: CommandRun[] = [];

  private constructor(
    readonly base: string,
    readonly dir: string,
    readonly stateDir: string,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  /**
   * Creates the directory and its files; the plugin is not installed yet.
   * `path` is put first on PATH (the pulumi CLI with its language hosts, Node 22, a venv's bin).
   */
  static async create(
    files: Record<string, string>,
    path: string[],
    extraEnv: Record<string, string> = {},
  ): Promise<PluginProject> {
    const base = await mkdtemp(join(tmpdir(), 'token-rotator-plugin-'));
    const dir = join(base, 'program');
    const stateDir = join(base, 'state');
    await mkdir(dir, { recursive: true });
    await mkdir(stateDir, { recursive: true });
    const inherited = { ...process.env };
    // Nothing of this checkout may reach the plugin but through its archive.
    for (const name of ['NODE_PATH', 'NODE_OPTIONS', 'VIRTUAL_ENV', 'PYTHONPATH']) delete inherited[name];
    for (const name of Object.keys(inherited)) if (name.startsWith('npm_')) delete inherited[name];
    const env: NodeJS.ProcessEnv = {
      ...inherited,
      PATH: [...path, process.env.PATH ?? ''].join(':'),
      PULUMI_BACKEND_URL: `file://${stateDir}`,
      PULUMI_CONFIG_PASSPHRASE: PLUGIN_PASSPHRASE,
      PULUMI_HOME: join(base, 'pulumi-home'),
      PULUMI_SKIP_UPDATE_CHECK: 'true',
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
      ...extraEnv,
    };
    const project = new PluginProject(base, dir, stateDir, env);
    await project.write(files);
    return project;
  }

  /** Writes (or rewrites) files of the program directory. */
  async write(files: Record<string, string>): Promise<void> {
    for (const [name, text] of Object.entries(files)) {
      await mkdir(join(this.dir, name, '..'), { recursive: true });
      await writeFile(join(this.dir, name), text);
    }
  }

  /** Runs a command in the program directory; never throws on a non-zero exit. */
  run(argv: string[], options: { timeoutMs?: number } = {}): Promise<CommandRun> {
    const [command, ...args] = argv;
    if (command === undefined) throw new Error('run: empty argv');
    const started = Date.now();
    return new Promise((resolveRun) => {
      execFile(
        command,
        args,
        { cwd: this.dir, env: this.env, maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 5 * 60_000 },
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

  /** What each command printed so far (not its argv, which holds the values set). */
  printed(): { command: string; output: string }[] {
    return this.runs.map((r) => ({ command: r.argv.slice(0, 4).join(' '), output: `${r.stdout}\n${r.stderr}` }));
  }

  /** Every file of the local backend and the stack config, concatenated. */
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
