/**
 * The built rotator bundle (`npm run build:lambda` → dist/lambda-bundle/: index.mjs and its
 * chunks), copied out of the repository and imported as the runtime imports it in a fresh `node`
 * process against moto and the Sirv fake: proves the bundle works on its own (no node_modules to
 * fall back on), not the sources, and that an idle sweep needs none of the chunks split off for
 * later (the issuers; the KMS, EventBridge and Lambda clients). The child runs on Node 24
 * (scripts/setup-node.sh), the Lambda's default nodejs24.x runtime; the SDK chunks are also
 * loaded on Node 22, the oldest runtime TokenRotator allows.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredentialSecrets, deleteCredentialSecrets, readToken } from '../../core/store';
import { type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { coldStartOutputs } from '../../scripts/lambda-esbuild-options.mjs';
import { motoEndpoint, secretsManagerClient } from '../helpers/aws';
import { LAMBDA_NODE_MAJOR, type NodeMajor, nodeOf } from '../helpers/node-runtime';
import { tokenRecord } from '../helpers/token-record';

const execFileAsync = promisify(execFile);
const repoRoot = resolve(__dirname, '..', '..');
const PREFIX = `it-bundle-${randomUUID().slice(0, 8)}/`;
const NAME = 'bundle-sirv';
const CLIENT_ID = 'bundle-client-id';
const CLIENT_SECRET = `bundle-client-secret-${randomUUID()}`;

// Runs in the child (an ES module, as the runtime's entry is): imports the bundle's entry as the
// runtime does, answers a targeted refresh and a sweep, reports timings.
const CHILD = `
const started = performance.now();
const { handler } = await import(process.argv[2]);
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

// An idle sweep, on its own: what the scheduled invocation of a quiet fleet does.
const SWEEP_CHILD = `
const { handler } = await import(process.argv[2]);
const sweep = await handler({ action: 'sweep' }, { getRemainingTimeInMillis: () => 60000, functionName: 'token-rotator' });
process.stdout.write('\\nRESULT ' + JSON.stringify({ sweep }) + '\\n');
`;

// One invocation whose failure is the answer: prints the error's message.
const FAILING_CHILD = `
const { handler } = await import(process.argv[2]);
const answer = await handler({ action: 'sweep' }, { getRemainingTimeInMillis: () => 60000, functionName: 'token-rotator' }).then(
  () => ({ ok: true }),
  (error) => ({ ok: false, name: error.name, message: error.message }),
);
process.stdout.write('\\nRESULT ' + JSON.stringify(answer) + '\\n');
`;

/** The most JavaScript the uploaded directory may hold (a cold start loads all of it). */
const MAX_BUNDLE_BYTES = 1024 * 1024;
/** Packages and sources an idle sweep does not use: each must sit in a chunk of its own. */
const LAZY_INPUTS = [
  /node_modules\/@aws-sdk\/client-kms\//,
  /node_modules\/@aws-sdk\/client-eventbridge\//,
  /node_modules\/@aws-sdk\/client-lambda\//,
  /node_modules\/jose\//,
  /^core\/issuers\//,
  /^core\/kms-signer\.ts$/,
  /^lambda\/refresh\.ts$/,
];

let sirv: SirvFake;
let workDir: string;
let bundleBytes = 0;
let lambdaNode = '';
let metafile: Metafile;

beforeAll(async () => {
  motoEndpoint();
  // The production runtime, not the one running the tests (cached; installs in ~10 s the first time).
  lambdaNode = await nodeOf(LAMBDA_NODE_MAJOR);
  await execFileAsync('npm', ['run', '--silent', 'build:lambda'], { cwd: repoRoot, timeout: 120_000 });
  const bundleDir = join(repoRoot, 'dist', 'lambda-bundle');
  metafile = JSON.parse(await readFile(join(repoRoot, 'dist', 'lambda-bundle.meta.json'), 'utf8')) as Metafile;
  // Outside the repository, so an import the bundle failed to inline cannot find node_modules.
  workDir = await mkdtemp(join(tmpdir(), 'rotator-bundle-'));
  await cp(bundleDir, join(workDir, 'task'), { recursive: true });
  for (const name of await readdir(bundleDir)) {
    if (name.endsWith('.mjs')) bundleBytes += (await stat(join(bundleDir, name))).size;
  }
  await writeFile(join(workDir, 'child.mjs'), CHILD);
  await writeFile(join(workDir, 'sweep-child.mjs'), SWEEP_CHILD);
  await writeFile(join(workDir, 'failing-child.mjs'), FAILING_CHILD);

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
      // Written 15 minutes ago (past the forced-refresh floor), not due for an hour: the sweep
      // after the forced refresh has nothing to do.
      token: tokenRecord(
        NAME,
        { at: issuedAt, issued: -900, refresh: 3600, expires: 7200 },
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

/**
 * Runs one of the child scripts on the Lambda's Node with `args` (outside the repository, no module path or
 * loader back into it) and the test's prefix plus `env`; returns its output and what it printed
 * after `RESULT `, or fails the test with the output when it printed nothing.
 */
async function runChild(
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ stdout: string; result: unknown }> {
  const { stdout } = await execFileAsync(lambdaNode, [join(workDir, script), ...args], {
    cwd: workDir,
    timeout: 60_000,
    env: { ...process.env, TOKEN_ROTATOR_PREFIX: PREFIX, ...env, NODE_PATH: '', NODE_OPTIONS: '' },
  });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  expect(line, stdout).toBeDefined();
  return { stdout, result: JSON.parse(line?.slice('RESULT '.length) ?? '{}') };
}

describe('the rotator bundle in a fresh node process', () => {
  it('refreshes a credential on request and runs an idle sweep', async () => {
    // Act
    const run = await runChild('child.mjs', [join(workDir, 'task', 'index.mjs'), NAME], {
      // moto's default bus: the refresh's event goes through the EventBridge chunk.
      TOKEN_ROTATOR_EVENT_BUS: 'default',
    });
    // Assess
    const { stdout } = run;
    const result = run.result as {
      node: string;
      refresh: { results: Record<string, unknown>[] };
      sweep: Record<string, unknown>;
      requireMs: number;
      firstInvokeMs: number;
    };
    expect(result.node).toMatch(new RegExp(`^v${LAMBDA_NODE_MAJOR}\\.`));
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
    // The refresh's metrics: its Token Refreshed event was put (the EventBridge chunk loaded and worked).
    const metrics = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => '_aws' in l);
    expect(metrics).toContainEqual(expect.objectContaining({ RefreshSucceeded: 1, RefreshEventsFailed: 0 }));
    expect(stdout).not.toContain(CLIENT_SECRET);
    expect(stdout).not.toContain(stored?.accessToken ?? 'unreachable');
    console.info(
      `rotator bundle on node ${result.node}: ${(bundleBytes / 1024).toFixed(1)} KiB; import ${result.requireMs.toFixed(0)} ms; first invocation ${result.firstInvokeMs.toFixed(0)} ms`,
    );
  });

  it('fits in 1 MiB, and keeps what an idle sweep does not use out of what a cold start loads', () => {
    // Arrange
    const cold = new Set(coldStartOutputs(metafile));
    const coldInputs = [...cold].flatMap((path) => Object.keys(metafile.outputs[path]?.inputs ?? {}));
    // Assess
    expect(bundleBytes).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
    expect(cold.size).toBeGreaterThan(0);
    for (const lazy of LAZY_INPUTS) {
      expect(
        coldInputs.filter((input) => lazy.test(input)),
        `${lazy}`,
      ).toEqual([]);
      // Still in the bundle, in a chunk of its own.
      expect(
        Object.keys(metafile.inputs).some((input) => lazy.test(input)),
        `${lazy}`,
      ).toBe(true);
    }
  });

  it('runs an idle sweep, events configured, from index.mjs and its static chunks alone', async () => {
    // Arrange: only what a cold start loads; every chunk left for later is absent.
    const coldDir = join(workDir, 'cold-only');
    await mkdir(coldDir);
    const cold = coldStartOutputs(metafile).map((path) => basename(path));
    for (const name of cold) await copyFile(join(workDir, 'task', name), join(coldDir, name));
    const all = (await readdir(join(workDir, 'task'))).filter((name) => name.endsWith('.mjs'));
    expect(all.length).toBeGreaterThan(cold.length);
    // Act
    const { result } = await runChild('sweep-child.mjs', [join(coldDir, 'index.mjs')], {
      // A bus is configured, but an idle sweep has nothing to put on it.
      TOKEN_ROTATOR_EVENT_BUS: 'token-rotator-events',
    });
    // Assess: a missing chunk would have failed the import (ERR_MODULE_NOT_FOUND).
    const { sweep } = result as { sweep: Record<string, unknown> };
    expect(sweep).toMatchObject({ listed: 1, due: 0, refreshed: 0, failed: 0 });
  });

  it('carries zod/mini, not classic zod, and words its messages in English on its own', async () => {
    // Assess: the schemas of the Lambda path are zod/mini's (core/zod.ts): classic zod is not bundled.
    const zodInputs = Object.keys(metafile.inputs).filter((input) => input.includes('node_modules/zod/'));
    expect(zodInputs.some((input) => input.includes('/zod/v4/mini/'))).toBe(true);
    expect(zodInputs.filter((input) => input.includes('/zod/v4/classic/'))).toEqual([]);
    // Act: zod/mini installs no locale; without core/zod.ts's, every message would read "Invalid input".
    const { result } = await runChild('failing-child.mjs', [join(workDir, 'task', 'index.mjs')], {
      TOKEN_ROTATOR_CONCURRENCY: '0',
    });
    // Assess
    expect(result).toEqual({
      ok: false,
      name: 'InvalidConfigurationError',
      message: 'Invalid rotator environment:\n  - TOKEN_ROTATOR_CONCURRENCY: Too small: expected number to be >=1',
    });
  });

  it.each<NodeMajor>([24, 22])(
    'answers each import() of an SDK with the named classes the sources take from it, on Node %i',
    async (major) => {
      // Arrange: the chunks split off for the KMS, Lambda and EventBridge clients, and what each must hold.
      const wanted: Record<string, string[]> = {
        'core/kms-sdk.ts': ['KMSClient', 'SignCommand', 'GetPublicKeyCommand'],
        'core/lambda-sdk.ts': ['LambdaClient', 'InvokeCommand'],
        'lambda/eventbridge-sdk.ts': ['EventBridgeClient', 'PutEventsCommand'],
      };
      const chunks = Object.entries(metafile.outputs)
        .filter(([, output]) => output.entryPoint !== undefined && output.entryPoint in wanted)
        .map(([path, output]) => ({
          file: join(workDir, 'task', basename(path)),
          names: wanted[output.entryPoint ?? ''],
        }));
      expect(chunks).toHaveLength(Object.keys(wanted).length);
      const probe = join(workDir, 'probe.mjs');
      await writeFile(
        probe,
        'const [file, ...names] = process.argv.slice(2); const m = await import(file); console.log(JSON.stringify(names.map((n) => typeof m[n])));',
      );
      const node = await nodeOf(major);
      for (const { file, names } of chunks) {
        // Act
        const { stdout } = await execFileAsync(node, [probe, file, ...(names ?? [])], {
          cwd: workDir,
          timeout: 30_000,
        });
        // Assess
        expect(JSON.parse(stdout), file).toEqual((names ?? []).map(() => 'function'));
      }
    },
  );
});
