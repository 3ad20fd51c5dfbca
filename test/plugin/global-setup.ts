/**
 * vitest globalSetup of the plugin project, after moto's (test/support/global-setup.ts) and the
 * TypeScript build (test/support/build-setup.ts): builds the plugin archives
 * (scripts/build-plugin.mjs) and the Python SDK's wheel (scripts/build-sdks.sh), and makes
 * the tools ready (cached: the pulumi CLI with the YAML and Python language hosts beside it, a venv
 * with the pulumi Python SDK, Node 22 for the plugin process).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { nodeBinDir } from '../helpers/node-runtime';

const execFileAsync = promisify(execFile);
const repoRoot = resolve(__dirname, '..', '..');
const BIG = 16 * 1024 * 1024;

/** Pulumi's os-arch name of this machine, as the archives are named. */
function platform(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  return `${process.platform}-${arch}`;
}

export default async function setup(project: TestProject): Promise<void> {
  const started = Date.now();
  const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const [, hosts, node22Bin, wheel, venvBin] = await Promise.all([
    execFileAsync(process.execPath, [join(repoRoot, 'scripts', 'build-plugin.mjs')], {
      cwd: repoRoot,
      maxBuffer: BIG,
      timeout: 5 * 60_000,
    }),
    // A cold machine builds the Go binaries here (minutes); a warm one answers in a second.
    execFileAsync('bash', [join(repoRoot, 'scripts', 'setup-language-hosts.sh')], {
      cwd: repoRoot,
      maxBuffer: BIG,
      timeout: 30 * 60_000,
    }),
    nodeBinDir(22),
    execFileAsync('bash', [join(repoRoot, 'scripts', 'build-sdks.sh')], {
      cwd: repoRoot,
      maxBuffer: BIG,
      timeout: 30 * 60_000,
    }).then(({ stdout }) => stdout.trim().split('\n').at(-1) ?? ''),
    execFileAsync('bash', [join(repoRoot, 'scripts', 'setup-sdk-tools.sh')], {
      cwd: repoRoot,
      maxBuffer: BIG,
      timeout: 30 * 60_000,
    }).then(({ stdout }) => stdout.trim().split('\n').at(-1) ?? ''),
  ]);
  const pulumiBin = hosts.stdout.trim().split('\n').at(-1) ?? '';
  const archive = join(
    repoRoot,
    'dist',
    'plugin-archive',
    `pulumi-resource-token-rotator-v${version}-${platform()}.tar.gz`,
  );
  console.info(
    `plugin: archive ${archive}; Python SDK ${wheel}; pulumi and language hosts in ${pulumiBin}; venv ${venvBin} (${Date.now() - started} ms)`,
  );
  project.provide('pluginArchive', archive);
  project.provide('pluginVersion', version);
  project.provide('pulumiBin', pulumiBin);
  project.provide('node22Bin', node22Bin);
  project.provide('pythonSdkWheel', wheel);
  project.provide('pythonVenvBin', venvBin);
}
