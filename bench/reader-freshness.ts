/**
 * Reader cost and freshness over two simulated hours of a 20-minute Sirv token that the rotator
 * refreshes at 75 % of its life: one workload read every 10 simulated seconds through each
 * reader, the rotator's sweep() every simulated minute writing new tokens into moto.
 *
 * Readers: TokenReader, and Powertools' SecretsProvider.get (what `getSecret` calls on its
 * default provider; built here with our own client so its calls can be counted) with its default
 * cache (maxAge 5 s), maxAge 300 s and maxAge 3600 s. Each has its own Secrets Manager client
 * with a counting middleware, all against the same moto server and the same secret.
 *
 * Time: TokenReader, sweep() and the Sirv fake take the simulated clock through their `now`
 * seams; Powertools has none, so the global `Date` is replaced for the duration (see
 * simulated-date.ts) and restored after. The AWS SDK signs requests with that simulated time;
 * moto does not check signatures, and when the skew passes 5 minutes the SDK adopts moto's `Date`
 * header as its clock offset, which only changes the signing time.
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { issueTokenRecord } from '../core/issue';
import { parseIssuerConfig } from '../core/issuers/config';
import { resolvePolicy } from '../core/policy';
import { rotatorConfigFromEnv } from '../core/rotator-environment';
import { createCredentialSecrets, secretNames } from '../core/store';
import type { TokenRecord } from '../core/token';
import { type SweepDeps, sweep } from '../lambda/sweep';
import { startSirvFake } from '../local-stack/fakes/sirv';
import { TokenReader } from '../reader/token-reader';
import { type CallCounts, countCalls } from './call-counter';
import type { BenchContext, BenchOutcome } from './context';
import { BENCH_CLIENT } from './credentials';
import { installSimulatedDate } from './simulated-date';
import { type BenchRow, row } from './table';

const BENCHMARK = 'reader-freshness';
const PREFIX = 'bench-reader/';
const NAME = 'sirv-reader';
const SIMULATED_SECONDS = 2 * 3600;
const READ_EVERY_SECONDS = 10;
const SWEEP_EVERY_SECONDS = 60;
/** Jitter seam: a fixed draw, so every run refreshes at the same simulated instants. */
const JITTER_DRAW = 0.5;

interface ReaderTally {
  label: string;
  read: () => Promise<TokenRecord>;
  calls: CallCounts;
  reads: number;
  expiredServed: number;
  /** Served a token older than the newest one already in moto (still valid, or not). */
  supersededServed: number;
  errors: number;
}

/** Runs the simulation once, every reader side by side. */
export async function readerFreshness(context: BenchContext): Promise<BenchOutcome> {
  await context.moto.reset();
  const startMs = Math.floor(Date.now() / 1000) * 1000;
  const clock = installSimulatedDate(startMs);
  const sirv = await startSirvFake({
    clients: { [BENCH_CLIENT.clientId]: BENCH_CLIENT.clientSecret },
    now: clock.now,
  });
  const clients: SecretsManagerClient[] = [];
  const newClient = () => {
    const client = new SecretsManagerClient({});
    clients.push(client);
    return client;
  };
  try {
    const rotatorClient = newClient();
    const rotatorCalls = countCalls(rotatorClient);
    const issuer = parseIssuerConfig({ kind: 'sirv', url: sirv.tokenUrl, allowInsecureHttp: true, ...BENCH_CLIENT });
    // The first token, as the provider writes it at `pulumi up`.
    const first = await issueTokenRecord(
      { credential: NAME, issuer, policy: resolvePolicy({}), previousGeneration: 0, random: () => JITTER_DRAW },
      { credential: NAME, now: clock.now },
    );
    await createCredentialSecrets(
      { client: rotatorClient, prefix: PREFIX },
      { name: NAME, clientDocument: { version: 1, issuer, policy: {} }, token: first },
    );
    let newestGeneration = first.generation;

    const config = rotatorConfigFromEnv({});
    const sweepDeps: SweepDeps = {
      secretsManager: rotatorClient,
      prefix: PREFIX,
      now: clock.now,
      random: () => JITTER_DRAW,
      lookaheadSeconds: config.scheduleIntervalSeconds,
      concurrency: config.concurrency,
      batchSize: config.batchSize,
      remainingMs: () => 15 * 60_000,
      reserveMs: config.reserveMs,
    };

    const secretId = secretNames(NAME, PREFIX).token;
    const tallies: ReaderTally[] = [];
    const addReader = (label: string, make: (client: SecretsManagerClient) => () => Promise<TokenRecord>) => {
      const client = newClient();
      tallies.push({
        label,
        read: make(client),
        calls: countCalls(client),
        reads: 0,
        expiredServed: 0,
        supersededServed: 0,
        errors: 0,
      });
    };
    addReader('TokenReader', (client) => {
      const reader = new TokenReader({ client, prefix: PREFIX, now: clock.now });
      return () => reader.getToken(NAME);
    });
    for (const maxAge of [undefined, 300, 3600]) {
      addReader(
        maxAge === undefined
          ? 'Powertools getSecret, maxAge 5 s (default)'
          : `Powertools getSecret, maxAge ${maxAge} s`,
        (client) => {
          const provider = new SecretsProvider({ awsSdkV3Client: client });
          // Without maxAge: the default cache age (POWERTOOLS_PARAMETERS_MAX_AGE unset, so 5 s).
          return async () =>
            (maxAge === undefined
              ? await provider.get(secretId, { transform: 'json' })
              : await provider.get(secretId, { maxAge, transform: 'json' })) as TokenRecord;
        },
      );
    }

    let refreshes = 0;
    for (let t = 0; t <= SIMULATED_SECONDS; t += READ_EVERY_SECONDS) {
      clock.set(startMs + t * 1000);
      if (t % SWEEP_EVERY_SECONDS === 0) {
        const summary = await sweep(sweepDeps);
        if (summary.failed > 0) throw new Error(`${BENCHMARK}: the rotator failed at t=${t}s`);
        refreshes += summary.refreshed;
        newestGeneration += summary.refreshed;
      }
      if (t % 1800 === 0) context.progress(`${BENCHMARK}: simulated ${t / 60} of ${SIMULATED_SECONDS / 60} minutes`);
      for (const tally of tallies) {
        tally.reads += 1;
        try {
          const record = await tally.read();
          if (Date.parse(record.expiresAt) <= clock.nowMs()) tally.expiredServed += 1;
          if (record.generation < newestGeneration) tally.supersededServed += 1;
        } catch {
          // TokenReader throws rather than hand out an expired token; a Powertools read failing would land here too.
          tally.errors += 1;
        }
      }
    }

    const [reader, ...baselines] = tallies;
    if (reader === undefined) throw new Error(`${BENCHMARK}: no reader`);
    const span = `2 h, 1 read / ${READ_EVERY_SECONDS} s`;
    const rows: BenchRow[] = [];
    for (const baseline of baselines) {
      rows.push(
        row({
          benchmark: BENCHMARK,
          name: `TokenReader: Secrets Manager calls (${span})`,
          value: reader.calls.total(),
          unit: 'calls',
          baseline: baseline.label,
          baselineValue: baseline.calls.total(),
          meaning: 'GetSecretValue calls relative to the baseline cache (lower is cheaper)',
        }),
      );
    }
    for (const baseline of baselines) {
      rows.push(
        row({
          benchmark: BENCHMARK,
          name: `TokenReader: expired tokens served (${span})`,
          value: reader.expiredServed,
          unit: 'reads',
          baseline: baseline.label,
          baselineValue: baseline.expiredServed,
          meaning: 'expired tokens handed to the workload relative to the baseline (0× = none; n/a = both none)',
        }),
      );
    }
    return {
      rows,
      details: {
        simulatedSeconds: SIMULATED_SECONDS,
        readEverySeconds: READ_EVERY_SECONDS,
        sweepEverySeconds: SWEEP_EVERY_SECONDS,
        tokenLifetimeSeconds: Math.round((Date.parse(first.expiresAt) - Date.parse(first.issuedAt)) / 1000),
        firstRefreshAfterSeconds: Math.round((Date.parse(first.refreshAfter) - Date.parse(first.issuedAt)) / 1000),
        refreshes,
        rotatorCalls: rotatorCalls.byCommand,
        readers: tallies.map((t) => ({
          label: t.label,
          reads: t.reads,
          calls: t.calls.byCommand,
          expiredServed: t.expiredServed,
          supersededServed: t.supersededServed,
          errors: t.errors,
        })),
      },
    };
  } finally {
    clock.restore();
    for (const client of clients) client.destroy();
    await sirv.close();
  }
}
