/**
 * The rotator as the demo runs it: the built Lambda bundle (`dist/lambda-bundle/index.mjs` and
 * its chunks, what `TokenRotator` deploys), imported into this process and invoked with `{"action":"sweep"}` once per
 * simulated minute, as EventBridge Scheduler would. Its clock, AWS clients, logger and metrics are
 * the handler's own seams.
 */
import { pathToFileURL } from 'node:url';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { rotatorEnvironment } from '../core/rotator-environment';
import { SCHEDULE_INTERVAL_SECONDS } from '../core/schedule-interval';
import type * as lambdaModule from '../lambda/index';
import type { SweepSummaryView } from '../lambda/index';

/** One sweep's result, as the scheduled invocation returns it. */
export type SweepResult = SweepSummaryView;

/** A loaded rotator: one call is one scheduled invocation. */
export interface DemoRotator {
  sweep(): Promise<SweepResult>;
}

/**
 * What the rotator runs with. Its AWS clients are its own, built from the standard AWS environment
 * (`AWS_ENDPOINT_URL`, `AWS_REGION`, credentials) as in Lambda: the bundle carries its own copy of
 * the SDK, whose paginators refuse a client built by another copy.
 */
export interface DemoRotatorOptions {
  prefix: string;
  now: () => Date;
}

/** How long each invocation pretends to have left (the Lambda's timeout is 120 s). */
const INVOCATION_BUDGET_MS = 120_000;

/**
 * Imports the bundle's entry at `bundlePath` (an ES module, as the Lambda runtime imports it) and
 * builds its handler with the demo's seams.
 *
 * @throws when the file does not export `createHandler` (an old or foreign build: rebuild it).
 */
export async function loadRotatorBundle(bundlePath: string, options: DemoRotatorOptions): Promise<DemoRotator> {
  const loaded = (await import(pathToFileURL(bundlePath).href)) as Partial<typeof lambdaModule>;
  if (typeof loaded.createHandler !== 'function') {
    throw new Error(`${bundlePath} does not export createHandler; rebuild it with "npm run build:lambda".`);
  }
  const handler = loaded.createHandler({
    now: options.now,
    env: rotatorEnvironment({ prefix: options.prefix, scheduleIntervalSeconds: SCHEDULE_INTERVAL_SECONDS.default }),
    // The Lambda logs JSON lines and EMF metrics to stdout; here they would tear the live table.
    logger: silentLogger as unknown as Logger,
    metrics: silentMetrics as unknown as Metrics,
  });
  const deadline = () => INVOCATION_BUDGET_MS;
  return {
    async sweep() {
      const result = await handler(
        { action: 'sweep' },
        { getRemainingTimeInMillis: deadline, functionName: 'token-rotator-demo' },
      );
      return result as SweepResult;
    },
  };
}

// The parts of Powertools' Logger and Metrics the handler calls.
const silentLogger = { info() {}, warn() {}, error() {}, debug() {} };
const silentMetrics = { addMetric() {}, publishStoredMetrics() {}, setDefaultDimensions() {} };
