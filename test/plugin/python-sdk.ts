/**
 * The environment a Python program of these tests runs in: the venv with the pulumi Python SDK,
 * activated (PATH and VIRTUAL_ENV: the language host ignores Pulumi.yaml's virtualenv option), and
 * the SDK generated from the plugin's schema installed from its wheel, as a user installs it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';

export async function pythonSdkEnvironment(): Promise<{ path: string[]; env: Record<string, string> }> {
  const venvBin = inject('pythonVenvBin');
  const site = await mkdtemp(join(tmpdir(), 'token-rotator-python-sdk-'));
  await promisify(execFile)(
    join(venvBin, 'python'),
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-deps',
      '--target',
      site,
      inject('pythonSdkWheel'),
    ],
    { timeout: 120_000 },
  );
  return { path: [venvBin], env: { VIRTUAL_ENV: dirname(venvBin), PYTHONPATH: site } };
}
