/**
 * What the demo needs built before `pulumi up`: `dist/` (the dynamic provider process loads
 * `token-rotator/provider-runtime` from it, as a user's program does) and the rotator's Lambda
 * bundle. Each is rebuilt only when a source file is newer than it.
 */
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The repository this file is in. */
export const REPO_ROOT = resolve(__dirname, '..');
/** The rotator bundle's entry, which the demo imports (its chunks sit beside it). */
export const LAMBDA_BUNDLE = join(REPO_ROOT, 'dist', 'lambda-bundle', 'index.mjs');

/** The product sources `dist/` and the bundle are built from (what tsconfig.build.json includes). */
const SOURCE_DIRS = ['core', 'provider', 'lambda', 'infra', 'reader', 'cli'];
const SOURCE_FILES = ['index.ts', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];
const DIST_STAMP = join(REPO_ROOT, 'dist', 'index.js');
/** Bounds the directory walk; the product has a few hundred files. */
const MAX_FILES = 5_000;

/** What was (re)built. */
export interface BuildReport {
  dist: 'built' | 'up to date';
  bundle: 'built' | 'up to date';
}

/**
 * Builds `dist/` (tsc) and the Lambda bundle (esbuild) when missing or older than the sources.
 *
 * @throws when a build fails, with the tail of its output.
 */
export async function ensureBuilt(): Promise<BuildReport> {
  const newestSource = await newestMtime();
  const distStale = (await mtimeOf(DIST_STAMP)) < newestSource;
  const bundleStale = (await mtimeOf(LAMBDA_BUNDLE)) < newestSource;
  if (distStale) {
    await run('tsc', process.execPath, [
      join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      'tsconfig.build.json',
    ]);
  }
  if (bundleStale) await run('build:lambda', process.execPath, [join(REPO_ROOT, 'scripts', 'build-lambda.mjs')]);
  return { dist: distStale ? 'built' : 'up to date', bundle: bundleStale ? 'built' : 'up to date' };
}

async function run(what: string, command: string, args: string[]): Promise<void> {
  try {
    await execFileAsync(command, args, { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 5 * 60 * 1000 });
  } catch (error) {
    const output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
    const tail = output.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${what} failed${tail ? `:\n${tail}` : ''}`);
  }
}

async function mtimeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return Number.NEGATIVE_INFINITY;
  }
}

async function newestMtime(): Promise<number> {
  let newest = Number.NEGATIVE_INFINITY;
  let seen = 0;
  const pending = SOURCE_DIRS.map((d) => join(REPO_ROOT, d));
  for (const file of SOURCE_FILES) newest = Math.max(newest, await mtimeOf(join(REPO_ROOT, file)));
  while (pending.length > 0 && seen < MAX_FILES) {
    const dir = pending.pop() as string;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      seen += 1;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if (entry.name.endsWith('.ts')) newest = Math.max(newest, await mtimeOf(path));
    }
  }
  return newest;
}
