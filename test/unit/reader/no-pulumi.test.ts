/**
 * `token-rotator/reader` runs inside workloads: it must never load `@pulumi/pulumi`, directly or
 * through a core/ module that does. Checked twice: statically (esbuild follows every import of
 * reader/index.ts) and at run time (a fresh node process loads the entry and lists its modules).
 * Each check is first shown to catch an entry that does import @pulumi/pulumi.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const execFileAsync = promisify(execFile);
const repoRoot = resolve(__dirname, '..', '..', '..');
const readerEntry = join(repoRoot, 'reader', 'index.ts');

/** Every module path the bundle reaches, bundled (inputs) or left external (imports). */
function reachedModules(metafile: Metafile): string[] {
  const inputs = Object.keys(metafile.inputs);
  const imports = Object.values(metafile.inputs).flatMap((input) => input.imports.map((i) => i.path));
  return [...new Set([...inputs, ...imports])];
}

const mentionsPulumi = (path: string) => /(^|[/\\])@pulumi[/\\]/.test(path);

const common: BuildOptions = {
  absWorkingDir: repoRoot,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  write: false,
  metafile: true,
  logLevel: 'silent',
};

async function staticModules(entry: BuildOptions): Promise<string[]> {
  // @pulumi stays external so a regression is reported as an import, not a slow bundle of Pulumi.
  const result = await build({ ...common, ...entry, external: ['@pulumi/*'] });
  return reachedModules(result.metafile as Metafile);
}

let probeDir: string;

beforeAll(async () => {
  probeDir = await mkdtemp(join(tmpdir(), 'reader-probe-'));
});

afterAll(async () => {
  await rm(probeDir, { recursive: true, force: true });
});

/** Bundles `entry` with its packages external, loads it in a fresh node, returns every loaded module path. */
async function loadedModules(entry: BuildOptions, name: string): Promise<string[]> {
  const outfile = join(probeDir, `${name}.cjs`);
  await build({ ...common, ...entry, packages: 'external', write: true, metafile: false, outfile });
  const script = `require(${JSON.stringify(outfile)}); process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
  const { stdout } = await execFileAsync(process.execPath, ['-e', script], {
    cwd: probeDir,
    // The bundle lives outside the repository: let it resolve packages from the repository's node_modules.
    env: { ...process.env, NODE_PATH: join(repoRoot, 'node_modules'), NODE_NO_WARNINGS: '1' },
    timeout: 60_000,
    maxBuffer: 32 * 1024 * 1024,
  });
  return JSON.parse(stdout) as string[];
}

describe('the reader entry never loads @pulumi/pulumi', () => {
  it('the static check catches an entry that imports @pulumi/pulumi', async () => {
    const modules = await staticModules({
      stdin: { contents: "import '@pulumi/pulumi'; export * from './reader';", resolveDir: repoRoot, loader: 'ts' },
    });

    expect(modules.some(mentionsPulumi)).toBe(true);
  }, 60_000);

  it('no module reached from reader/index.ts is under @pulumi', async () => {
    const modules = await staticModules({ entryPoints: [readerEntry] });

    expect(modules.filter(mentionsPulumi)).toEqual([]);
    // The walk really went through the reader's imports, down into the AWS SDK.
    expect(modules).toEqual(expect.arrayContaining(['reader/token-reader.ts', 'core/token.ts', 'core/errors.ts']));
    expect(modules.some((m) => m.includes('@aws-sdk/client-secrets-manager'))).toBe(true);
  }, 60_000);

  it('the run-time check catches an entry that loads @pulumi/pulumi', async () => {
    const loaded = await loadedModules(
      { stdin: { contents: "require('@pulumi/pulumi');", resolveDir: repoRoot, loader: 'js' } },
      'control',
    );

    expect(loaded.some(mentionsPulumi)).toBe(true);
  }, 60_000);

  it('loading reader/index.ts in a fresh node process loads nothing under @pulumi', async () => {
    const loaded = await loadedModules({ entryPoints: [readerEntry] }, 'reader');

    expect(loaded.filter(mentionsPulumi)).toEqual([]);
    expect(loaded.some((m) => m.includes('@aws-sdk/client-secrets-manager'))).toBe(true);
  }, 60_000);
});
