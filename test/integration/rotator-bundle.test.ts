/**
 * The built rotator bundle (`npm run build:lambda` → dist/lambda-bundle/index.js), copied out of
 * the repository and loaded with `require` in a fresh `node` process against moto and the Sirv
 * fake: proves the bundle works on its own (no node_modules to fall back on), not the sources.
 * The child runs on Node 22 (scripts/setup-node22.sh), the Lambda's nodejs22.x runtime.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredentialSecrets, deleteCredentialSecrets, readToken } from '../../core/store';
import { type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { motoEndpoint, secretsManagerClient } from '../helpers/aws';
import { tokenRecord } from '../helpers/token-record';

const execFileAsync = promisify(execFile);
const repoRoot = resolve(__dirname, '..', '..');
const PREFIX = `it-bundle-${randomUUID().slice(0, 8)}/`;
const NAME = 'bundle-sirv';
const CLIENT_ID = 'bundle-client-id';
const CLIENT_SECRET = `bundle-client-secret-${randomUUID()}`;

// Runs in the child: loads the bundle, answers a targeted refresh and a sweep, reports timings.
const CHILD = `
const started = performance.now();
const { handler } = require(process.argv[2]);
const loaded = performance.now();
const context = { getRemainingTimeInMillis: () => 60000, functionName: 'token-rotator' };
(async () => {
  const refresh = await handler({ credentials: [process.argv[3]], force: true }, context);
  const firstDone = performance.now();
  const sweep = await handler({ action: 'sweep' }, context);
  process.stdout.write('\\nRESULT ' + JSON.stringify({ node: process.version, refresh, sweep, requireMs: loaded - started, firstInvokeMs: firstDone - loaded }) + '\\n');
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

let sirv: SirvFake;
let workDir: string;
let bundleBytes = 0;
let node22 = '';

beforeAll(async () => {
  motoEndpoint();
  // The production runtime, not the one running the tests (cached; installs in ~10 s the first time).
  const { stdout: node22Dir } = await execFileAsync('bash', [join(repoRoot, 'scripts', 'setup-node22.sh')], {
    timeout: 300_000,
  });
  node22 = join(node22Dir.trim().split('\n').at(-1) ?? '', 'node');
  await execFileAsync('npm', ['run', '--silent', 'build:lambda'], { cwd: repoRoot, timeout: 120_000 });
  const bundle = join(repoRoot, 'dist', 'lambda-bundle', 'index.js');
  bundleBytes = (await stat(bundle)).size;
  // Outside the repository, so a require the bundle failed to inline cannot find node_modules.
  workDir = await mkdtemp(join(tmpdir(), 'rotator-bundle-'));
  await copyFile(bundle, join(workDir, 'index.js'));
  await writeFile(join(workDir, 'child.js'), CHILD);

  sirv = await startSirvFake({ clients: { [CLIENT_ID]: CLIENT_SECRET } });
  const issuedAt = Date.now();
  await createCredentialSecrets(
    { client: secretsManagerClient(), prefix: PREFIX },
    {
      name: NAME,
      clientDocument: {
        version: 1,
        issuer: {
          kind: 'sirv',
          url: sirv.tokenUrl,
          allowInsecureHttp: true,
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
        },
        policy: {},
      },
      // Not due for an hour: the sweep after the forced refresh has nothing to do.
      token: tokenRecord(
        NAME,
        { at: issuedAt, issued: 0, refresh: 3600, expires: 7200 },
        { accessToken: 'first-token' },
      ),
    },
  );
}, 120_000);

afterAll(async () => {
  await sirv?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
  await deleteCredentialSecrets({ client: secretsManagerClient(), prefix: PREFIX }, NAME, {
    forceDeleteWithoutRecovery: true,
  }).catch(() => undefined);
});

describe('the rotator bundle in a fresh node process', () => {
  it('refreshes a credential on request and runs an idle sweep', async () => {
    // Act
    const { stdout } = await execFileAsync(node22, [join(workDir, 'child.js'), join(workDir, 'index.js'), NAME], {
      cwd: workDir,
      timeout: 60_000,
      env: { ...process.env, TOKEN_ROTATOR_PREFIX: PREFIX, NODE_PATH: '', NODE_OPTIONS: '' },
    });
    // Assess
    const resultLine = stdout.split('\n').find((line) => line.startsWith('RESULT '));
    expect(resultLine, stdout).toBeDefined();
    const result = JSON.parse(resultLine?.slice('RESULT '.length) ?? '{}') as {
      node: string;
      refresh: { results: Record<string, unknown>[] };
      sweep: Record<string, unknown>;
      requireMs: number;
      firstInvokeMs: number;
    };
    expect(result.node).toMatch(/^v22\./);
    expect(result.refresh.results).toEqual([expect.objectContaining({ credential: NAME, ok: true, generation: 2 })]);
    expect(result.sweep).toMatchObject({ listed: 1, due: 0, refreshed: 0, failed: 0 });
    const stored = await readToken({ client: secretsManagerClient(), prefix: PREFIX }, NAME);
    expect(stored).toMatchObject({ generation: 2, issuer: 'sirv' });
    expect(stored?.accessToken).not.toBe('first-token');
    expect(sirv.tokensIssued).toBe(1);
    // Its logs are JSON lines without the client secret or the token.
    const logLines = stdout.split('\n').filter((line) => line.startsWith('{'));
    expect(logLines.length).toBeGreaterThan(0);
    for (const line of logLines) expect(() => JSON.parse(line)).not.toThrow();
    expect(stdout).not.toContain(CLIENT_SECRET);
    expect(stdout).not.toContain(stored?.accessToken ?? 'unreachable');
    console.info(
      `rotator bundle on node ${result.node}: ${(bundleBytes / 1024).toFixed(1)} KiB; require ${result.requireMs.toFixed(0)} ms; first invocation ${result.firstInvokeMs.toFixed(0)} ms`,
    );
  });
});
