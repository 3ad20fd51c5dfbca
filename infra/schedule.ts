/** The EventBridge Scheduler expression of the rotator's schedule. */

/** The `rate(...)` expression of a whole number of minutes (Scheduler wants `1 minute`, else `N minutes`). */
export function expressionOfInterval(intervalSeconds: number): string {
  const minutes = intervalSeconds / 60;
  return minutes === 1 ? 'rate(1 minute)' : `rate(${minutes} minutes)`;
}
