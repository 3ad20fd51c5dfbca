/**
 * The rotator Lambda's handler: the scheduled sweep, targeted refreshes (provider, CLI,
 * on-demand readers), fan-out batches, and `issue` (a first token for the provider, not stored).
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { KeySigner } from '../core/issuers/types';
import { METRIC_NAMES, METRICS_NAMESPACE, PREFIX_DIMENSION, SERVICE_NAME } from '../core/metric-names';
import { type RotatorConfig, rotatorConfigFromEnv } from '../core/rotator-environment';
import {
  type Deferred,
  MAX_REQUESTED_CREDENTIALS,
  REQUEST_WRITES_PER_SECOND,
  type RefreshResult,
  refreshRequestSchema,
  rotatorEventSchema,
  type TargetedResult,
} from '../core/rotator-protocol';
import { ClientDocumentCache } from './client-cache';
import { type PublishOutcome, publishRefreshEvents, refreshEvents } from './events';
import { planSweep } from './plan';
import { RefreshMemory } from './refresh-memory';
import { refreshMany, type SweepDeps, type SweepSummary, summarize, sweep, sweepCounts } from './sweep';
import { createWriteLimiter } from './write-limiter';

export type { RotatorEvent, TargetedResult } from '../core/rotator-protocol';

/** The part of Lambda's context the rotator uses. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
  functionName?: string;
  invokedFunctionArn?: string;
  awsRequestId?: string;
}

/** Seams of the handler; every field defaults to the real thing. */
export interface HandlerDeps {
  secretsManager?: SecretsManagerClient;
  lambda?: LambdaClient;
  kms?: KMSClient;
  eventBridge?: EventBridgeClient;
  fetch?: typeof fetch;
  now?: () => Date;
  random?: () => number;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  metrics?: Metrics;
  /** The sleep of the write pacing (a simulated clock's in tests). */
  sleep?: (ms: number) => Promise<void>;
}

/** Which entry point a handler serves. */
export interface HandlerOptions {
  /**
   * `rotator` (default): every event (the schedule, fan-out batches, targeted refreshes).
   * `requests`: targeted refreshes of at most MAX_REQUESTED_CREDENTIALS names only, at
   * REQUEST_WRITES_PER_SECOND: the entry point workloads may invoke.
   */
  entry?: 'rotator' | 'requests';
}

/**
 * Builds the handler. Clients, logger and metrics are created once per container, on the first
 * invocation, so a cold start pays only for loading the bundle.
 *
 * @example
 * ```ts
 * export const handler = createHandler();
 * ```
 */
export function createHandler(deps: HandlerDeps = {}, options: HandlerOptions = {}) {
  const requestsOnly = options.entry === 'requests';
  let ready:
    | {
        config: RotatorConfig;
        secretsManager: SecretsManagerClient;
        lambda: LambdaClient | (() => Promise<LambdaClient>);
        keySigner: KeySigner;
        eventBridge: (() => Promise<EventBridgeClient>) | undefined;
        logger: Logger;
        metrics: Metrics;
        clientCache: ClientDocumentCache;
        memory: RefreshMemory;
      }
    | undefined;

  function setup() {
    if (ready) return ready;
    const config = rotatorConfigFromEnv(deps.env ?? process.env);
    const { SecretsManagerClient: SM } =
      require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
    const { Logger: PowertoolsLogger } =
      require('@aws-lambda-powertools/logger') as typeof import('@aws-lambda-powertools/logger');
    const { Metrics: PowertoolsMetrics } =
      require('@aws-lambda-powertools/metrics') as typeof import('@aws-lambda-powertools/metrics');
    ready = {
      config,
      secretsManager: deps.secretsManager ?? new SM({}),
      // The Lambda, KMS and EventBridge clients are created (and their SDKs imported, each a chunk
      // of the bundle of its own) on first use: an idle sweep uses none of them.
      lambda: deps.lambda ?? once(async () => new (await import('../core/lambda-sdk.js')).LambdaClient({})),
      keySigner: lazyKeySigner(deps.kms),
      eventBridge: config.eventBusName
        ? once(async () => deps.eventBridge ?? new (await import('./eventbridge-sdk.js')).EventBridgeClient({}))
        : undefined,
      logger: deps.logger ?? new PowertoolsLogger({ serviceName: SERVICE_NAME }),
      metrics: withPrefixDimension(
        deps.metrics ?? new PowertoolsMetrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME }),
        config.prefix,
      ),
      // Lives as long as the container: a warm sweep reads no client document that did not change.
      clientCache: new ClientDocumentCache(),
      // Lives as long as the container: its own writes and unrecorded failures, which a lagging
      // listing does not show yet.
      memory: new RefreshMemory(),
    };
    return ready;
  }

  return async function handler(
    event: unknown,
    context: InvocationContext,
  ): Promise<SweepSummaryView | TargetedResult> {
    const { config, secretsManager, lambda, keySigner, eventBridge, logger, metrics, clientCache, memory } = setup();
    const parsed = requestsOnly ? refreshRequestSchema.safeParse(event) : rotatorEventSchema.safeParse(event);
    if (!parsed.success) {
      logger.error('Unrecognised event', {
        issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      });
      throw new Error(
        requestsOnly
          ? `token-rotator: unrecognised request; expected {"credentials":[1 to ${MAX_REQUESTED_CREDENTIALS} names],"force":bool}`
          : 'token-rotator: unrecognised event; expected {"action":"sweep"}, {"credentials":[...],"force":bool} or {"action":"refresh-batch","credentials":[...]}',
      );
    }
    const e = parsed.data;
    const now = deps.now ?? (() => new Date());
    const sweepDeps: SweepDeps = {
      secretsManager,
      prefix: config.prefix,
      fetch: deps.fetch,
      keySigner,
      now,
      random: deps.random ?? Math.random,
      lookaheadSeconds: config.scheduleIntervalSeconds,
      concurrency: config.concurrency,
      batchSize: config.batchSize,
      remainingMs: () => context.getRemainingTimeInMillis(),
      reserveMs: config.reserveMs,
      lambda,
      functionName: context.invokedFunctionArn ?? context.functionName,
      clientCache,
      memory,
      writesPerSecond: config.writesPerSecond,
      sleep: deps.sleep,
      onBatchReadRefused: (refusal) =>
        logger.warn('Batch read of client documents refused', {
          ...refusal,
          detail:
            'each of these credentials reads its client secret alone (one GetSecretValue more per refresh); if the reason is AccessDeniedException, allow secretsmanager:BatchGetSecretValue to the rotator',
        }),
    };

    let summary: SweepSummary;
    if (e.action === 'sweep') {
      summary = await sweep(sweepDeps);
    } else {
      // A name listed twice would be refreshed twice at once: two writes, two generations.
      const names = [...new Set(e.credentials)];
      const perSecond = requestsOnly
        ? Math.min(config.writesPerSecond, REQUEST_WRITES_PER_SECOND)
        : ((e.action === 'refresh-batch' ? e.writesPerSecond : undefined) ?? config.writesPerSecond);
      const writeLimiter = createWriteLimiter({ perSecond, now, sleep: deps.sleep });
      // A batch or a targeted refresh names credentials, nothing more: each refresh describes its
      // token secret and decides on what it finds there.
      const results = await refreshMany(
        names,
        { ...sweepDeps, writeLimiter },
        e.action === 'refresh' ? { force: e.force } : {},
      );
      summary = summarize(names.length, planSweep([], now(), 0), results, 0, expiriesOf(results));
    }
    let events: PublishOutcome | undefined;
    if (eventBridge && config.eventBusName) {
      const outcomes = refreshEvents(summary.results, { prefix: config.prefix });
      // An idle sweep has no event to put: it never creates the EventBridge client.
      events =
        outcomes.length === 0
          ? { published: 0, failed: 0 }
          : await publishRefreshEvents(outcomes, {
              eventBridge: await eventBridge(),
              eventBusName: config.eventBusName,
              now,
            });
    }
    record(summary, logger, metrics, events);
    if (e.action === 'refresh') return { results: summary.results };
    return view(summary);
  };
}

function expiriesOf(results: (RefreshResult | Deferred)[]): number[] {
  return results.flatMap((r) =>
    'secondsToExpiry' in r && typeof r.secondsToExpiry === 'number' ? [r.secondsToExpiry] : [],
  );
}

/** A sweep's summary without per-credential messages, as the scheduled invocation returns it. */
export type SweepSummaryView = Omit<SweepSummary, 'results'> & { failures: { credential: string; code: string }[] };

function view(summary: SweepSummary): SweepSummaryView {
  const { results, ...rest } = summary;
  return {
    ...rest,
    failures: results.flatMap((r) => ('ok' in r && !r.ok ? [{ credential: r.credential, code: r.error.code }] : [])),
  };
}

/**
 * The container's one KMS signer (so one KMS client), its module imported by the first KMS-signed
 * credential: in the bundle, KMS signing and its client are chunks no other sweep loads.
 */
function lazyKeySigner(kms: KMSClient | undefined): KeySigner {
  const signer = once(async () => (await import('../core/kms-signer.js')).kmsKeySigner(kms));
  return {
    signRs256: async (keyId, message, credential) => (await signer()).signRs256(keyId, message, credential),
    signEs256: async (keyId, message, credential) => (await signer()).signEs256(keyId, message, credential),
    publicKeyPem: async (keyId, credential, alg) => (await signer()).publicKeyPem(keyId, credential, alg),
  };
}

/**
 * Every metric of this rotator carries its prefix as a dimension (a default one, so it outlives
 * each flush): the alarms of the TokenRotator on that prefix watch `{service, prefix}`, and a
 * second rotator in the account and region never trips them.
 */
function withPrefixDimension(metrics: Metrics, prefix: string): Metrics {
  metrics.setDefaultDimensions({ [PREFIX_DIMENSION]: prefix });
  return metrics;
}

/** `create`, run on the first call only; every later call gets the same promise. */
function once<T>(create: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= create();
    return made;
  };
}

function record(summary: SweepSummary, logger: Logger, metrics: Metrics, events?: PublishOutcome): void {
  const { MetricUnit } = require('@aws-lambda-powertools/metrics') as typeof import('@aws-lambda-powertools/metrics');
  let versionLimited = 0;
  let notRecorded = 0;
  for (const r of summary.results) {
    if ('deferred' in r) continue;
    if (r.ok) {
      if (!('skipped' in r)) {
        logger.info('Refreshed', { credential: r.credential, generation: r.generation, expiresAt: r.expiresAt });
        if (r.tagsFailed) {
          logger.warn('Tags not updated after a refresh', {
            credential: r.credential,
            reason: r.tagsFailed,
            detail: 'the token was stored; the tags left behind are ignored and repaired by the next write',
          });
        }
        if (r.writeBudgetBreached) {
          logger.warn('Write budget breached', {
            credential: r.credential,
            detail:
              "the issuer's tokens now live too short for one write per 10 minutes; the token was stored and its refresh moved as late as the margin allows",
          });
        }
      }
    } else {
      // Messages are composed by our own error classes and carry no secret.
      logger.warn('Refresh failed', {
        credential: r.credential,
        code: r.error.code,
        // Not `message`: Powertools reserves that key for the log line's own message and drops it.
        error: r.error.message,
        nextAttempt: r.nextAttempt,
      });
      if (r.error.code === 'VersionLimitExceeded') versionLimited += 1;
      if (r.notRecorded) {
        notRecorded += 1;
        logger.warn('Failure not recorded in tags', {
          credential: r.credential,
          reason: r.notRecorded,
          detail:
            'only this container remembers the back-off; allow the rotator secretsmanager:TagResource and UntagResource on its token secrets',
        });
      }
    }
  }
  metrics.addMetric(METRIC_NAMES.refreshSucceeded, MetricUnit.Count, summary.refreshed);
  metrics.addMetric(METRIC_NAMES.refreshFailed, MetricUnit.Count, summary.failed);
  // Rejected by this run, plus those it found still blocked by an earlier rejection (not sent to
  // the issuer, so not in `rejected`: not due, held at a look at their source, or that look left
  // to the next sweep): the alarm stays in ALARM until the client secret is fixed, instead of
  // turning OK one period after the rejection while the credential is still blocked.
  metrics.addMetric(METRIC_NAMES.credentialsRejected, MetricUnit.Count, summary.rejected + summary.blocked);
  metrics.addMetric(METRIC_NAMES.writeBudgetBreached, MetricUnit.Count, summary.writeBudgetBreached);
  metrics.addMetric(METRIC_NAMES.versionLimitExceeded, MetricUnit.Count, versionLimited);
  metrics.addMetric(METRIC_NAMES.failuresNotRecorded, MetricUnit.Count, notRecorded);
  if (summary.minSecondsToExpiry !== undefined) {
    metrics.addMetric(METRIC_NAMES.secondsToExpiry, MetricUnit.Seconds, summary.minSecondsToExpiry);
  }
  if (events) {
    metrics.addMetric(METRIC_NAMES.refreshEventsFailed, MetricUnit.Count, events.failed);
    if (events.failed > 0) logger.warn('Some refresh events were not delivered', { ...events });
  }
  metrics.publishStoredMetrics();
  // Fanning out is the Lambda's alone (the CLI sweeps in one process), so its count is this line's own.
  logger.info('Sweep finished', { ...sweepCounts(summary), fannedOut: summary.fannedOut });
}
