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
