/** EventBridge Scheduler expressions the rotator accepts, and the interval each one implies. */

/** A recurring schedule and the longest gap between two of its ticks. */
export interface RotatorSchedule {
  expression: string;
  intervalSeconds: number;
}

const UNIT_SECONDS = { minute: 60, hour: 3600, day: 86_400 } as const;

/**
 * The interval of a `rate(...)` expression, or `undefined` for a `cron(...)` one (whose gaps are
 * not one number). Throws a message without field name for anything else; the caller adds it.
 */
export function intervalOfExpression(expression: string): number | undefined {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2] ?? '';
    if (value < 1) throw new Error(`expected a positive rate, got "${expression}"`);
    // Scheduler wants the singular unit for 1 and the plural otherwise.
    const singular = !unit.endsWith('s');
    if ((value === 1) !== singular) {
      throw new Error(`expected "${value} ${value === 1 ? unit.replace(/s$/, '') : `${unit}s`}" in "${expression}"`);
    }
    return value * UNIT_SECONDS[unit.replace(/s$/, '') as keyof typeof UNIT_SECONDS];
  }
  // cron(minutes hours day-of-month month day-of-week year): six fields.
  if (/^cron\(\S+( \S+){5}\)$/.test(expression)) return undefined;
  throw new Error(
    `expected "rate(N minute[s]|hour[s]|day[s])" or "cron(min hour dom month dow year)", got "${expression}" (one-time "at(...)" schedules cannot keep tokens fresh)`,
  );
}

/** The `rate(...)` expression of a whole number of minutes. */
export function expressionOfInterval(intervalSeconds: number): string {
  const minutes = intervalSeconds / 60;
  return minutes === 1 ? 'rate(1 minute)' : `rate(${minutes} minutes)`;
}
