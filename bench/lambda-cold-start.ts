/**
 * The rotator bundle (dist/lambda-bundle/: index.mjs and its chunks, built by `npm run
 * build:lambda`): its size, the part a cold start loads, and cold initialisation in fresh `node`
 * processes, each loading the bundle as the nodejs22.x runtime does (`import()` of index.mjs,
 * `require()` of an index.js) and handling one idle sweep against moto (load time and
 * first-invocation time measured apart, and their sum).
 *
 * Baseline: the smallest Lambda that does the same AWS work, one ListSecrets page with the same
 * filters, bundled by esbuild from the same @aws-sdk/client-secrets-manager twice: as CommonJS
 * (one index.js) and as an ES module with the rotator's own options (scripts/lambda-esbuild-
 * options.mjs). Each row compares with the smaller or faster of the two, so the ratio is never
 * flattered by the baseline's format. All bundles are copied out of the repository (no
 * node_modules to fall back on) and run in turn, so all see the same machine state.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { build, type Metafile } from 'esbuild';
import { coldStartOutputs, LAMBDA_ESM_OPTIONS } from '../scripts/lambda-esbuild-options.mjs';
import type { BenchContext, BenchOutcome } from './context';
import { seedSirvCredentials } from './credentials';
import { median, percentile } from './stats';
import { type BenchRow, row } from './table';

const execFileAsync = promisify(execFile);
const BENCHMARK = 'lambda-cold-start';
const repoRoot = resolve(__dirname, '..');
const BUNDLE_DIR = join(repoRoot, 'dist', 'lambda-bundle');
const BUNDLE_METAFILE = join(repoRoot, 'dist', 'lambda-bundle.meta.json');
const PREFIX = 'bench-cold/';
const PROCESSES = 15;

/**
 * The Node the bundle runs on in Lambda (nodejs22.x): `TOKEN_ROTATOR_BENCH_NODE`, else the Node 22
 * that scripts/setup-node22.sh caches under ~/.cache/token-rotator, else the Node running the
 * benchmarks.
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
const BASELINE_CALL = `
  client ??= new SecretsManagerClient({});
  const out = await client.send(new ListSecretsCommand({
    MaxResults: 100,
    Filters: [{ Key: 'name', Values: [process.env.TOKEN_ROTATOR_PREFIX] }, { Key: 'tag-key', Values: ['token-rotator:client-version', 'token-rotator:failures'] }],
  }));
  return { listed: (out.SecretList ?? []).length };
`;
const BASELINE_CJS = `
const { ListSecretsCommand, SecretsManagerClient } = require('@aws-sdk/client-secrets-manager');
let client;
exports.handler = async () => {${BASELINE_CALL}};
`;
const BASELINE_ESM = `
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
let client;
export const handler = async () => {${BASELINE_CALL}};
`;

// Runs in each fresh process, itself an ES module as the runtime's own entry is: load the bundle
// as the runtime would (import() for .mjs, require() for .js), one idle sweep, report the timings.
const CHILD = `
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const file = process.argv[2];
const requireBundle = createRequire(import.meta.url);
const cpu = process.cpuUsage();
const started = performance.now();
const { handler } = file.endsWith('.mjs') ? await import(pathToFileURL(file).href) : requireBundle(file);
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
  /** The load: `import()` of index.mjs, or `require()` of index.js (named for the row it feeds). */
  requireMs: number;
  /** CPU time (user + system) of the load: steadier than wall time on a shared machine. */
  requireCpuMs: number;
  firstInvokeMs: number;
  /** From spawn to exit, as seen by the parent (node's own start-up included). */
  processMs: number;
}

/** A bundle as measured: where its entry is, its bytes, and the bytes a cold start loads. */
interface Measured {
  label: string;
  entry: string;
  bytes: number;
  coldBytes: number;
  samples: Sample[];
}

/** Measures the rotator and both baseline bundles `PROCESSES` times each. */
export async function lambdaColdStart(context: BenchContext): Promise<BenchOutcome> {
  const workDir = await mkdtemp(join(tmpdir(), 'token-rotator-bench-'));
  const node = lambdaNode();
  const client = new SecretsManagerClient({});
  try {
    const oursDir = join(workDir, 'rotator');
    // The whole directory, as the component uploads it: the entry imports its chunks.
    await cp(BUNDLE_DIR, oursDir, { recursive: true }).catch((e: unknown) => {
      throw new Error(
        `${BENCHMARK}: ${BUNDLE_DIR} is missing; run \`npm run build:lambda\` first (npm run bench does)`,
        {
          cause: e,
        },
      );
    });
    const oursMeta = JSON.parse(await readFile(BUNDLE_METAFILE, 'utf8')) as Metafile;
    const ours: Measured = {
      label: 'rotator',
      entry: join(oursDir, 'index.mjs'),
      bytes: await jsBytes(oursDir),
      coldBytes: coldStartOutputs(oursMeta).reduce((sum, path) => sum + (oursMeta.outputs[path]?.bytes ?? 0), 0),
      samples: [],
    };

    const cjsDir = join(workDir, 'minimal-cjs');
    await build({
      ...LAMBDA_ESM_OPTIONS,
      stdin: { contents: BASELINE_CJS, resolveDir: repoRoot, loader: 'js' },
      outfile: join(cjsDir, 'index.js'),
      // The rotator's options but one file of CommonJS: no splitting, no .mjs, no require banner.
      format: 'cjs',
      splitting: false,
      outExtension: {},
      banner: {},
      sourcemap: false,
    });
    const esmDir = join(workDir, 'minimal-esm');
    const esmBuild = await build({
      ...LAMBDA_ESM_OPTIONS,
      stdin: { contents: BASELINE_ESM, resolveDir: repoRoot, loader: 'js', sourcefile: 'index.mjs' },
      outdir: esmDir,
      entryNames: 'index',
      sourcemap: false,
    });
    const cjsBytes = (await stat(join(cjsDir, 'index.js'))).size;
    const minimalCjs: Measured = {
      label: 'CJS',
      entry: join(cjsDir, 'index.js'),
      bytes: cjsBytes,
      coldBytes: cjsBytes,
      samples: [],
    };
    const minimalEsm: Measured = {
      label: 'ESM',
      entry: join(esmDir, 'index.mjs'),
      bytes: await jsBytes(esmDir),
      coldBytes: coldStartOutputs(esmBuild.metafile).reduce(
        (sum, path) => sum + (esmBuild.metafile.outputs[path]?.bytes ?? 0),
        0,
      ),
      samples: [],
    };
    await writeFile(join(workDir, 'child.mjs'), CHILD);

    context.progress(`${BENCHMARK}: seeding ${CREDENTIALS} idle credentials`);
    await context.moto.reset();
    await seedSirvCredentials({
      client,
      prefix: PREFIX,
      count: CREDENTIALS,
      tokenUrl: 'http://127.0.0.1:9/v2/token',
      issuedAt: new Date(),
    });

    for (let i = 1; i <= PROCESSES; i++) {
      context.progress(`${BENCHMARK}: fresh processes ${i}/${PROCESSES}`);
      const sample = await coldRun(workDir, ours.entry, node);
      const summary = sample.result as { listed?: number; due?: number };
      if (summary.listed !== CREDENTIALS || summary.due !== 0) {
        throw new Error(`${BENCHMARK}: the bundle's sweep answered ${JSON.stringify(sample.result)}`);
      }
      ours.samples.push(sample);
      for (const minimal of [minimalCjs, minimalEsm]) {
        const base = await coldRun(workDir, minimal.entry, node);
        if ((base.result as { listed?: number }).listed !== CREDENTIALS) {
          throw new Error(`${BENCHMARK}: the ${minimal.label} baseline answered ${JSON.stringify(base.result)}`);
        }
        minimal.samples.push(base);
      }
    }

    // The smaller (or faster) of the two baselines for this figure.
    const best = (pick: (m: Measured) => number) => {
      const [a, b] = [minimalCjs, minimalEsm];
      return pick(b) < pick(a) ? { which: b, value: pick(b) } : { which: a, value: pick(a) };
    };
    const describe = (which: Measured) =>
      `minimal SDK Lambda (one ListSecrets), same esbuild options: the ${which.label} build (smaller or faster of CJS and ESM)`;
    const rows: BenchRow[] = [];
    const bytesRow = (name: string, pick: (m: Measured) => number, meaning: string) => {
      const b = best(pick);
      rows.push(
        row({
          benchmark: BENCHMARK,
          name,
          value: pick(ours),
          unit: 'bytes',
          baseline: describe(b.which),
          baselineValue: b.value,
          meaning,
        }),
      );
    };
    bytesRow(
      'bundle size, dist/lambda-bundle/*.mjs',
      (m) => m.bytes,
      'bundle size relative to the Secrets Manager client alone (goal: bundle ≤ 1 MiB)',
    );
    bytesRow(
      'bytes loaded at cold start (index.mjs and its static imports)',
      (m) => m.coldBytes,
      'what V8 parses before the handler exists, relative to the minimal Lambda',
    );
    const nodeVersion = (await execFileAsync(node, ['--version'])).stdout.trim();
    const total = (s: Sample) => s.requireMs + s.firstInvokeMs;
    for (const [key, label, meaning] of [
      [
        'requireMs',
        `load (import()/require()) on Node ${nodeVersion}`,
        'load cost relative to the minimal SDK Lambda (goal ≤ 1.3)',
      ],
      [
        'requireCpuMs',
        `load CPU time on Node ${nodeVersion}`,
        'load CPU cost relative to the minimal SDK Lambda (goal ≤ 1.3)',
      ],
      [
        'firstInvokeMs',
        `first invocation (idle sweep) on Node ${nodeVersion}`,
        'first-call cost relative to the minimal SDK Lambda',
      ],
      [
        'total',
        `load + first invocation on Node ${nodeVersion}`,
        'whole cold start relative to the minimal SDK Lambda (nothing moved from load to first call goes unseen)',
      ],
    ] as const) {
      const values = (m: Measured) => m.samples.map((s) => (key === 'total' ? total(s) : s[key]));
      for (const [stat, pick] of [
        ['median', median],
        ['p90', (s: number[]) => percentile(s, 90)],
      ] as const) {
        const b = best((m) => pick(values(m)));
        rows.push(
          row({
            benchmark: BENCHMARK,
            name: `cold ${label}, ${stat} of ${PROCESSES} processes`,
            value: pick(values(ours)),
            unit: 'ms',
            baseline: describe(b.which),
            baselineValue: b.value,
            meaning,
          }),
        );
      }
    }
    const samplesOf = (m: Measured) =>
      m.samples.map(({ requireMs, requireCpuMs, firstInvokeMs, processMs }) => ({
        requireMs,
        requireCpuMs,
        firstInvokeMs,
        processMs,
      }));
    return {
      rows,
      details: {
        node,
        nodeVersion,
        processes: PROCESSES,
        credentials: CREDENTIALS,
        bundleBytes: ours.bytes,
        bundleColdStartBytes: ours.coldBytes,
        bundleFiles: await fileSizes(oursDir),
        baselineCjsBytes: minimalCjs.bytes,
        baselineEsmBytes: minimalEsm.bytes,
        baselineEsmColdStartBytes: minimalEsm.coldBytes,
        rotator: samplesOf(ours),
        baselineCjs: samplesOf(minimalCjs),
        baselineEsm: samplesOf(minimalEsm),
      },
    };
  } finally {
    client.destroy();
    await rm(workDir, { recursive: true, force: true });
  }
}

/** The JavaScript in a bundle directory (its .mjs and .js files; source maps are not code). */
async function jsBytes(dir: string): Promise<number> {
  return Object.values(await fileSizes(dir)).reduce((sum, n) => sum + n, 0);
}

/** Sizes of the JavaScript files of a bundle directory, by name. */
async function fileSizes(dir: string): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  for (const name of (await readdir(dir)).sort()) {
    if (/\.(mjs|js)$/.test(name)) sizes[name] = (await stat(join(dir, name))).size;
  }
  return sizes;
}

async function coldRun(workDir: string, bundle: string, node: string): Promise<Sample & { result: unknown }> {
  const started = performance.now();
  const { stdout } = await execFileAsync(node, [join(workDir, 'child.mjs'), bundle], {
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
