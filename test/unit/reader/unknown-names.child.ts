/**
 * Run by bounded-memory.test.ts in a process of its own (`node --expose-gc`): asks one
 * TokenReader for many credential names that do not exist and prints, as one JSON line, how much
 * heap the reader kept. The Secrets Manager client is the real SDK client; only its HTTP handler
 * is replaced, answering every GetSecretValue as AWS does for a missing secret, so each failure
 * carries everything the SDK attaches to a real one (`$response`, `$metadata`).
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { TokenReader } from '../../../reader/token-reader';

const NAMES = Number(process.env.UNKNOWN_NAMES ?? 50_000);
// A retained growth above this stops the run early: the reader is leaking and the verdict is known.
const GIVE_UP_BYTES = Number(process.env.GIVE_UP_BYTES ?? 64 * 1024 * 1024);
const WARM_UP = 200;
const BATCH = 100;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

const notFound = JSON.stringify({
  __type: 'ResourceNotFoundException',
  message: "Secrets Manager can't find the specified secret.",
});

const client = new SecretsManagerClient({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example-secret-access-key' },
  maxAttempts: 1,
  requestHandler: {
    handle: async () => ({
      response: {
        statusCode: 400,
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': '4f3c5b0e-2d8a-4e57-9a1b-0c6d7e8f9a0b',
          'content-length': String(Buffer.byteLength(notFound)),
        },
        body: Buffer.from(notFound),
      },
    }),
  },
});

const reader = new TokenReader({ client });

async function ask(from: number, count: number): Promise<void> {
  for (let start = from; start < from + count; start += BATCH) {
    const names = Array.from({ length: Math.min(BATCH, from + count - start) }, (_, i) => `tenant-${start + i}`);
    const results = await Promise.allSettled(names.map((name) => reader.getToken(name)));
    for (const result of results) {
      if (result.status === 'fulfilled') throw new Error('an unknown name returned a token');
    }
  }
}

function heapAfterGc(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

async function main(): Promise<void> {
  // The first calls compile the SDK's and the reader's code paths: not what a name costs.
  await ask(0, WARM_UP);
  const before = heapAfterGc();
  let asked = 0;
  let retained = 0;
  while (asked < NAMES) {
    const step = Math.min(5_000, NAMES - asked);
    await ask(WARM_UP + asked, step);
    asked += step;
    retained = heapAfterGc() - before;
    if (retained > GIVE_UP_BYTES) break;
  }
  process.stdout.write(`${JSON.stringify({ asked, retainedBytes: retained, perNameBytes: retained / asked })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
