/**
 * Holding the account's write quota: 10,000 credentials due at once, against the in-memory
 * Secrets Manager (local-stack/memory-secrets.ts) refusing more than 50 writes in any
 * second, on a simulated clock (local-stack/virtual-time.ts). The rotator's handler runs a sweep every
 * minute of simulated time, each with a 120 s invocation budget, and fans out through a Lambda
 * stand-in that runs each batch as a concurrent invocation of the same handler.
 *
 * Baseline: the same sweep and fan-out without a write pace of its own: it storms into the quota,
 * its throttled writes fail and back off.
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { createHandler, type InvocationContext } from '../lambda/handler';
import { refreshMany, type SweepDeps, sweep } from '../lambda/sweep';
import { sirvFetch } from '../local-stack/fakes/sirv-fetch';
import { type MemorySecrets, memorySecrets } from '../local-stack/memory-secrets';
import { VirtualTime } from '../local-stack/virtual-time';
import type { BenchContext, BenchOutcome } from './context';
import { benchClientDocument, placeholderToken, SIRV_LIFETIME_SECONDS } from './credentials';
import { row } from './table';

const BENCHMARK = 'write-quota';
const COUNT = 10_000;
const QUOTA = 50;
const PREFIX = 'bench-quota/';
/** Never dialled: the in-process issuer answers every request. */
const TOKEN_URL = 'http://sirv.bench.invalid/v2/token';
const TICK_MS = 60_000;
const INVOCATION_MS = 120_000;
/** The old tokens expire this long after they fall due (Sirv: refreshed at 15 of 20 minutes). */
const MARGIN_MS = 300_000;
/** Simulated time the paced run may take. */
const LIMIT_MS = 30 * 60_000;
/** The unpaced baseline stops here: twice the old tokens' deadline, and a storm is slow to simulate. */
const BASELINE_LIMIT_MS = 10 * 60_000;
const START = new Date('2026-11-22T12:00:00.000Z');
/** The generation of every seeded token; a higher one was written by the rotator. */
const SEEDED_GENERATION = placeholderToken('', START).generation;

interface Outcome {
  /** Simulated seconds from the first sweep until every credential holds a new token (undefined: never). */
  allRefreshedSeconds: number | undefined;
  /** Credentials whose old token expired before the new one was written. */
  expiredFirst: number;
  throttled: number;
  writes: number;
  peakWritesPerSecond: number;
  invocations: number;
  ticks: number;
}

/** Runs both variants. */
export async function writeQuota(context: BenchContext, count = COUNT): Promise<BenchOutcome> {
  context.progress(`${BENCHMARK}: ${COUNT} due credentials, quota ${QUOTA} writes/s, paced (the rotator's handler)`);
  const paced = await simulate(true, count);
  context.progress(`${BENCHMARK}: the same without a write pace`);
  const unpaced = await simulate(false, count);
  const ideal = count / QUOTA;
  const name = `${count.toLocaleString('en-US')} due, ${QUOTA} writes/s quota, fan-out`;
  const rows = [
    row({
      benchmark: BENCHMARK,
      name: `${name}: simulated time until all refreshed`,
      value: paced.allRefreshedSeconds ?? Number.POSITIVE_INFINITY,
      unit: 's',
      baseline: `quota-bound ideal (${count.toLocaleString('en-US')} ÷ ${QUOTA}/s)`,
      baselineValue: ideal,
      meaning:
        'time to refresh the fleet relative to the quota alone (1 = every write slot used; the rotator keeps 20 % back)',
    }),
    row({
      benchmark: BENCHMARK,
      name: `${name}: throttled write requests`,
      value: paced.throttled,
      unit: 'calls',
      baseline: 'same sweep and fan-out without a write pace',
      baselineValue: unpaced.throttled,
      meaning: '0 = the rotator never storms into the quota',
    }),
    row({
      benchmark: BENCHMARK,
      name: `${name}: old tokens expired before refresh`,
      value: paced.expiredFirst,
      unit: 'credentials',
      baseline: 'same sweep and fan-out without a write pace',
      baselineValue: unpaced.expiredFirst,
      meaning: `0 = every token replaced within its ${MARGIN_MS / 1000} s margin (its deadline)`,
    }),
    row({
      benchmark: BENCHMARK,
      name: `${name}: peak writes in one second`,
      value: paced.peakWritesPerSecond,
      unit: 'writes',
      baseline: 'account write quota',
      baselineValue: QUOTA,
      meaning: 'share of the quota at the busiest second (< 1: never over it; batches of one tick pace apart)',
    }),
  ];
  return { rows, details: { count, quota: QUOTA, marginSeconds: MARGIN_MS / 1000, paced, unpaced } };
}

async function simulate(paced: boolean, count: number): Promise<Outcome> {
  const vt = new VirtualTime(START);
  const sm = memorySecrets({ now: vt.now, writesPerSecond: QUOTA });
  try {
    const dueAt = new Date(START.getTime() - 1000);
    // Issued so that the 75 % refresh point is dueAt: all due at once, expiring MARGIN_MS later.
    const issuedAt = new Date(dueAt.getTime() - SIRV_LIFETIME_SECONDS * 750);
    const names = Array.from({ length: count }, (_, i) => `q${String(i).padStart(5, '0')}`);
    for (const name of names) {
      sm.addCredential({
        name,
        prefix: PREFIX,
        clientDocument: benchClientDocument(TOKEN_URL),
        token: placeholderToken(name, issuedAt),
      });
    }
    const issuer = sirvFetch();
    const pending: Promise<unknown>[] = [];
    let invocations = 0;
    const contextAt = (started: number): InvocationContext => ({
      getRemainingTimeInMillis: () => started + INVOCATION_MS - vt.now().getTime(),
      functionName: 'token-rotator',
    });
    const silentLogger = { info() {}, warn() {}, error() {} } as unknown as Logger;
    const silentMetrics = {
      addMetric() {},
      publishStoredMetrics() {},
      setDefaultDimensions() {},
    } as unknown as Metrics;
    const env = { TOKEN_ROTATOR_PREFIX: PREFIX };
    const handler = createHandler({
      secretsManager: sm.client,
      fetch: issuer.fetch,
      now: vt.now,
      random: () => 0.5,
      env,
      logger: silentLogger,
      metrics: silentMetrics,
      sleep: vt.sleep,
      lambda: fakeLambda((payload) => {
        invocations += 1;
        pending.push(handler(payload, contextAt(vt.now().getTime())));
      }),
    });
    // The baseline: sweep() and refreshMany() with the handler's settings but no write pace.
    const unpacedDeps = (started: number): SweepDeps => ({
      secretsManager: sm.client,
      prefix: PREFIX,
      fetch: issuer.fetch,
      now: vt.now,
      random: () => 0.5,
      lookaheadSeconds: 60,
      concurrency: 8,
      batchSize: 100,
      remainingMs: () => started + INVOCATION_MS - vt.now().getTime(),
      reserveMs: 15_000,
      functionName: 'token-rotator',
      lambda: fakeLambda((payload) => {
        invocations += 1;
        const event = payload as { credentials: string[] };
        pending.push(refreshMany(event.credentials, unpacedDeps(vt.now().getTime())));
      }),
    });

    const refreshedAt = new Map<string, number>();
    const isDone = () => {
      for (const name of names) {
        if (refreshedAt.has(name)) continue;
        const stored = sm.secrets.get(`${PREFIX}${name}/token`);
        // The double stamps LastChangedDate with the simulated time of the write.
        if (stored && (JSON.parse(stored.value) as { generation: number }).generation > SEEDED_GENERATION) {
          refreshedAt.set(name, stored.lastChangedDate.getTime());
        }
      }
      return refreshedAt.size === names.length;
    };
    let ticks = 0;
    let allRefreshedSeconds: number | undefined;
    const run = async () => {
      while (vt.now().getTime() - START.getTime() < (paced ? LIMIT_MS : BASELINE_LIMIT_MS)) {
        const started = vt.now().getTime();
        ticks += 1;
        invocations += 1;
        pending.push(paced ? handler({ action: 'sweep' }, contextAt(started)) : sweep(unpacedDeps(started)));
        await vt.sleep(TICK_MS);
        // The mock keeps every call it saw; nothing here reads that history, and for a storm of
        // throttled calls it would fill the heap.
        sm.mock.resetHistory();
        if (isDone()) {
          allRefreshedSeconds = (Math.max(...refreshedAt.values()) - START.getTime()) / 1000;
          break;
        }
      }
      await Promise.all(pending);
    };
    await vt.run(run(), LIMIT_MS + 10 * INVOCATION_MS);
    isDone();
    const expiry = dueAt.getTime() + MARGIN_MS;
    return {
      allRefreshedSeconds,
      expiredFirst: names.filter((n) => (refreshedAt.get(n) ?? Number.POSITIVE_INFINITY) > expiry).length,
      throttled: sm.throttled,
      writes: sm.writeTimes.length,
      peakWritesPerSecond: peakPerSecond(sm),
      invocations,
      ticks,
    };
  } finally {
    sm.restore();
  }
}

/** The most writes the double accepted within any one second. */
function peakPerSecond(sm: MemorySecrets): number {
  const times = [...sm.writeTimes].sort((a, b) => a - b);
  let peak = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while ((times[start] ?? 0) <= (times[end] ?? 0) - 1000) start += 1;
    peak = Math.max(peak, end - start + 1);
  }
  return peak;
}

/** A Lambda client whose asynchronous invocations run in this process. */
function fakeLambda(invoke: (payload: unknown) => void): LambdaClient {
  return {
    send: async (command: unknown) => {
      if (!(command instanceof InvokeCommand)) throw new Error(`${BENCHMARK}: unexpected Lambda call`);
      invoke(JSON.parse(new TextDecoder().decode(command.input.Payload as Uint8Array)));
      return { StatusCode: 202 };
    },
  } as unknown as LambdaClient;
}
