/**
 * The demo end to end (`npm run demo`): the real pulumi CLI, the rotator bundle and the workload on
 * the accelerated clock, against the run's moto (TOKEN_ROTATOR_DEMO_AWS_ENDPOINT_URL, so this test
 * can look at what the demo leaves behind). Once in-process with planted client secrets, once as
 * the `npm run demo` child process stopped with Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { AWS_ENDPOINT_VARIABLE, runDemo } from '../../demo/run-demo';
import { motoEndpoint, secretsManagerClient } from '../helpers/aws';

const repoRoot = resolve(__dirname, '..', '..');

// Planted secrets: none of them may appear in anything the demo prints.
const PLANTED = {
  sirv: { clientId: 'demo-e2e-sirv', clientSecret: 'PLANTED-demo-sirv-secret-0001' },
  aspose: { clientId: 'D3E0A5B1-0000-4000-8000-00000000E2E0', clientSecret: 'PLANTED-demo-aspose-secret-0002' },
  headerJwt: { clientId: 'demo-e2e-header', clientSecret: 'PLANTED-demo-header-secret-0003' },
};

/** A writable that keeps what it was given. */
function buffer() {
  const chunks: string[] = [];
  return {
    write: (chunk: string) => chunks.push(chunk),
    text: () => chunks.join(''),
  };
}

/** Secrets under `prefix` in moto, those scheduled for deletion included. */
async function secretsUnder(prefix: string): Promise<string[]> {
  const out = await secretsManagerClient().send(
    new ListSecretsCommand({
      Filters: [{ Key: 'name', Values: [prefix] }],
      IncludePlannedDeletion: true,
      MaxResults: 100,
    }),
  );
  return (out.SecretList ?? []).map((s) => s.Name ?? '').filter((name) => name.startsWith(prefix));
}

function expectNothingSecret(output: string): void {
  for (const { clientSecret } of Object.values(PLANTED)) expect(output).not.toContain(clientSecret);
  // Every token in the demo is a JWT (header `{"alg"…` → `eyJ`), the protected URL's included.
  expect(output).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}/);
  expect(output).not.toMatch(/BEGIN (RSA )?PRIVATE KEY/);
}

describe('npm run demo', () => {
  it('refreshes every credential, reads no expired token, creates a protected URL and leaves nothing behind', async () => {
    // Prepare
    const stdout = buffer();
    const stderr = buffer();
    const env = { ...process.env, [AWS_ENDPOINT_VARIABLE]: motoEndpoint(), NO_COLOR: '1' };

    // Act
    const { exitCode, summary } = await runDemo(
      { durationSeconds: 20, speed: 30, jsonSummary: true },
      { stdout, stderr, env, clients: PLANTED },
    );

    // Assess
    const output = stdout.text() + stderr.text();
    expect(exitCode, stderr.text()).toBe(0);
    expect(summary).toMatchObject({ outcome: 'completed', problems: [], speed: 30 });
    expect(summary.credentials.map((c) => c.credential)).toEqual([
      'sirv-demo',
      'aspose-demo',
      'header-jwt-demo',
      'upload-demo',
    ]);
    for (const credential of summary.credentials) {
      expect(credential.refreshes, credential.credential).toBeGreaterThanOrEqual(1);
      expect(credential.generation).toBe(credential.refreshes + 1);
      expect(credential.reads).toBeGreaterThan(0);
      expect(credential).toMatchObject({ expiredReads: 0, errors: 0 });
    }
    expect(summary.totals).toMatchObject({ expiredReads: 0, errors: 0 });
    expect(summary.sweeps).toBeGreaterThanOrEqual(9);
    expect(summary.simulatedSeconds).toBeGreaterThanOrEqual(570);
    expect(summary.protectedUrl.created).toBeGreaterThan(0);
    expect(summary.protectedUrl.failed).toBe(0);
    expect(summary.protectedUrl.example).toMatch(/^https:\/\/demo\.sirv\.com\/demo\/hero\.jpg\?jwt=\[redacted\]$/);
    expect(summary.stack).toEqual({ up: 'succeeded', destroy: 'succeeded', secretsLeft: 0 });
    expect(await secretsUnder(summary.prefix)).toEqual([]);
    // --json-summary: stdout is the summary alone; the live view went to stderr.
    expect(JSON.parse(stdout.text())).toEqual(summary);
    expect(stderr.text()).toContain('CREDENTIAL');
    expect(stderr.text()).toMatch(/header-jwt-demo refreshed: generation 2/);
    expectNothingSecret(output);
    // The AWS environment it pointed at moto for the run is restored.
    expect(process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBeUndefined();
  });

  it('runs as well with --weak-aws: the rotator lists through a proxy five simulated minutes behind', async () => {
    const stdout = buffer();
    const stderr = buffer();
    const env = { ...process.env, [AWS_ENDPOINT_VARIABLE]: motoEndpoint(), NO_COLOR: '1' };
    const { exitCode, summary } = await runDemo(
      { durationSeconds: 20, speed: 30, jsonSummary: true, weakAws: true },
      { stdout, stderr, env, clients: PLANTED },
    );
    expect(exitCode, stderr.text()).toBe(0);
    expect(summary).toMatchObject({ outcome: 'completed', problems: [] });
    for (const credential of summary.credentials) {
      // One generation per refresh: a listing that still shows a replaced token wrote nothing twice.
      expect(credential.generation, credential.credential).toBe(credential.refreshes + 1);
      expect(credential).toMatchObject({ expiredReads: 0, errors: 0 });
    }
    expect(summary.stack).toEqual({ up: 'succeeded', destroy: 'succeeded', secretsLeft: 0 });
    expectNothingSecret(stdout.text() + stderr.text());
    // The environment it pointed at the proxy is restored.
    expect(process.env.AWS_ENDPOINT_URL).toBe(motoEndpoint());
  });

  it('cleans up and exits 130 on Ctrl-C, run as npm run demo does (tsx cli/main.ts demo)', async () => {
    // Prepare
    const child = spawn(join(repoRoot, 'node_modules', '.bin', 'tsx'), ['cli/main.ts', 'demo', '--duration', '120'], {
      cwd: repoRoot,
      env: { ...process.env, [AWS_ENDPOINT_VARIABLE]: motoEndpoint() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
    const deadline = Date.now() + 120_000;
    while (!output.includes('CREDENTIAL') && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(output).toContain('CREDENTIAL');

    // Act
    child.kill('SIGINT');
    const code = await exited;

    // Assess
    expect(code, output).toBe(130);
    expect(output).toContain('Interrupted: cleaning up');
    expect(output).toMatch(/pulumi destroy: succeeded; secrets left under token-rotator-demo-[0-9a-f]{6}\/: 0/);
    const prefix = /under (token-rotator-demo-[0-9a-f]{6}\/)/.exec(output)?.[1] ?? '';
    expect(prefix).not.toBe('');
    expect(await secretsUnder(prefix)).toEqual([]);
    expectNothingSecret(output);
  });
});
