/**
 * Fan-out on moto's Lambda API: a scheduled sweep of the real bundle over more than one batch
 * sends each batch beyond the first as an asynchronous invocation of the function created in moto
 * from the declared inputs; moto's answers decide what counts as handed off. The payloads moto
 * received (recording-proxy.ts says why they are taken on the way) are then given to the handler,
 * which must accept and refresh them. A batch nobody took (throttled, or no such function in moto)
 * must be reported as deferred and stay due for the next sweep. And the Secrets Manager calls of
 * each refresh in a fanned-out batch are counted by command (cold and warm container), as
 * call-counts.test.ts counts them for the sweeping invocation: the same.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DescribeLogStreamsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ROTATOR_ENV } from '../../core/rotator-environment';
import { createCredentialSecrets, deleteCredentialSecrets, readToken } from '../../core/store';
import { createHandler } from '../../lambda';
import { type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { motoEndpoint, secretsManagerClient } from '../helpers/aws';
import { REGION } from '../helpers/pulumi-mocks';
import { tokenRecord } from '../helpers/token-record';
import { type BundleOutcome, invokeBundle, unpackBundle } from './bundle-process';
import { type Created, createInMoto, type Declared, declareRotator, motoClients } from './declared-resources';
import { type RecordingProxy, startRecordingProxy } from './recording-proxy';

const RUN = randomUUID().slice(0, 6);
const PREFIX = `it-fan-${RUN}/`;
const MISSING_PREFIX = `it-fan-${RUN}-missing/`;
const CLIENT_ID = 'fan-client';
const CLIENT_SECRET = `fan-secret-${randomUUID()}`;
const NAMES = ['c0', 'c1', 'c2', 'c3', 'c4'];
const BATCH_SIZE = 2;

let sirv: SirvFake;
let proxy: RecordingProxy;
let taskDir: string;
let declared: Declared;
let created: Created;
const seeded: { prefix: string; name: string }[] = [];

async function seed(prefix: string, name: string, issuer: SirvFake = sirv) {
  const now = Date.now();
  await createCredentialSecrets(
    { client: secretsManagerClient({ region: REGION }), prefix },
    {
      name,
      clientDocument: {
        version: 1,
        issuer: {
          kind: 'sirv',
          url: issuer.tokenUrl,
          allowInsecureHttp: true,
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
        },
        policy: {},
      },
      token: tokenRecord(name, { at: now, issued: -600, refresh: -1, expires: 3600 }, { accessToken: `old-${name}` }),
    },
  );
  seeded.push({ prefix, name });
}

const generationOf = async (prefix: string, name: string) =>
  (await readToken({ client: secretsManagerClient({ region: REGION }), prefix }, name))?.generation;

async function logStreamCount(functionName: string): Promise<number> {
  const out = await motoClients().logs.send(
    new DescribeLogStreamsCommand({ logGroupName: `/aws/lambda/${functionName}` }),
  );
  return out.logStreams?.length ?? 0;
}

/**
 * A scheduled sweep as Lambda runs it: the schedule's input, the function's own ARN in the
 * context; batches of `batchSize` (the rotator's own is 100, too many for a handful of credentials).
 */
function scheduledSweep(rotator: Declared, functionArn: string, batchSize: number): Promise<BundleOutcome> {
  const schedule = rotator.one('aws:scheduler/schedule:Schedule').inputs;
  return invokeBundle(taskDir, rotator, JSON.parse(schedule.target.input), {
    context: { invokedFunctionArn: functionArn },
    extraEnv: { AWS_ENDPOINT_URL_LAMBDA: proxy.endpoint, [ROTATOR_ENV.batchSize]: String(batchSize) },
  });
}

beforeAll(async () => {
  let zip: Buffer;
  ({ dir: taskDir, zip } = await unpackBundle());
  sirv = await startSirvFake({ clients: { [CLIENT_ID]: CLIENT_SECRET } });
  proxy = await startRecordingProxy(motoEndpoint());
  declared = await declareRotator(`fan${RUN}`, { prefix: PREFIX });
  created = await createInMoto(declared, zip);
  for (const name of NAMES) await seed(PREFIX, name);
}, 180_000);

afterAll(async () => {
  await proxy?.close();
  await sirv?.close();
  if (taskDir) await rm(taskDir, { recursive: true, force: true });
  for (const { prefix, name } of seeded) {
    await deleteCredentialSecrets({ client: secretsManagerClient({ region: REGION }), prefix }, name, {
      forceDeleteWithoutRecovery: true,
    }).catch(() => undefined);
  }
});

describe('fan-out through moto', () => {
  it('hands batches to asynchronous invocations moto accepts, reports the one nobody took, and the handler refreshes what moto received', async () => {
    // Arrange: five due credentials, batches of two: one batch here, two handed off, one of which
    // the account throttles (every retry of it too).
    const streamsBefore = await logStreamCount(created.functionName);
    proxy.throttleFirstPayload();

    // Act: the scheduled sweep.
    const sweep = await scheduledSweep(declared, created.functionArn, BATCH_SIZE);
    proxy.stopThrottling();

    // Assess: what moto received.
    expect(sweep.ok, sweep.stdout.slice(-2000)).toBe(true);
    const accepted = proxy.invokes.filter((i) => i.reachedMoto);
    const refused = proxy.invokes.filter((i) => !i.reachedMoto);
    expect(accepted).toHaveLength(1);
    expect(accepted[0]).toMatchObject({ functionName: created.functionArn, invocationType: 'Event', status: 202 });
    // The SDK retried the throttled invoke (3 attempts in all), then gave up.
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(new Set(refused.map((r) => r.payload)).size).toBe(1);
    // moto's own record of the invocation: one log stream per invoke it ran (docker being absent).
    expect(await logStreamCount(created.functionName)).toBe(streamsBefore + accepted.length);

    const handedOff = JSON.parse(accepted[0]?.payload ?? '{}') as { action: string; credentials: string[] };
    const notTaken = JSON.parse(refused[0]?.payload ?? '{}') as { action: string; credentials: string[] };
    expect(handedOff.action).toBe('refresh-batch');
    expect(handedOff.credentials).toHaveLength(BATCH_SIZE);
    // Names and a write rate only: the batch trusts no state it is handed.
    expect(Object.keys(handedOff).sort()).toEqual(['action', 'credentials', 'writesPerSecond']);
    expect(notTaken.credentials.length).toBeGreaterThan(0);
    const local = NAMES.filter((n) => !handedOff.credentials.includes(n) && !notTaken.credentials.includes(n));
    expect(local).toHaveLength(BATCH_SIZE);

    // The sweep reports the batch nobody took as deferred, and refreshed only its own batch.
    expect(sweep.result).toMatchObject({
      listed: NAMES.length,
      due: NAMES.length,
      refreshed: local.length,
      failed: 0,
      fannedOut: handedOff.credentials.length,
      deferred: notTaken.credentials.length,
    });
    expect(sweep.stdout).toMatch(/"message":"Sweep finished"/);
    for (const name of local) expect(await generationOf(PREFIX, name)).toBe(2);
    for (const name of [...handedOff.credentials, ...notTaken.credentials])
      expect(await generationOf(PREFIX, name)).toBe(1);

    // Act: the invocation moto accepted, with exactly the payload it received.
    const batch = await invokeBundle(taskDir, declared, JSON.parse(accepted[0]?.payload ?? 'null'), {
      context: { invokedFunctionArn: created.functionArn },
    });
    expect(batch.ok, batch.stdout.slice(-2000)).toBe(true);
    expect(batch.result).toMatchObject({ refreshed: handedOff.credentials.length, failed: 0, deferred: 0 });
    for (const name of handedOff.credentials) expect(await generationOf(PREFIX, name)).toBe(2);

    // The batch nobody took is still due: the next sweep refreshes it (here: one batch, no hand-off).
    const next = await scheduledSweep(declared, created.functionArn, BATCH_SIZE);
    expect(next.result).toMatchObject({
      due: notTaken.credentials.length,
      refreshed: notTaken.credentials.length,
      fannedOut: 0,
    });
    for (const name of NAMES) expect(await generationOf(PREFIX, name)).toBe(2);
    expect(proxy.invokes.filter((i) => i.reachedMoto)).toHaveLength(1);
  });

  it('reports every remote batch as deferred when moto knows no such function', async () => {
    // Arrange: a second deployment whose invocations name a function moto does not have.
    const rotator = await declareRotator(`fanm${RUN}`, { prefix: MISSING_PREFIX });
    for (const name of ['m0', 'm1', 'm2']) await seed(MISSING_PREFIX, name);
    const missingArn = created.functionArn.replace(/:function:.*$/, `:function:missing-${RUN}`);
    const before = proxy.invokes.length;

    // Act
    const sweep = await scheduledSweep(rotator, missingArn, 1);

    // Assess: moto answered 404 for both hand-offs; they are reported, and stay due.
    expect(sweep.ok, sweep.stdout.slice(-2000)).toBe(true);
    const answers = proxy.invokes.slice(before);
    expect(answers.length).toBeGreaterThanOrEqual(2);
    for (const a of answers) expect(a).toMatchObject({ functionName: missingArn, status: 404, reachedMoto: true });
    expect(sweep.result).toMatchObject({ listed: 3, due: 3, refreshed: 1, fannedOut: 0, deferred: 2 });
    const generations = await Promise.all(['m0', 'm1', 'm2'].map((n) => generationOf(MISSING_PREFIX, n)));
    expect(generations.sort()).toEqual([1, 1, 2]);
  });

  it('refreshes a fanned-out batch by name: each refresh describes first, and a batch delivered again writes nothing', async () => {
    // Prepare: six due credentials in batches of two, on a Sirv fake that follows the handlers'
    // clock; one container sweeps (its Lambda calls go through the proxy to moto), another takes
    // the batches moto accepted, with exactly the payloads moto received.
    let shiftMs = 0;
    const now = () => new Date(Date.now() + shiftMs);
    const clocked = await startSirvFake({ clients: { [CLIENT_ID]: CLIENT_SECRET }, now });
    const prefix = `it-fan-${RUN}-calls/`;
    const names = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
    for (const name of names) await seed(prefix, name, clocked);
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const container = () => {
      const sm = secretsManagerClient({ region: REGION });
      const calls = countByCredential(sm, prefix);
      const handler = createHandler({
        secretsManager: sm,
        lambda: new LambdaClient({ region: REGION, endpoint: proxy.endpoint }),
        now,
        random: () => 0.5,
        env: { TOKEN_ROTATOR_PREFIX: prefix, TOKEN_ROTATOR_BATCH_SIZE: '2' },
        logger: new Logger({ serviceName: 'token-rotator', logLevel: 'SILENT' }),
        metrics: new Metrics({ namespace: 'TokenRotator', serviceName: 'token-rotator' }),
      });
      return { handler, calls };
    };
    const context = { getRemainingTimeInMillis: () => 600_000, invokedFunctionArn: created.functionArn };
    const sweeper = container();
    const batches = container();
    /** One sweep, then every batch moto accepted run in the batch container: the calls of each. */
    const tick = async () => {
      const before = proxy.invokes.length;
      sweeper.calls.clear();
      batches.calls.clear();
      const sweep = await sweeper.handler({ action: 'sweep' }, context);
      const handed = proxy.invokes.slice(before);
      for (const invoke of handed)
        expect(invoke).toMatchObject({ invocationType: 'Event', status: 202, reachedMoto: true });
      const events = handed.map((i) => JSON.parse(i.payload) as Record<string, unknown>);
      for (const event of events) {
        expect(await batches.handler(event, context)).toMatchObject({ refreshed: 2, failed: 0 });
      }
      return {
        events,
        sweep,
        remote: events.flatMap((e) => e.credentials as string[]),
        local: Object.fromEntries(sweeper.calls),
        batch: Object.fromEntries(batches.calls),
      };
    };

    try {
      // Act: cold (neither container has read a client document).
      const cold = await tick();

      // Assess: two batches handed off; every refresh, here or there, described its token secret,
      // read its client document (the sweep's in batches, its half of one BatchGetSecretValue per
      // two; a batch, which has no listing, alone) and put.
      expect(cold.sweep).toMatchObject({ listed: 6, due: 6, refreshed: 2, fannedOut: 4, deferred: 0 });
      expect(cold.remote).toHaveLength(4);
      for (const name of cold.remote) {
        expect(cold.batch[name], name).toEqual({ DescribeSecret: 1, GetSecretValue: 1, PutSecretValue: 1 });
      }
      for (const name of names.filter((n) => !cold.remote.includes(n))) {
        expect(cold.local[name], name).toEqual({ DescribeSecret: 1, BatchGetSecretValue: 0.5, PutSecretValue: 1 });
      }
      expect(Object.keys(cold.batch).sort()).toEqual([...cold.remote].sort());
      expect(cold.local['(listing)']).toEqual({ ListSecrets: 1 });

      // Act: warm, two refresh intervals on (16 minutes: every 20-minute token is due again).
      shiftMs += 16 * 60_000;
      const warm = await tick();

      // Assess: the same credentials handed off, to the container that refreshed them: describe and put.
      // (Sorted: the two invokes go out at once and reach moto in either order.)
      expect([...warm.remote].sort()).toEqual([...cold.remote].sort());
      const warmRefresh = { DescribeSecret: 1, PutSecretValue: 1 };
      for (const name of warm.remote) expect(warm.batch[name], name).toEqual(warmRefresh);
      for (const name of names.filter((n) => !warm.remote.includes(n)))
        expect(warm.local[name], name).toEqual(warmRefresh);

      // Act: Lambda delivers the same events again (at least once), 12 s later, to a new container.
      shiftMs += 12_000;
      const again = container();
      for (const event of warm.events) {
        expect(await again.handler(event, context)).toMatchObject({ refreshed: 0, skipped: 2, failed: 0 });
      }

      // Assess: a describe each, nothing written, the generation where the first delivery left it.
      for (const name of warm.remote)
        expect(Object.fromEntries(again.calls)[name], name).toEqual({ DescribeSecret: 1 });
      for (const name of names) expect(await generationOf(prefix, name)).toBe(3);
    } finally {
      stdout.mockRestore();
      await clocked.close();
    }
  });
});

/**
 * Counts the Secrets Manager calls `client` sends, by credential (from the secret id) and command;
 * ListSecrets under `(listing)`; a BatchGetSecretValue as 1/n for each of its n credentials.
 * Counted once per `send`, before retries.
 */
function countByCredential(client: SecretsManagerClient, prefix: string): Map<string, Record<string, number>> {
  const calls = new Map<string, Record<string, number>>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { SecretId?: string; SecretIdList?: string[] };
      const command = (context.commandName ?? 'unknown').replace(/Command$/, '');
      const credential = (id: string) => id.slice(prefix.length).replace(/\/(token|client)$/, '');
      // A batch read is shared: each credential of it counts its share of the call.
      const ids = input.SecretIdList ?? (input.SecretId === undefined ? [] : [input.SecretId]);
      const keys = ids.length === 0 ? ['(listing)'] : ids.map(credential);
      for (const key of keys) {
        const entry = calls.get(key) ?? {};
        entry[command] = (entry[command] ?? 0) + 1 / keys.length;
        calls.set(key, entry);
      }
      return next(args);
    },
    { step: 'initialize', name: 'countByCredential' },
  );
  return calls;
}
