/**
 * A Node.js of a given major version for tests that run code as a user's runtime would (the
 * rotator bundle as Lambda's nodejs24.x runs it, a consumer program on each supported Node):
 * scripts/setup-node.sh finds it on PATH or in ~/.cache/token-rotator, else installs it (once).
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const repoRoot = resolve(__dirname, '..', '..');

/** The Node lines the package supports and tests on. */
export type NodeMajor = 22 | 24;

/** The Node the rotator bundle runs on by default (TokenRotator's nodejs24.x). */
export const LAMBDA_NODE_MAJOR: NodeMajor = 24;

/** The directory holding a `node` of `major` (installed the first time; about 10 s). */
export async function nodeBinDir(major: NodeMajor): Promise<string> {
  const { stdout } = await execFileAsync('bash', [join(repoRoot, 'scripts', 'setup-node.sh'), String(major)], {
    timeout: 300_000,
  });
  const dir = stdout.trim().split('\n').at(-1)?.trim();
  if (!dir) throw new Error(`scripts/setup-node.sh ${major} printed no directory`);
  return dir;
}

/** The path of a `node` of `major`. */
export async function nodeOf(major: NodeMajor): Promise<string> {
  return join(await nodeBinDir(major), 'node');
}
