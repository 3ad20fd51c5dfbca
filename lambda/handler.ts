/**
 * The rotator Lambda's handler: the scheduled sweep, targeted refreshes (provider, CLI,
 * on-demand readers), fan-out batches, and `issue` (a first token for the provider, not stored).
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
// A namespace import: esbuild then bundles only the parts of zod in use (not its 40 locales).
import * as z from 'zod';
import { isTokenRotatorError } from '../core/errors';
import { CREDENTIAL_NAME_PATTERN } from '../core/store';
import type { IssueResult } from '../provider/lambda-issue';
import { ClientDocumentCache } from './client-cache';
import { type RotatorConfig, rotatorConfigFromEnv } from './config';
import { planSweep } from './plan';
import type { RefreshResult } from './refresh';
import { type Deferred, refreshMany, type SweepDeps, type SweepSummary, summarize, sweep } from './sweep';
import { createWriteLimiter } from './write-limiter';

const credentialName = z.string().min(1).max(64).regex(CREDENTIAL_NAME_PATTERN);

const eventSchema = z.union([
  z.object({ action: z.literal('sweep') }),
  // EventBridge's own scheduled-event shape, for rules that send no custom input.
  z.object({ 'detail-type': z.literal('Scheduled Event') }).transform(() => ({ action: 'sweep' as const })),
  z.strictObject({
    action: z.literal('refresh-batch'),
    credentials: z.array(credentialName).min(1).max(10_000),
    /** This batch's share of the sweep's write rate. */
    writesPerSecond: z.number().positive().max(50).optional(),
  }),
  z.strictObject({ action: z.literal('issue'), credential: credentialName, issuer: z.unknown() }),
  z
    .strictObject({ credentials: z.array(credentialName).min(1).max(1000), force: z.boolean().optional() })
    .transform((e) => ({ action: 'refresh' as const, credentials: e.credentials, force: e.force ?? false })),
]);

/** An event the rotator understands. */
export type RotatorEvent = z.input<typeof eventSchema>;

/** The answer to a targeted refresh. */
export interface TargetedResult {
  results: (RefreshResult | Deferred)[];
}

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
  fetch?: typeof fetch;
  now?: () => Date;
  random?: () => number;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  metrics?: Metrics;
  /** The sleep of the write pacing (a simulated clock's in tests). */
  sleep?: (ms: number) => Promise<void>;
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
export function createHandler(deps: HandlerDeps = {}) {
  let ready:
    | {
        config: RotatorConfig;
        secretsManager: SecretsManagerClient;
        lambda: LambdaClient;
        logger: Logger;
        metrics: Metrics;
        clientCache: ClientDocumentCache;
      }
    | undefined;

  function setup() {
    if (ready) return ready;
    const config = rotatorConfigFromEnv(deps.env ?? process.env);
    const { SecretsManagerClient: SM } =
      require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
    const { LambdaClient: L } = require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
    const { Logger: PowertoolsLogger } =
      require('@aws-lambda-powertools/logger') as typeof import('@aws-lambda-powertools/logger');
    const { Metrics: PowertoolsMetrics } =
      require('@aws-lambda-powertools/metrics') as typeof import('@aws-lambda-powertools/metrics');
    ready = {
      config,
      secretsManager: deps.secretsManager ?? new SM({}),
      lambda: deps.lambda ?? new L({}),
      logger: deps.logger ?? new PowertoolsLogger({ serviceName: 'token-rotator' }),
      metrics: deps.metrics ?? new PowertoolsMetrics({ namespace: 'TokenRotator', serviceName: 'token-rotator' }),
      // Lives as long as the container: a warm sweep reads no client document that did not change.
      clientCache: new ClientDocumentCache(),
    };
    return ready;
  }

  return async function handler(
    event: unknown,
    context: InvocationContext,
  ): Promise<SweepSummaryView | TargetedResult | IssueResult> {
    const { config, secretsManager, lambda, logger, metrics, clientCache } = setup();
    const parsed = eventSchema.safeParse(event);
    if (!parsed.success) {
      logger.error('Unrecognised event', {
        issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      });
      throw new Error(
        'token-rotator: unrecognised event; expected {"action":"sweep"}, {"credentials":[...],"force":bool}, {"action":"refresh-batch","credentials":[...]} or {"action":"issue",...}',
      );
    }
    const e = parsed.data;
    const now = deps.now ?? (() => new Date());
    const sweepDeps: SweepDeps = {
      secretsManager,
      prefix: config.prefix,
      fetch: deps.fetch,
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
      writesPerSecond: config.writesPerSecond,
      sleep: deps.sleep,
    };

    if (e.action === 'issue') {
      try {
        // Loaded when needed: an idle sweep never needs the issuers.
        const { obtainToken } = await import('../core/issuers/index.js');
        const token = await obtainToken(e.issuer, { credential: e.credential, fetch: deps.fetch, now });
        logger.info('Issued a first token', { credential: e.credential, expiresAt: token.expiresAt.toISOString() });
        return {
          ok: true,
          token: {
            accessToken: token.accessToken,
            tokenType: token.tokenType,
            ...(token.scope ? { scope: token.scope } : {}),
            issuedAt: token.issuedAt.toISOString(),
            expiresAt: token.expiresAt.toISOString(),
          },
        };
      } catch (err) {
        if (!isTokenRotatorError(err)) throw err;
        logger.warn('Could not issue a first token', { credential: e.credential, code: err.code });
        return {
          ok: false,
          error: { code: err.code, message: err.message, retryAfterSeconds: err.retryAfterSeconds, status: err.status },
        };
      }
    }

    let summary: SweepSummary;
    if (e.action === 'sweep') {
      summary = await sweep(sweepDeps);
    } else {
      // A name listed twice would be refreshed twice at once: two writes, two generations.
      const names = [...new Set(e.credentials)];
      const perSecond = (e.action === 'refresh-batch' ? e.writesPerSecond : undefined) ?? config.writesPerSecond;
      const writeLimiter = createWriteLimiter({ perSecond, now, sleep: deps.sleep });
      const results = await refreshMany(
        names,
        { ...sweepDeps, writeLimiter },
        { force: e.action === 'refresh' ? e.force : false },
      );
      summary = summarize(names.length, planSweep([], now(), 0), results, 0, expiriesOf(results));
    }
    record(summary, logger, metrics);
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

function record(summary: SweepSummary, logger: Logger, metrics: Metrics): void {
  const { MetricUnit } = require('@aws-lambda-powertools/metrics') as typeof import('@aws-lambda-powertools/metrics');
  for (const r of summary.results) {
    if ('deferred' in r) continue;
    if (r.ok) {
      if (!('skipped' in r))
        logger.info('Refreshed', { credential: r.credential, generation: r.generation, expiresAt: r.expiresAt });
    } else {
      // Messages are composed by our own error classes and carry no secret.
      logger.warn('Refresh failed', {
        credential: r.credential,
        code: r.error.code,
        message: r.error.message,
        nextAttempt: r.nextAttempt,
      });
    }
  }
  metrics.addMetric('RefreshSucceeded', MetricUnit.Count, summary.refreshed);
  metrics.addMetric('RefreshFailed', MetricUnit.Count, summary.failed);
  metrics.addMetric('CredentialsRejected', MetricUnit.Count, summary.rejected);
  if (summary.minSecondsToExpiry !== undefined) {
    metrics.addMetric('SecondsToExpiry', MetricUnit.Seconds, summary.minSecondsToExpiry);
  }
  metrics.publishStoredMetrics();
  logger.info('Sweep finished', {
    listed: summary.listed,
    due: summary.due,
    refreshed: summary.refreshed,
    failed: summary.failed,
    rejected: summary.rejected,
    skipped: summary.skipped,
    deferred: summary.deferred,
    fannedOut: summary.fannedOut,
    minSecondsToExpiry: summary.minSecondsToExpiry,
  });
}
