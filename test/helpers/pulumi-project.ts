/**
 * A Pulumi program in a fresh temporary directory as a user has one: a local file backend with a
 * passphrase, its own PULUMI_HOME, and a runner that keeps every byte each command prints, so a
 * suite can prove no planted secret was ever printed. The consumer suite (the packed package) and
 * the plugin suite (the plugin archive) each build their program on it.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What one command printed, and how it ended. */
export interface CommandRun {
  argv: string[];
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Options of a command run. */
export interface RunOptions {
  timeoutMs?: number;
  /** Variables set for this command only, over the project's. */
  env?: NodeJS.ProcessEnv;
}

/** Where a project lives and what it runs with (see {@link PulumiProject.layout}). */
export interface ProjectLayout {
  /** The temporary directory holding everything below. */
  base: string;
  /** The program directory, where commands run. */
  dir: string;
  /** The local backend's directory. */
  stateDir: string;
  env: NodeJS.ProcessEnv;
}

/** What a suite asks of {@link PulumiProject.layout}. */
export interface LayoutOptions {
  /** Names the temporary directory (`token-rotator-…-`). */
  tempPrefix: string;
  /** The program directory's name inside it. */
  programDir: string;
  /** The stack passphrase (a test value, not a secret). */
  passphrase: string;
  /** Put first on PATH, in this order. */
  path: string[];
  /** Variables of this process not passed on: those that would let this checkout leak into the program. */
  unset: string[];
  /** Prefixes of variable names not passed on either (npm's, set by `npm run`). */
  unsetPrefixes: string[];
  /** Set last, over everything. */
  env?: Record<string, string>;
}

// ANSI colour codes, which pulumi prints even without a terminal on some paths.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** A project directory, its backend and PULUMI_HOME, and a runner for commands in it. */
export class PulumiProject {
  /** Every run so far, in order. */
  readonly runs: CommandRun[] = [];
  readonly base: string;
  readonly dir: string;
  readonly stateDir: string;
  readonly env: NodeJS.ProcessEnv;

  protected constructor(layout: ProjectLayout) {
    this.base = layout.base;
    this.dir = layout.dir;
    this.stateDir = layout.stateDir;
    this.env = layout.env;
  }

  /** Makes the directories and the environment of a new project; a subclass writes its program. */
  protected static async layout(options: LayoutOptions): Promise<ProjectLayout> {
    const base = await mkdtemp(join(tmpdir(), options.tempPrefix));
    const dir = join(base, options.programDir);
    const stateDir = join(base, 'state');
    await mkdir(dir, { recursive: true });
    await mkdir(stateDir, { recursive: true });
    const inherited = { ...process.env };
    for (const name of options.unset) delete inherited[name];
    for (const name of Object.keys(inherited)) {
      if (options.unsetPrefixes.some((prefix) => name.startsWith(prefix))) delete inherited[name];
    }
    const env: NodeJS.ProcessEnv = {
      ...inherited,
      PATH: [...options.path, process.env.PATH ?? ''].join(':'),
      PULUMI_BACKEND_URL: `file://${stateDir}`,
      PULUMI_CONFIG_PASSPHRASE: options.passphrase,
      PULUMI_HOME: join(base, 'pulumi-home'),
      PULUMI_SKIP_UPDATE_CHECK: 'true',
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
      ...options.env,
    };
    return { base, dir, stateDir, env };
  }

  /** Writes (or rewrites) files of the program directory. */
  async write(files: Record<string, string | Buffer>): Promise<void> {
    for (const [name, content] of Object.entries(files)) {
      await mkdir(join(this.dir, name, '..'), { recursive: true });
      await writeFile(join(this.dir, name), content);
    }
  }

  /** Runs a command in the program directory; never throws on a non-zero exit. */
  run(argv: string[], options: RunOptions = {}): Promise<CommandRun> {
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
  async ok(argv: string[], options: RunOptions = {}): Promise<CommandRun> {
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

  /** Removes the project's directory: its program, backend and PULUMI_HOME. */
  async dispose(): Promise<void> {
    await rm(this.base, { recursive: true, force: true });
  }

  /**
   * A suite's teardown of its project: destroys the stack, whatever a failed step left in it, then
   * removes the directory. A failed destroy does not stop it: what the stack held lives in moto,
   * which the suite cleans up or which goes with moto's process.
   */
  async destroyAndDispose(): Promise<void> {
    await this.run(['pulumi', 'destroy', '--yes']);
    await this.dispose();
  }
}
