/**
 * The rotator's CloudWatch alarms as plain data: what each watches, when it fires, and why its
 * missing-data rule is what it is.
 */

import { METRIC_NAMES, METRICS_NAMESPACE, rotatorMetricDimensions } from '../core/metric-names';
import type { RotatorSettings } from './settings';

export { METRICS_NAMESPACE, PREFIX_DIMENSION, rotatorMetricDimensions, SERVICE_NAME } from '../core/metric-names';

/** Keys of the alarms a TokenRotator creates. */
export type AlarmKey =
  | 'refreshFailed'
  | 'credentialsRejected'
  | 'secondsToExpiry'
  | 'writeBudgetBreached'
  | 'versionLimitExceeded'
  | 'failuresNotRecorded'
  | 'lambdaErrors'
  | 'notInvoked'
  /** Only with an event bus (`eventBusName`): the rotator emits this metric only then. */
  | 'refreshEventsFailed';

/** The alarms a TokenRotator declares only with an event bus. */
export type EventAlarmKey = 'refreshEventsFailed';

/** One alarm, ready to become an `aws.cloudwatch.MetricAlarm`. */
export interface AlarmSpec {
  key: AlarmKey;
  /** Suffix of the Pulumi resource name. */
  resourceSuffix: string;
  description: string;
  namespace: string;
  metricName: string;
  /** `undefined` means the function's own `FunctionName` dimension (known only at deploy time). */
  dimensions: Record<string, string> | undefined;
  statistic: 'Sum' | 'Minimum';
  period: number;
  evaluationPeriods: number;
  threshold: number;
  comparisonOperator: 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold';
  treatMissingData: 'notBreaching' | 'breaching';
}

/** The period of the rotator's own metrics: one sweep per interval, in whole minutes, at most a day. */
export function metricPeriodSeconds(intervalSeconds: number): number {
  return Math.min(86_400, Math.max(60, Math.ceil(intervalSeconds / 60) * 60));
}

/**
 * The `notInvoked` window, max(5 minutes, two schedule intervals): one period of that length
 * while it fits in a day (CloudWatch's longest period), else two periods of one interval each. The
 * alarm then fires only when both are empty (every evaluation period must breach), and a period of
 * an hour or more may span up to 7 days in total, which two days is within.
 */
export function notInvokedWindow(period: number): { period: number; evaluationPeriods: number } {
  const window = Math.max(300, 2 * period);
  return window <= 86_400 ? { period: window, evaluationPeriods: 1 } : { period, evaluationPeriods: 2 };
}

/**
 * An alarm that fires when its metric counts at least one event in a period (missing data: none
 * happened). Most of the rotator's alarms are this shape.
 */
function anyInPeriod(
  spec: Pick<
    AlarmSpec,
    'key' | 'resourceSuffix' | 'description' | 'namespace' | 'metricName' | 'dimensions' | 'period'
  >,
): AlarmSpec {
  return {
    ...spec,
    statistic: 'Sum',
    evaluationPeriods: 1,
    threshold: 1,
    comparisonOperator: 'GreaterThanOrEqualToThreshold',
    treatMissingData: 'notBreaching',
  };
}

/**
 * The eight alarms, and `refreshEventsFailed` when `options.refreshEvents` (the rotator puts refresh
 * events on a bus). Missing data is "not breaching" for the rotator's own metrics: they are only
 * emitted when a sweep ran (and SecondsToExpiry only when a credential exists, so a fresh stack
 * would otherwise alarm forever). A rotator that stopped running is caught by `notInvoked`, where
 * missing data IS breaching, and a crashing one by `lambdaErrors`.
 */
export function alarmSpecs(
  settings: Pick<RotatorSettings, 'prefix' | 'scheduleIntervalSeconds' | 'secondsToExpiryThreshold'>,
  options: { refreshEvents?: boolean } = {},
) {
  const period = metricPeriodSeconds(settings.scheduleIntervalSeconds);
  const fiveMinutes = Math.max(300, period);
  const own = rotatorMetricDimensions(settings.prefix);
  // On-call reads which fleet it is from the description: the prefix, quoted.
  const of = `token-rotator ${JSON.stringify(settings.prefix)}`;
  const specs: AlarmSpec[] = [
    anyInPeriod({
      key: 'refreshFailed',
      resourceSuffix: 'refresh-failed',
      description: `${of}: a token refresh failed (issuer unavailable, malformed response or store error). See the function logs; the old token stays readable until it expires.`,
      namespace: METRICS_NAMESPACE,
      metricName: METRIC_NAMES.refreshFailed,
      dimensions: own,
      period: fiveMinutes,
    }),
    anyInPeriod({
      key: 'credentialsRejected',
      resourceSuffix: 'credentials-rejected',
      description: `${of}: an issuer refused a credential (401/403 or invalid_client: InvalidCredentials; a redirect, 400 or other 4xx: InvalidConfiguration). Retrying stops until its client secret is updated, and the alarm stays on while any credential is so blocked.`,
      namespace: METRICS_NAMESPACE,
      metricName: METRIC_NAMES.credentialsRejected,
      dimensions: own,
      period,
    }),
    {
      key: 'secondsToExpiry',
      resourceSuffix: 'seconds-to-expiry',
      description: `${of}: a stored token expires in less than ${settings.secondsToExpiryThreshold} s and has not been refreshed. Workloads will soon read an expired token.`,
      namespace: METRICS_NAMESPACE,
      metricName: METRIC_NAMES.secondsToExpiry,
      dimensions: own,
      statistic: 'Minimum',
      period,
      evaluationPeriods: 1,
      threshold: settings.secondsToExpiryThreshold,
      comparisonOperator: 'LessThanThreshold',
      treatMissingData: 'notBreaching',
    },
    anyInPeriod({
      key: 'writeBudgetBreached',
      resourceSuffix: 'write-budget-breached',
      description: `${of}: an issuer's tokens now live too short for one secret write per 10 minutes. The valid token was stored and refreshes moved as late as the margin allows; check the credential's token-rotator:write-budget tag, then raise refreshFraction or set allowFrequentWrites.`,
      namespace: METRICS_NAMESPACE,
      metricName: METRIC_NAMES.writeBudgetBreached,
      dimensions: own,
      period,
    }),
    anyInPeriod({
      key: 'versionLimitExceeded',
      resourceSuffix: 'version-limit-exceeded',
      description: `${of}: Secrets Manager refused a token write because the secret has too many versions younger than 24 hours (LimitExceededException). The old token stays readable; writes resume as versions age and the rotator retries hourly. Look for what writes the secret so often: forced refreshes, or a policy with allowFrequentWrites.`,
      namespace: METRICS_NAMESPACE,
      metricName: METRIC_NAMES.versionLimitExceeded,
      dimensions: own,
      period,
    }),
    anyInPeriod({
      key: 'failuresNotRecorded',
      resourceSuffix: 'failures-not-recorded',
      description: `${of}: a failed refresh could not record its failure in the token secret's tags (TagResource denied or throttled), so only the container that failed remembers its backoff and the issuer may be asked more often. Check the rotator role's secretsmanager:TagResource and any resource policy or SCP on the token secrets.`,
      namespace: METRICS_NAMESPACE,
      metricName: METRIC_NAMES.failuresNotRecorded,
      dimensions: own,
      period,
    }),
    anyInPeriod({
      key: 'lambdaErrors',
      resourceSuffix: 'lambda-errors',
      description: `${of}: the rotator function failed (unhandled error, timeout or out of memory).`,
      namespace: 'AWS/Lambda',
      metricName: 'Errors',
      dimensions: undefined,
      period: fiveMinutes,
    }),
    {
      key: 'notInvoked',
      resourceSuffix: 'not-invoked',
      description: `${of}: the rotator has not run for two schedule intervals (schedule disabled or deleted, throttling).`,
      namespace: 'AWS/Lambda',
      metricName: 'Invocations',
      dimensions: undefined,
      statistic: 'Sum',
      ...notInvokedWindow(period),
      threshold: 1,
      comparisonOperator: 'LessThanThreshold',
      treatMissingData: 'breaching',
    },
  ];
  if (options.refreshEvents) {
    specs.push(
      anyInPeriod({
        key: 'refreshEventsFailed',
        resourceSuffix: 'refresh-events-failed',
        description: `${of}: refresh outcome events were not delivered to the event bus (PutEvents failed or refused entries); their consumers missed them. Refreshes are not affected. See the 'Some refresh events were not delivered' log line; check that the bus exists and the role may events:PutEvents on it.`,
        namespace: METRICS_NAMESPACE,
        metricName: METRIC_NAMES.refreshEventsFailed,
        dimensions: own,
        period,
      }),
    );
  }
  return specs;
}
