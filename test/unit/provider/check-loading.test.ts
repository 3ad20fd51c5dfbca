/**
 * `pulumi preview` and `up` call the provider's `check` and `diff` for every credential, in one
 * provider process that starts with each command: what those two load is on every command's
 * critical path. They must load no AWS SDK, no jose and no issuer code: those belong to create,
 * update, read and delete (provider/operations.ts). Checked at run time: the runtime, bundled with
 * its packages left external, is loaded in a fresh node process that runs `check` and `diff` and
 * lists the packages it loaded. The check is first shown to see the packages the operations load.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const execFileAsync = promisify(execFile);
const repoRoot = resolve(__dirname, '..', '..', '..');

let probeDir: string;

beforeAll(async () => {
  probeDir = await mkdtemp(join(tmpdir(), 'provider-check-probe-'));
});

afterAll(async () => {
  await rm(probeDir, { recursive: true, force: true });
});

/** A sirv credential's inputs as the engine hands them to `check` (test values, not secrets). */
const INPUTS = {
  name: 'sirv-prod',
  prefix: 'team/',
  issuer: { kind: 'sirv', clientId: 'probe-client', clientSecret: 'probe-client-secret' },
  aws: { region: 'eu-west-1' },
  owner: 'urn:pulumi:dev::platform::pulumi-nodejs:dynamic/token-rotator:ProviderCredential::sirv-prod',
  codeVersion: '0.0.0-probe',
};

/** The packages (by name) a fresh node loads running `script` after requiring the bundled `entry` as `m`. */
async function packagesLoaded(entry: string, script: string): Promise<string[]> {
  const outfile = join(probeDir, `${entry.replace(/\W/g, '-')}.cjs`);
  await build({
    absWorkingDir: repoRoot,
    entryPoints: [entry],
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    logLevel: 'silent',
  });
  const probe = `(async () => {
    const m = require(${JSON.stringify(outfile)});
    ${script}
    process.stdout.write(JSON.stringify(Object.keys(require.cache)));
  })().catch((e) => { console.error(e); process.exit(1); });`;
  const { stdout } = await execFileAsync(process.execPath, ['-e', probe], {
    cwd: probeDir,
    // The bundle lives outside the repository: let it resolve packages from the repository's node_modules.
    env: { ...process.env, NODE_PATH: join(repoRoot, 'node_modules'), NODE_NO_WARNINGS: '1' },
    timeout: 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const paths = JSON.parse(stdout) as string[];
  const names = paths.map((p) => /node_modules[/\\]((@[^/\\]+[/\\])?[^/\\]+)/.exec(p)?.[1]?.replace('\\', '/'));
  return [...new Set(names.filter((n): n is string => n !== undefined))].sort();
}

const HEAVY = /^(@aws-sdk\/|@smithy\/|jose$|ecdsa-sig-formatter$)/;

describe('the provider runtime, as check and diff use it', () => {
  it('the probe sees what the operations load: the AWS SDK and jose', async () => {
    const loaded = await packagesLoaded('provider/operations.ts', '');
    expect(loaded.filter((p) => HEAVY.test(p))).toEqual(
      expect.arrayContaining(['@aws-sdk/client-secrets-manager', 'jose']),
    );
  });

  it('check and diff of a credential load no AWS SDK, jose or signing code, and they still work', async () => {
    const loaded = await packagesLoaded(
      'provider/runtime.ts',
      `const inputs = ${JSON.stringify(INPUTS)};
      const checked = m.checkForPulumi(inputs);
      if (checked.failures.length > 0) throw new Error(JSON.stringify(checked.failures));
      const same = m.diff({ ...checked.inputs, tokenSecretArn: 'arn', clientSecretArn: 'arn' }, checked.inputs);
      const moved = m.diff(checked.inputs, { ...checked.inputs, prefix: 'other/' });
      if (same.changes !== false || moved.replaces[0] !== 'prefix') throw new Error('diff answered wrongly');`,
    );
    expect(loaded).toContain('zod');
    expect(loaded.filter((p) => HEAVY.test(p))).toEqual([]);
  });
});
