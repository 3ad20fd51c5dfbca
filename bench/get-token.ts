/**
 * A warm TokenReader cache hit: nanoseconds per awaited `getToken` call, beside the cheapest
 * async cache there is (an awaited Map lookup returning the same record object). Rounds of both
 * alternate after a warm-up; the figure is the median round.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { TokenReader } from '../reader/token-reader';
import type { BenchContext, BenchOutcome } from './context';
import { placeholderToken } from './credentials';
import { median } from './stats';
import { row } from './table';

const BENCHMARK = 'get-token';
const NAME = 'sirv-hot';
const ITERATIONS = 200_000;
const WARM_UP_ROUNDS = 3;
const ROUNDS = 9;

/** Runs the rounds; no AWS call is made after the first read. */
export async function getTokenHit(context: BenchContext): Promise<BenchOutcome> {
  // Issued a minute ago, due in 14 minutes: every call below is a cache hit.
  const record = placeholderToken(NAME, new Date(Date.now() - 60_000));
  let reads = 0;
  const client = {
    send: async () => {
      reads += 1;
      return { SecretString: JSON.stringify(record) };
    },
  } as unknown as SecretsManagerClient;
  const reader = new TokenReader({ client });
  await reader.getToken(NAME);

  const map = new Map([[NAME, record]]);
  const lookup = async (name: string) => map.get(name);

  const readerNs: number[] = [];
  const mapNs: number[] = [];
  let sink = 0;
  for (let round = 1; round <= WARM_UP_ROUNDS + ROUNDS; round++) {
    if (round === 1 || round === WARM_UP_ROUNDS + 1) {
      context.progress(`${BENCHMARK}: ${round <= WARM_UP_ROUNDS ? 'warm-up' : 'measured'} rounds`);
    }
    let started = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) sink += (await reader.getToken(NAME)).generation;
    const readerRound = Number(process.hrtime.bigint() - started) / ITERATIONS;
    started = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) sink += (await lookup(NAME))?.generation ?? 0;
    const mapRound = Number(process.hrtime.bigint() - started) / ITERATIONS;
    if (round > WARM_UP_ROUNDS) {
      readerNs.push(readerRound);
      mapNs.push(mapRound);
    }
  }
  if (reads !== 1) throw new Error(`${BENCHMARK}: the reader read the secret ${reads} times; expected once`);
  if (sink !== 2 * (WARM_UP_ROUNDS + ROUNDS) * ITERATIONS) throw new Error(`${BENCHMARK}: unexpected records`);

  return {
    rows: [
      row({
        benchmark: BENCHMARK,
        name: `warm getToken() hit, median of ${ROUNDS} rounds × ${ITERATIONS.toLocaleString('en-US')}`,
        value: median(readerNs),
        unit: 'ns/call',
        baseline: 'awaited Map lookup returning the same record',
        baselineValue: median(mapNs),
        meaning: 'cost of a cache hit relative to the cheapest async cache (name check, clock, expiry check)',
      }),
    ],
    details: { iterations: ITERATIONS, warmUpRounds: WARM_UP_ROUNDS, readerNs, mapNs },
  };
}
