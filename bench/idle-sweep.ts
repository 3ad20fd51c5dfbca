/**
 * Idle sweep cost: 1,000 credentials, none due. The rotator's sweep() decides from the tags that
 * ListSecrets returns; a naive sweep lists the names and reads every token secret to decide.
 * AWS calls are counted by command name; wall time is the median of a few rounds, interleaved.
 */
import { GetSecretValueCommand, paginateListSecrets, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pLimit from 'p-limit';
import { rotatorConfigFromEnv } from '../core/rotator-environment';
import { type SweepDeps, sweep } from '../lambda/sweep';
import { countCalls } from './call-counter';
import type { BenchContext, BenchOutcome } from './context';
import { seedSirvCredentials } from './credentials';
import { elapsedMs, median } from './stats';
import { row } from './table';

const BENCHMARK = 'idle-sweep';
const PREFIX = 'bench-idle/';
const ROUNDS = 3;

/** Runs both sweeps `ROUNDS` times over the same idle credentials. */
export async function idleSweep(context: BenchContext, count = 1000): Promise<BenchOutcome> {
  const config = rotatorConfigFromEnv({});
  const client = new SecretsManagerClient({});
  const calls = countCalls(client);
  try {
    context.progress(`${BENCHMARK}: seeding ${count} credentials, none due for 15 minutes`);
    await context.moto.reset();
    // Nobody's token is due: the placeholder tokens were issued now and refresh after 15 minutes.
    await seedSirvCredentials({
      client,
      prefix: PREFIX,
      count,
      tokenUrl: 'http://127.0.0.1:9/v2/token',
      issuedAt: new Date(),
    });
    const deps: SweepDeps = {
      secretsManager: client,
      prefix: PREFIX,
      now: () => new Date(),
      random: Math.random,
      lookaheadSeconds: config.scheduleIntervalSeconds,
      concurrency: config.concurrency,
      batchSize: config.batchSize,
      remainingMs: () => 15 * 60_000,
      reserveMs: config.reserveMs,
    };

    const rotatorMs: number[] = [];
    const naiveMs: number[] = [];
    let rotatorCalls: Record<string, number> = {};
    let naiveCalls: Record<string, number> = {};
    for (let round = 1; round <= ROUNDS; round++) {
      context.progress(`${BENCHMARK}: round ${round}/${ROUNDS}`);
      calls.reset();
      let started = performance.now();
      const summary = await sweep(deps);
      rotatorMs.push(elapsedMs(started));
      if (summary.listed !== count || summary.due !== 0) {
        throw new Error(
          `${BENCHMARK}: the sweep listed ${summary.listed} and found ${summary.due} due; expected ${count} and 0`,
        );
      }
      rotatorCalls = { ...calls.byCommand };

      calls.reset();
      started = performance.now();
      const due = await naiveSweep(client, config.scheduleIntervalSeconds, config.concurrency);
      naiveMs.push(elapsedMs(started));
      if (due !== 0) throw new Error(`${BENCHMARK}: the naive sweep found ${due} due; expected 0`);
      naiveCalls = { ...calls.byCommand };
    }

    // A listing of both secrets of each credential (client and token, by the credential tag), counted on the
    // same secrets: what listing token secrets alone saves.
    calls.reset();
    const pages = paginateListSecrets(
      { client, pageSize: 100 },
      {
        Filters: [
          { Key: 'name', Values: [PREFIX] },
          { Key: 'tag-key', Values: ['token-rotator:credential'] },
        ],
      },
    );
    for await (const _ of pages) {
      // Only the page count matters.
    }
    const oldListingCalls = calls.of('ListSecretsCommand');
    const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
    const name = `idle sweep, ${count.toLocaleString('en-US')} credentials`;
    const naive = `naive sweep (list, read every token, ${config.concurrency} at a time)`;
    return {
      rows: [
        row({
          benchmark: BENCHMARK,
          name: `${name}: AWS calls`,
          value: total(rotatorCalls),
          unit: 'calls',
          baseline: naive,
          baselineValue: total(naiveCalls),
          meaning: 'AWS calls per idle tick relative to reading every token (lower is better)',
        }),
        row({
          benchmark: BENCHMARK,
          name: `${name}: ListSecrets calls`,
          value: rotatorCalls.ListSecretsCommand ?? 0,
          unit: 'calls',
          baseline: 'listing client and token secrets',
          baselineValue: oldListingCalls,
          meaning: 'ListSecrets pages per idle tick (goal ≤ 10 per 1,000 credentials: token secrets only)',
        }),
        row({
          benchmark: BENCHMARK,
          name: `${name}: GetSecretValue calls`,
          value: rotatorCalls.GetSecretValueCommand ?? 0,
          unit: 'calls',
          baseline: naive,
          baselineValue: naiveCalls.GetSecretValueCommand ?? 0,
          meaning: '0 = an idle tick reads no secret value (no KMS decrypt, no value API charge)',
        }),
        row({
          benchmark: BENCHMARK,
          name: `${name}: wall time (median of ${ROUNDS})`,
          value: median(rotatorMs),
          unit: 'ms',
          baseline: naive,
          baselineValue: median(naiveMs),
          meaning: 'time of an idle tick relative to the naive sweep (lower is better)',
        }),
      ],
      details: { count, rounds: ROUNDS, rotatorCalls, naiveCalls, oldListingCalls, rotatorMs, naiveMs },
    };
  } finally {
    client.destroy();
  }
}

/** Lists the token secrets by name and reads each one to decide whether it is due; returns how many are. */
async function naiveSweep(client: SecretsManagerClient, lookaheadSeconds: number, concurrency: number) {
  const tokenSecrets: string[] = [];
  const pages = paginateListSecrets({ client, pageSize: 100 }, { Filters: [{ Key: 'name', Values: [PREFIX] }] });
  for await (const page of pages) {
    for (const entry of page.SecretList ?? []) if (entry.Name?.endsWith('/token')) tokenSecrets.push(entry.Name);
  }
  const horizon = Date.now() + lookaheadSeconds * 1000;
  const limit = pLimit(concurrency);
  const verdicts = await Promise.all(
    tokenSecrets.map((secretId) =>
      limit(async () => {
        const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
        const record = JSON.parse(out.SecretString ?? '{}') as { refreshAfter?: string };
        return Date.parse(record.refreshAfter ?? '') < horizon;
      }),
    ),
  );
  return verdicts.filter(Boolean).length;
}
