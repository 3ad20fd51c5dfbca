/**
 * vitest globalSetup of the consumer project, after moto's (test/support/global-setup.ts) and the
 * TypeScript build (test/support/build-setup.ts): bundles the Lambda, packs the package once
 * (the tarball is a snapshot, so a test rebuilding dist/ later cannot change what is installed),
 * installs the tools (cached) and asks the registry for the newest @pulumi/pulumi.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

const execFileAsync = promisify(execFile);
const repoRoot = resolve(__dirname, '..', '..');
const BIG = 16 * 1024 * 1024;

async function lastLine(command: string, args: string[], timeoutMs: number): Promise<string> {
  const { stdout } = await execFileAsync(command, args, { cwd: repoRoot, maxBuffer: BIG, timeout: timeoutMs });
  const line = stdout.trim().split('\n').at(-1)?.trim();
  if (!line) throw new Error(`${command} ${args.join(' ')} printed nothing`);
  return line;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const packDir = await mkdtemp(join(tmpdir(), 'token-rotator-pack-'));
  const started = Date.now();
  const [tarball, pulumiBin, node22Bin, newestPulumiSdk] = await Promise.all([
    (async () => {
      await execFileAsync(process.execPath, [join(repoRoot, 'scripts', 'build-lambda.mjs')], {
        cwd: repoRoot,
        maxBuffer: BIG,
        timeout: 5 * 60_000,
      });
      const { stdout } = await execFileAsync('npm', ['pack', '--json', '--pack-destination', packDir], {
        cwd: repoRoot,
        maxBuffer: BIG,
        timeout: 5 * 60_000,
      });
      const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
      if (!packed?.files.some((f) => f.path === 'dist/lambda-bundle/index.mjs')) {
        throw new Error('npm pack: the tarball has no dist/lambda-bundle/index.mjs (was dist/ rebuilt meanwhile?)');
      }
      return join(packDir, packed.filename);
    })(),
    // A cold machine builds both Go binaries here (minutes); a warm one answers in a second.
    lastLine('bash', [join(repoRoot, 'scripts', 'setup-pulumi.sh')], 30 * 60_000),
    lastLine('bash', [join(repoRoot, 'scripts', 'setup-node22.sh')], 10 * 60_000),
    lastLine('npm', ['view', '@pulumi/pulumi', 'version'], 60_000),
  ]);
  console.info(
    `consumer: packed ${tarball}; pulumi in ${pulumiBin}; node 22 in ${node22Bin}; newest @pulumi/pulumi ${newestPulumiSdk} (${Date.now() - started} ms)`,
  );
  project.provide('consumerTarball', tarball);
  project.provide('pulumiBin', pulumiBin);
  project.provide('node22Bin', node22Bin);
  project.provide('newestPulumiSdk', newestPulumiSdk);
  return async () => {
    await rm(packDir, { recursive: true, force: true });
  };
}
