/**
 * The names the rotator's metrics are published under (lambda/handler.ts, through Powertools) and
 * its alarms watch (infra/alarms.ts): one definition for both sides of that contract.
 */

/** Metric namespace of the rotator's EMF metrics (Powertools). */
export const METRICS_NAMESPACE = 'TokenRotator';
/** Powertools service name; also the `service` dimension of every rotator metric. */
export const SERVICE_NAME = 'token-rotator';
/**
 * The dimension that tells rotators apart: every rotator metric carries its secret name prefix
 * (`TOKEN_ROTATOR_PREFIX`), which two rotators in one account and region never share, so each
 * rotator's alarms watch its own fleet. A prefix is at most 256 characters, within CloudWatch's
 * 1024 for a dimension value.
 */
export const PREFIX_DIMENSION = 'prefix';

/** The dimensions of every metric the rotator on `prefix` publishes (its alarms watch exactly these). */
export function rotatorMetricDimensions(prefix: string): Record<string, string> {
  return { service: SERVICE_NAME, [PREFIX_DIMENSION]: prefix };
}

/** The rotator's own metrics (namespace {@link METRICS_NAMESPACE}), by what they count. */
export const METRIC_NAMES = {
  refreshSucceeded: 'RefreshSucceeded',
  refreshFailed: 'RefreshFailed',
  /**
   * Rejected in this run, plus credentials it found still blocked by an earlier rejection: not
   * due, held at a look at their source, or that look left to the next sweep.
   */
  credentialsRejected: 'CredentialsRejected',
  /** The minimum over every listed credential. */
  secondsToExpiry: 'SecondsToExpiry',
  writeBudgetBreached: 'WriteBudgetBreached',
  /** Writes Secrets Manager refused for too many versions younger than 24 hours. */
  versionLimitExceeded: 'VersionLimitExceeded',
  /** Failed refreshes whose failure tags could not be written (only the container remembers the backoff). */
  failuresNotRecorded: 'FailuresNotRecorded',
  refreshEventsFailed: 'RefreshEventsFailed',
} as const;
