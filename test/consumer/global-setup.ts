/**
 * vitest globalSetup of the consumer project, after moto's (test/support/global-setup.ts) and the
 * TypeScript build (test/support/build-setup.ts): packs the package once with `npm pack`, whose
 * `prepack` cleans and rebuilds dist/ and the Lambda bundle, as a publish does (the tarball is a
 * snapshot, so a test rebuilding dist/ later cannot change what is installed), installs the tools
 * (cached: Node 22 and Node 24, the pulumi CLI) and asks the registry for the newest @pulumi/pulumi.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { nodeBinDir } from '../helpers/node-runtime';

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
  const [tarball, pulumiBin, node22Bin, node24Bin, newestPulumiSdk] = await Promise.all([
    (async () => {
      const { stdout } = await execFileAsync('npm', ['pack', '--json', '--pack-destination', packDir], {
        cwd: repoRoot,
        maxBuffer: BIG,
        timeout: 5 * 60_000,
      });
      // prepack's build prints to the same stdout, before npm's JSON.
      const json = stdout.startsWith('[') ? stdout : stdout.slice(stdout.lastIndexOf('\n[') + 1);
      const [packed] = JSON.parse(json) as { filename: string; files: { path: string }[] }[];
      if (!packed?.files.some((f) => f.path === 'dist/lambda-bundle/index.mjs')) {
        throw new Error('npm pack: the tarball has no dist/lambda-bundle/index.mjs (did prepack build it?)');
      }
      return join(packDir, packed.filename);
    })(),
    // A cold machine builds both Go binaries here (minutes); a warm one answers in a second.
    lastLine('bash', [join(repoRoot, 'scripts', 'setup-pulumi.sh')], 30 * 60_000),
    nodeBinDir(22),
    nodeBinDir(24),
    lastLine('npm', ['view', '@pulumi/pulumi', 'version'], 60_000),
  ]);
  console.info(
    `consumer: packed ${tarball}; pulumi in ${pulumiBin}; node 22 in ${node22Bin}; node 24 in ${node24Bin}; newest @pulumi/pulumi ${newestPulumiSdk} (${Date.now() - started} ms)`,
  );
  project.provide('consumerTarball', tarball);
  project.provide('pulumiBin', pulumiBin);
  project.provide('node22Bin', node22Bin);
  project.provide('node24Bin', node24Bin);
  project.provide('newestPulumiSdk', newestPulumiSdk);
  return async () => {
    await rm(packDir, { recursive: true, force: true });
  };
}
