/**
 * Sweep throughput: N due Sirv credentials (the Sirv fake answering after 50 ms), moto as the
 * store. The rotator's own sweep() with the handler's defaults (concurrency 8) against a plain
 * sequential loop doing what a hand-rolled cron Lambda does per credential: read the client
 * document, obtain a token, put it. moto is reset and reseeded before each variant. The fake runs
 * in a child process of its own (as a real issuer is elsewhere): its JWT signing is not counted
 * as the rotator's time. The sweep is the built one (dist/, what `token-rotator/lambda` exports and
 * the Lambda bundle is made from), not the TypeScript sources through tsx: tsx's transform of each
 * file loaded on first use would count as the rotator's cold start.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import pLimit from 'p-limit';
import { secretNames } from '../core/store';
import type { SweepDeps } from '../lambda/sweep';
import { startSirvFakeProcess } from '../local-stack/fakes/sirv-process';
import { type CallCounts, countCalls } from './call-counter';
import type { BenchContext, BenchOutcome } from './context';
import { BENCH_CLIENT, benchCredentialName, seedSirvCredentials } from './credentials';
import { elapsedMs } from './stats';
import { type BenchRow, row } from './table';

/** The rotator's modules as built by `npm run build` (the types are the sources'). */
function builtRotator() {
  const dist = join(__dirname, '..', 'dist', 'lambda');
  if (!existsSync(join(dist, 'sweep.js'))) {
    throw new Error(`${BENCHMARK}: ${dist}/sweep.js is missing; run \`npm run build\` first (npm run bench does).`);
  }
  return {
    ...(require(join(dist, 'sweep.js')) as typeof import('../lambda/sweep')),
    ...(require(join(dist, 'client-cache.js')) as typeof import('../lambda/client-cache')),
    ...(require(join(dist, '..', 'core', 'rotator-environment.js')) as typeof import('../core/rotator-environment')),
  };
}

const BENCHMARK = 'sweep-throughput';
const ISSUER_LATENCY_MS = 50;
/** The clock seam runs this far ahead of the wall clock: past every seeded token's refresh-after (15 min). */
const DUE_SHIFT_MS = 16 * 60_000;
const PREFIX = 'bench-sweep/';
const STORE_PROBE_CALLS = 1000;

interface Variant {
  seconds: number;
  perSecond: number;
  calls: Record<string, number>;
}

const WRITE_COMMANDS = ['PutSecretValueCommand', 'TagResourceCommand', 'UntagResourceCommand'];

/** AWS calls and write calls per refreshed credential, the listing excluded (it is per sweep, not per refresh). */
function perRefresh(
  calls: Record<string, number>,
  n: number,
): { calls: number; writes: number; reads: number; batchReads: number } {
  const total = Object.entries(calls)
    .filter(([c]) => c !== 'ListSecretsCommand')
    .reduce((a, [, v]) => a + v, 0);
  const writes = WRITE_COMMANDS.reduce((a, c) => a + (calls[c] ?? 0), 0);
  const batchReads = calls.BatchGetSecretValueCommand ?? 0;
  return { calls: total / n, writes: writes / n, reads: (total - writes - batchReads) / n, batchReads: batchReads / n };
}

/** Runs both variants for 100 and 1,000 credentials. */
export async function sweepThroughput(
  context: BenchContext,
  sizes: readonly number[] = [100, 1000],
): Promise<BenchOutcome> {
  const { ClientDocumentCache, rotatorConfigFromEnv, sweep } = builtRotator();
  // Moved on by another DUE_SHIFT_MS before the warm sweep, so every token is due again.
  let shift = DUE_SHIFT_MS;
  const clock = () => new Date(Date.now() + shift);
  // The fake's clock runs as far ahead: its JWT `exp` must agree with the rotator's idea of now.
  const sirv = await startSirvFakeProcess({
    clients: { [BENCH_CLIENT.clientId]: BENCH_CLIENT.clientSecret },
    latencyMs: ISSUER_LATENCY_MS,
    clockOffsetMs: shift,
  });
  const shiftClock = async (ms: number) => {
    shift = ms;
    await sirv.setClockOffset(ms);
  };
  const config = rotatorConfigFromEnv({});
  const rows: BenchRow[] = [];
  const details: Record<string, unknown> = {
    issuerLatencyMs: ISSUER_LATENCY_MS,
    concurrency: config.concurrency,
    note: 'batchSize raised to N so that one invocation refreshes every credential (no Lambda to fan out to)',
  };
  try {
    for (const n of sizes) {
      const client = new SecretsManagerClient({});
      const calls = countCalls(client);

      context.progress(`${BENCHMARK}: seeding ${n} credentials for the rotator's sweep`);
      await shiftClock(DUE_SHIFT_MS);
      await context.moto.reset();
      await seedSirvCredentials({ client, prefix: PREFIX, count: n, tokenUrl: sirv.tokenUrl, issuedAt: new Date() });
      calls.reset();
      context.progress(`${BENCHMARK}: sweep() of ${n} due credentials, concurrency ${config.concurrency}`);
      const deps: SweepDeps = {
        secretsManager: client,
        prefix: PREFIX,
        now: clock,
        random: Math.random,
        lookaheadSeconds: config.scheduleIntervalSeconds,
        concurrency: config.concurrency,
        batchSize: Math.max(config.batchSize, n),
        remainingMs: () => 15 * 60_000,
        reserveMs: config.reserveMs,
        // One container for both sweeps: the first is a cold start, the second warm (as the handler's).
        clientCache: new ClientDocumentCache(),
      };
      const timedSweep = async (label: string): Promise<Variant> => {
        calls.reset();
        context.progress(`${BENCHMARK}: sweep() of ${n} due credentials, concurrency ${config.concurrency}, ${label}`);
        const issuedBefore = await sirv.tokensIssued();
        const started = performance.now();
        const summary = await sweep(deps);
        const seconds = elapsedMs(started) / 1000;
        const issued = (await sirv.tokensIssued()) - issuedBefore;
        if (summary.refreshed !== n || summary.failed !== 0 || issued !== n) {
          throw new Error(
            `${BENCHMARK}: the ${label} sweep refreshed ${summary.refreshed} of ${n} (failed ${summary.failed}; the fake issued ${issued} tokens); the figures would be meaningless`,
          );
        }
        return { seconds, perSecond: n / seconds, calls: { ...calls.byCommand } };
      };
      const cold = await timedSweep('cold container');
      await shiftClock(shift + DUE_SHIFT_MS);
      const rotator = await timedSweep('warm container');
      context.progress(
        `${BENCHMARK}: moto's own pace, ${STORE_PROBE_CALLS} reads and writes ${config.concurrency} at a time`,
      );
      const storeReadsPerSecond = await storePace(client, n, config.concurrency);
      const storeWritesPerSecond = await storeWritePace(client, n, config.concurrency);
      const storeBatchReadsPerSecond = await storeBatchReadPace(client, n);
      context.progress(`${BENCHMARK}: the fake issuer alone, ${n} token requests ${config.concurrency} at a time`);
      const issuerAlonePerSecond = await issuerAlonePace(sirv.tokenUrl, n, config.concurrency);

      context.progress(`${BENCHMARK}: reseeding ${n} credentials for the sequential loop`);
      await context.moto.reset();
      const names = await seedSirvCredentials({
        client,
        prefix: PREFIX,
        count: n,
        tokenUrl: sirv.tokenUrl,
        issuedAt: new Date(),
      });
      calls.reset();
      context.progress(`${BENCHMARK}: sequential loop over ${n} credentials`);
      const started = performance.now();
      await sequentialRefresh(client, names, clock);
      const loopSeconds = elapsedMs(started) / 1000;
      const sequential: Variant = { seconds: loopSeconds, perSecond: n / loopSeconds, calls: { ...calls.byCommand } };
      assertCalls(calls, n);

      const idealPerSecond = config.concurrency / (ISSUER_LATENCY_MS / 1000);
      const coldCost = perRefresh(cold.calls, n);
      const warmCost = perRefresh(rotator.calls, n);
      const peerCost = perRefresh(sequential.calls, n);
      // What moto alone allows: the time its calls of one refresh take at the sweep's concurrency.
      // A batch read of 20 costs moto more than one read: it is priced at moto's own batch pace.
      const storeBound = (cost: { reads: number; writes: number; batchReads: number }) =>
        1 /
        (cost.reads / storeReadsPerSecond +
          cost.batchReads / storeBatchReadsPerSecond +
          cost.writes / storeWritesPerSecond);
      details[`n${n}`] = {
        cold,
        rotator,
        sequential,
        perRefresh: { cold: coldCost, warm: warmCost, peer: peerCost },
        storeReadsPerSecond,
        storeWritesPerSecond,
        storeBatchReadsPerSecond,
        storeBoundPerSecond: { cold: storeBound(coldCost), warm: storeBound(warmCost) },
        issuerAlonePerSecond,
        idealSeconds: (n * ISSUER_LATENCY_MS) / 1000 / config.concurrency,
      };
      const due = `${n.toLocaleString('en-US')} due`;
      const peer = 'cron-Lambda peer (read client, obtain, put), same servers';
      for (const [label, variant, cost] of [
        ['cold', cold, coldCost],
        ['warm', rotator, warmCost],
      ] as const) {
        const name = `sweep(), ${due}, concurrency ${config.concurrency}, ${label} container`;
        rows.push(
          row({
            benchmark: BENCHMARK,
            name,
            value: variant.perSecond,
            unit: 'credentials/s',
            baseline: `issuer-bound ideal (N × ${ISSUER_LATENCY_MS} ms ÷ ${config.concurrency})`,
            baselineValue: idealPerSecond,
            meaning: 'share of the throughput the 50 ms issuer allows at concurrency 8 (1 = only the issuer waits)',
          }),
          row({
            benchmark: BENCHMARK,
            name,
            value: variant.perSecond,
            unit: 'credentials/s',
            baseline: `store-bound ideal (moto's pace ÷ ${cost.calls.toFixed(2)} calls)`,
            baselineValue: storeBound(cost),
            meaning: 'share of what moto alone allows for these calls (separates our overhead from the emulator)',
          }),
          row({
            benchmark: BENCHMARK,
            name,
            value: variant.perSecond,
            unit: 'credentials/s',
            baseline: `fake issuer alone (N token requests, ${config.concurrency} at a time, no store)`,
            baselineValue: issuerAlonePerSecond,
            meaning:
              'share of what the fake issuer (its own process) itself serves at concurrency 8 on this machine (its 50 ms plus its own work)',
          }),
          row({
            benchmark: BENCHMARK,
            name: `AWS calls per refresh, ${due}, ${label} container`,
            value: cost.calls,
            unit: 'calls',
            baseline: peer,
            baselineValue: peerCost.calls,
            meaning: 'Secrets Manager calls per refresh (listing excluded) relative to the peer (goal ≤ 2 calls)',
          }),
          row({
            benchmark: BENCHMARK,
            name: `write calls per refresh, ${due}, ${label} container`,
            value: cost.writes,
            unit: 'calls',
            baseline: peer,
            baselineValue: peerCost.writes,
            meaning: 'PutSecretValue + TagResource + UntagResource per refresh (goal ≤ 1.2: the write quota)',
          }),
        );
      }
      rows.push(
        row({
          benchmark: BENCHMARK,
          name: `sweep(), ${due}, concurrency ${config.concurrency}, warm container`,
          value: rotator.perSecond,
          unit: 'credentials/s',
          baseline: peer,
          baselineValue: sequential.perSecond,
          meaning: 'speed-up over a hand-rolled cron Lambda on the same servers',
        }),
      );
      client.destroy();
    }
  } finally {
    await sirv.close();
  }
  return { rows, details };
}

/** Calls per second of `call(0 … count − 1)`, `inFlight` at a time: the timed loop of every probe below. */
async function pace(count: number, inFlight: number, call: (i: number) => Promise<unknown>): Promise<number> {
  const limit = pLimit(inFlight);
  const started = performance.now();
  await Promise.all(Array.from({ length: count }, (_, i) => limit(() => call(i))));
  return count / (elapsedMs(started) / 1000);
}

/**
 * How many GetSecretValue calls per second moto answers at the sweep's concurrency: what bounds
 * the sweep on this machine when it is not the issuer (moto and Node share two cores).
 */
function storePace(client: SecretsManagerClient, n: number, concurrency: number): Promise<number> {
  return pace(STORE_PROBE_CALLS, concurrency, (i) =>
    client.send(new GetSecretValueCommand({ SecretId: secretNames(benchCredentialName(i % n), PREFIX).client })),
  );
}

/**
 * How many token requests per second the fake issuer alone answers at the sweep's concurrency: a
 * bare fetch loop (no store, no rotator) against the same fake process. The fake waits its 50 ms
 * and then signs a JWT, and this process still sends and reads each request, so this is the pace
 * the issuer-bound ideal cannot be beaten by here, beside the ideal itself.
 */
function issuerAlonePace(tokenUrl: string, n: number, concurrency: number): Promise<number> {
  const body = JSON.stringify({ clientId: BENCH_CLIENT.clientId, clientSecret: BENCH_CLIENT.clientSecret });
  return pace(n, concurrency, async () => {
    const response = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await response.text();
    if (!response.ok) throw new Error(`${BENCHMARK}: the fake issuer answered ${response.status}`);
  });
}

/**
 * How many BatchGetSecretValue calls of 20 client documents per second moto answers, 2 at a time
 * (what the rotator's prefetch keeps in flight: lambda/client-prefetch.ts).
 */
function storeBatchReadPace(client: SecretsManagerClient, n: number): Promise<number> {
  return pace(STORE_PROBE_CALLS / 20, 2, (b) =>
    client.send(
      new BatchGetSecretValueCommand({
        SecretIdList: Array.from(
          { length: 20 },
          (_, i) => secretNames(benchCredentialName((b * 20 + i) % n), PREFIX).client,
        ),
      }),
    ),
  );
}

/** How many PutSecretValue calls per second moto answers at the sweep's concurrency. */
function storeWritePace(client: SecretsManagerClient, n: number, concurrency: number): Promise<number> {
  return pace(STORE_PROBE_CALLS, concurrency, (i) =>
    client.send(
      new PutSecretValueCommand({
        SecretId: `${PREFIX}${benchCredentialName(i % n)}/token`,
        SecretString: JSON.stringify({ probe: i }),
      }),
    ),
  );
}

/** What a hand-rolled cron Lambda does, one credential after the other: no tags, no current-token read. */
async function sequentialRefresh(client: SecretsManagerClient, names: readonly string[], clock: () => Date) {
  for (const name of names) {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretNames(name, PREFIX).client }));
    const doc = JSON.parse(out.SecretString ?? '{}') as {
      issuer: { url: string; clientId: string; clientSecret: string };
    };
    const response = await fetch(doc.issuer.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: doc.issuer.clientId, clientSecret: doc.issuer.clientSecret }),
    });
    if (!response.ok) throw new Error(`${BENCHMARK}: the Sirv fake answered ${response.status} to the sequential loop`);
    const body = (await response.json()) as { token: string; expiresIn: number };
    const issuedAt = clock();
    const expiresAt = new Date(issuedAt.getTime() + body.expiresIn * 1000);
    await client.send(
      new PutSecretValueCommand({
        SecretId: secretNames(name, PREFIX).token,
        SecretString: JSON.stringify({
          version: 1,
          credential: name,
          issuer: 'json',
          accessToken: body.token,
          tokenType: 'Bearer',
          issuedAt: issuedAt.toISOString(),
          expiresAt: expiresAt.toISOString(),
          refreshAfter: new Date(issuedAt.getTime() + body.expiresIn * 750).toISOString(),
          generation: 2,
        }),
      }),
    );
  }
}

function assertCalls(calls: CallCounts, n: number): void {
  if (calls.of('GetSecretValueCommand') !== n || calls.of('PutSecretValueCommand') !== n) {
    throw new Error(`${BENCHMARK}: the sequential loop made unexpected calls ${JSON.stringify(calls.byCommand)}`);
  }
}
