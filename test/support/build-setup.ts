/**
 * vitest globalSetup of the projects that run Pulumi programs (e2e, reliability): compiles
 * `dist/` once per run, before any of their tests start. The dynamic provider process loads the
 * provider runtime from the package (`token-rotator/provider-runtime` → dist/), exactly as a
 * user's program does, so dist/ must match the sources — and must not be rewritten while a test
 * in another project is loading it.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const repoRoot = resolve(__dirname, '..', '..');
const BUILD = Symbol.for('token-rotator.build');
const registry = globalThis as typeof globalThis & { [BUILD]?: Promise<void> };

export default async function setup(): Promise<void> {
  // Both projects load this file in the same runner process: the first starts the build, the
  // second waits for the same one.
  registry[BUILD] ??= promisify(execFile)(
    process.execPath,
    [resolve(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024, timeout: 5 * 60 * 1000 },
  ).then(() => undefined);
  await registry[BUILD];
}
