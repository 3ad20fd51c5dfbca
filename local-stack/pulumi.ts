/**
 * Runs Pulumi programs under the real pulumi CLI for e2e tests: a local file backend, a
 * passphrase secrets provider, and the CLI from scripts/setup-pulumi.sh.
 *
 * Programs are Automation API inline programs: @pulumi/pulumi hosts the Node.js language
 * runtime in this process and the CLI connects to it (`pulumi up --client`), so no separate
 * pulumi-language-nodejs binary is needed.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { LocalWorkspace, PulumiCommand, type PulumiFn, type Stack } from '@pulumi/pulumi/automation';

const execFileAsync = promisify(execFile);
const repoRoot = resolve(__dirname, '..');

let cliDir: Promise<string> | undefined;
/**
 * Checks that `dist/` holds the provider runtime. The build itself runs once per test run in
 * the globalSetup (test/support/build-setup.ts), never from a worker, so no test rewrites dist/
 * while another loads it.
 */
export async function ensureBuilt(): Promise<void> {
  const runtime = join(repoRoot, 'dist', 'provider', 'runtime.js');
  if (!existsSync(runtime)) {
    throw new Error(
      `${runtime} is missing: run this file under the e2e or reliability project (its globalSetup builds dist/), or run npm run build`,
    );
  }
}

/** The directory holding `pulumi` and `pulumi-resource-pulumi-nodejs` (built and cached once). */
export function pulumiCliDir(): Promise<string> {
  cliDir ??= execFileAsync('bash', [join(repoRoot, 'scripts', 'setup-pulumi.sh')], {
    cwd: repoRoot,
    maxBuffer: 16 * 1024 * 1024,
    timeout: 30 * 60 * 1000,
  }).then(({ stdout }) => stdout.trim().split('\n').at(-1) ?? '');
  return cliDir;
}

/** A throwaway local backend with a passphrase, and what a test needs to inspect it. */
export interface LocalBackend {
  /** Root of the file backend; the state files live below it. */
  stateDir: string;
  workDir: string;
  envVars: Record<string, string>;
  command: PulumiCommand;
  dispose(): Promise<void>;
}

/** The passphrase of e2e stacks (a test value, not a secret). */
export const TEST_PASSPHRASE = 'token-rotator-e2e-passphrase';

/**
 * Creates a local file backend in a temporary directory. The provider process finds `token-rotator`
 * at `packageDir`: this checkout by default, or an unpacked `npm pack` of it.
 */
export async function createLocalBackend(
  extraEnv: Record<string, string> = {},
  packageDir: string = repoRoot,
): Promise<LocalBackend> {
  const bin = await pulumiCliDir();
  const base = await mkdtemp(join(tmpdir(), 'token-rotator-e2e-'));
  const stateDir = join(base, 'state');
  const workDir = join(base, 'work');
  const command = await PulumiCommand.get({ root: dirname(bin), skipVersionCheck: false });
  // The provider process resolves `token-rotator` as a user's program would: from a node_modules
  // folder holding the package. Here that folder links to the package directory.
  const links = join(base, 'node_modules');
  await mkdir(links, { recursive: true });
  await symlink(packageDir, join(links, 'token-rotator'), 'dir');
  const envVars: Record<string, string> = {
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PULUMI_CONFIG_PASSPHRASE: TEST_PASSPHRASE,
    PULUMI_HOME: join(base, 'pulumi-home'),
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    // The dynamic provider plugin runs `node` in the program's directory (a temp dir here) and
    // resolves @pulumi/pulumi and the provider's own requires through this path.
    NODE_PATH: [links, join(repoRoot, 'node_modules')].join(':'),
    ...extraEnv,
  };
  await mkdir(stateDir, { recursive: true });
  await mkdir(workDir, { recursive: true });
  return {
    stateDir,
    workDir,
    envVars,
    command,
    dispose: () => rm(base, { recursive: true, force: true }),
  };
}

/** Creates (or selects) a stack of an inline program on a local backend. */
export async function inlineStack(
  backend: LocalBackend,
  projectName: string,
  stackName: string,
  program: PulumiFn,
): Promise<Stack> {
  return LocalWorkspace.createOrSelectStack(
    { projectName, stackName, program },
    {
      workDir: backend.workDir,
      pulumiCommand: backend.command,
      envVars: backend.envVars,
      projectSettings: {
        name: projectName,
        runtime: 'nodejs',
        backend: { url: backend.envVars.PULUMI_BACKEND_URL },
      },
    },
  );
}

/** Every file of the backend's state (checkpoints, backups, history), concatenated: for leak checks. */
export async function stateText(backend: LocalBackend): Promise<string> {
  const texts: string[] = [];
  async function walk(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else texts.push(await readFile(path, 'utf8'));
    }
  }
  await walk(backend.stateDir);
  return texts.join('\n');
}
