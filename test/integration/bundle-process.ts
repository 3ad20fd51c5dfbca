/**
 * The rotator bundle from the function's zip, unpacked outside the repository (as Lambda unpacks
 * it into /var/task) and invoked in a fresh node process per call, as a fresh container would,
 * on the Node of the Lambda's default runtime (nodejs24.x).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LAMBDA_NODE_MAJOR, nodeOf } from '../helpers/node-runtime';
import { REGION } from '../helpers/pulumi-mocks';
import { buildBundleZip, type Declared, rotatorFunction } from './declared-resources';

const execFileAsync = promisify(execFile);

// Runs in the child, an ES module as the runtime's own entry is: imports the bundle's entry as the
// Node.js runtimes do (import() of index.mjs, its chunks beside it), calls the handler once.
const CHILD = `
const { handler } = await import(process.argv[2]);
const event = JSON.parse(process.argv[3]);
const extra = JSON.parse(process.argv[4]);
const context = { getRemainingTimeInMillis: () => 60000, functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, awsRequestId: 'req-1', ...extra };
handler(event, context).then(
  (result) => process.stdout.write('\\nRESULT ' + JSON.stringify({ ok: true, result }) + '\\n'),
  (error) => process.stdout.write('\\nRESULT ' + JSON.stringify({ ok: false, message: String(error && error.message) }) + '\\n'),
);
`;

// Looked up once per test file, on first use (cached by scripts/setup-node.sh after the first run).
let lambdaNode: Promise<string> | undefined;

/** What one invocation printed and answered. */
export interface BundleOutcome {
  stdout: string;
  ok: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: the handler's answer, judged by the caller.
  result?: any;
  message?: string;
}

/** Builds the zip and unpacks it; returns the directory holding index.mjs (and its chunks) and the zip's path. */
export async function unpackBundle(): Promise<{ dir: string; zipPath: string; zip: Buffer }> {
  const { path: zipPath, zip } = await buildBundleZip();
  const dir = await mkdtemp(join(tmpdir(), 'rotator-task-'));
  await execFileAsync('python3', ['-m', 'zipfile', '-e', zipPath, dir]);
  await writeFile(join(dir, 'child.mjs'), CHILD);
  return { dir, zipPath, zip };
}

/**
 * One invocation of the bundle in `dir` with the declared function's environment (plus the AWS
 * settings that point at moto, and `extraEnv`), and the context fields in `context`.
 */
export async function invokeBundle(
  dir: string,
  declared: Declared,
  event: unknown,
  options: { context?: Record<string, unknown>; extraEnv?: Record<string, string> } = {},
): Promise<BundleOutcome> {
  const fn = rotatorFunction(declared).inputs;
  lambdaNode ??= nodeOf(LAMBDA_NODE_MAJOR);
  const { stdout } = await execFileAsync(
    await lambdaNode,
    [join(dir, 'child.mjs'), join(dir, 'index.mjs'), JSON.stringify(event), JSON.stringify(options.context ?? {})],
    {
      cwd: dir,
      timeout: 60_000,
      maxBuffer: 16 * 1024 * 1024,
      env: {
        PATH: process.env.PATH ?? '',
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('AWS_'))),
        ...fn.environment.variables,
        // Lambda sets both for the function's own region (the mocks' region, where it was created).
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        AWS_REGION: REGION,
        AWS_DEFAULT_REGION: REGION,
        ...options.extraEnv,
      },
    },
  );
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`the bundle printed no result:\n${stdout}`);
  return { stdout, ...(JSON.parse(line.slice('RESULT '.length)) as Omit<BundleOutcome, 'stdout'>) };
}
