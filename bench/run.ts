/**
 * `npm run bench`: starts moto on loopback, runs every benchmark in one process (each against a
 * baseline measured in the same run), prints the table to stdout and writes bench/results.json.
 * Progress goes to stderr. Names of benchmarks given as arguments run only those:
 * `npx tsx bench/run.ts idle-sweep get-token`.
 */
import { writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { pointProcessAtMoto } from '../local-stack/aws-environment';
import { type MotoServer, startMoto } from '../local-stack/moto';
import type { BenchContext, BenchOutcome } from './context';
import { getTokenHit } from './get-token';
import { idleSweep } from './idle-sweep';
import { lambdaColdStart } from './lambda-cold-start';
import { providerScale } from './provider-scale';
import { readerFreshness } from './reader-freshness';
import { sweepThroughput } from './sweep-throughput';
import { type BenchResults, type BenchRow, formatResultsJson, formatTable } from './table';
import { weakGuarantees } from './weak-guarantees';
import { writeQuota } from './write-quota';

const BENCHMARKS: Record<string, (context: BenchContext) => Promise<BenchOutcome>> = {
  'sweep-throughput': sweepThroughput,
  'idle-sweep': idleSweep,
  'reader-freshness': readerFreshness,
  'lambda-cold-start': lambdaColdStart,
  'get-token': getTokenHit,
  'write-quota': writeQuota,
  'weak-guarantees': weakGuarantees,
  'provider-scale': providerScale,
};

// Settings from the developer's shell that would change a baseline's defaults (Powertools' cache
// age) or the rotator's prefix; the AWS ones are the local stack's to clear.
const BENCH_OVERRIDES = ['POWERTOOLS_PARAMETERS_MAX_AGE', 'TOKEN_ROTATOR_PREFIX'];

const RESULTS_PATH = join(__dirname, 'results.json');

const runStarted = performance.now();

// Elapsed time, not the time of day: the reader benchmark simulates the clock for a while.
function progress(message: string): void {
  const seconds = ((performance.now() - runStarted) / 1000).toFixed(1).padStart(5);
  process.stderr.write(`[bench +${seconds} s] ${message}\n`);
}

async function main(args: readonly string[]): Promise<void> {
  const unknown = args.filter((a) => !(a in BENCHMARKS));
  if (unknown.length > 0) {
    throw new Error(`unknown benchmark(s) ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
  }
  const selected = args.length > 0 ? args : Object.keys(BENCHMARKS);
  const started = performance.now();
  progress('starting moto on 127.0.0.1');
  const moto: MotoServer = await startMoto();
  const rows: BenchRow[] = [];
  const details: Record<string, unknown> = {};
  try {
    pointProcessAtMoto(moto.endpoint, { alsoClear: BENCH_OVERRIDES });
    const context: BenchContext = { moto, progress };
    for (const name of selected) {
      const benchmark = BENCHMARKS[name];
      if (benchmark === undefined) continue;
      const benchStarted = performance.now();
      progress(`${name}: start`);
      const outcome = await benchmark(context);
      rows.push(...outcome.rows);
      details[name] = { ...outcome.details, seconds: (performance.now() - benchStarted) / 1000 };
      progress(`${name}: done in ${((performance.now() - benchStarted) / 1000).toFixed(1)} s`);
    }
  } finally {
    await moto.stop();
  }

  const cpu = cpus();
  const results: BenchResults = {
    environment: {
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: cpu.length,
      cpuModel: cpu[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
    },
    durationSeconds: (performance.now() - started) / 1000,
    rows,
    details,
  };
  await writeFile(RESULTS_PATH, formatResultsJson(results));
  const env = results.environment;
  process.stdout.write(
    `\ntoken-rotator benchmarks: ${env.date.slice(0, 10)}, Node ${env.node}, ${env.cpus} × ${env.cpuModel}, ${env.memoryGiB} GiB, ${env.platform}\n\n`,
  );
  process.stdout.write(`${formatTable(rows)}\n\nratio = value ÷ baseline value. Raw figures: bench/results.json\n`);
  progress(`done in ${results.durationSeconds.toFixed(0)} s; wrote ${RESULTS_PATH}`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
