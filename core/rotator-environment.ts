/**
 * The rotator Lambda's environment, the contract between the TokenRotator component that writes
 * it and the Lambda that reads it: each variable's name, range and default is defined here once,
 * {@link rotatorEnvironment} writes it and {@link rotatorConfigFromEnv} reads it back.
 *
 * Part of the Lambda bundle: imports nothing from Pulumi (scripts/build-lambda.mjs refuses a
 * bundle that does).
 */

import { InvalidConfigurationError } from './errors';
import { DEFAULT_WRITES_PER_SECOND, MAX_WRITES_PER_SECOND } from './rotator-protocol';
import { SCHEDULE_INTERVAL_SECONDS } from './schedule-interval';
import { DEFAULT_PREFIX, isPrefix, PREFIX_RULE } from './token';
import * as z from './zod';

/** Settings of one rotator deployment, as the Lambda reads them from its environment. */
export interface RotatorConfig {
  /** The secret name prefix the rotator owns. */
  prefix: string;
  /** Refreshes one invocation runs in parallel. */
  concurrency: number;
  /** Credentials one invocation refreshes before it fans out. */
  batchSize: number;
  /** Seconds between two scheduled sweeps; a sweep refreshes what falls due before the next. */
  scheduleIntervalSeconds: number;
  /** Stop starting new refreshes when less than this remains of the invocation. */
  reserveMs: number;
  /** The EventBridge bus (name or ARN) refresh outcomes go to, when set. */
  eventBusName?: string | undefined;
  /**
   * Secrets Manager writes per second the rotator allows itself, shared by a sweep and its
   * fan-out: below the account's ~50/s quota (PutSecretValue, TagResource, UntagResource
   * together), leaving room for the provider and other writers.
   */
  writesPerSecond: number;
}

/** The variable that carries each setting. */
export const ROTATOR_ENV = {
  prefix: 'TOKEN_ROTATOR_PREFIX',
  concurrency: 'TOKEN_ROTATOR_CONCURRENCY',
  batchSize: 'TOKEN_ROTATOR_BATCH_SIZE',
  scheduleIntervalSeconds: 'TOKEN_ROTATOR_SCHEDULE_SECONDS',
  reserveMs: 'TOKEN_ROTATOR_RESERVE_MS',
  eventBusName: 'TOKEN_ROTATOR_EVENT_BUS',
  writesPerSecond: 'TOKEN_ROTATOR_WRITES_PER_SECOND',
} as const satisfies Record<keyof RotatorConfig, string>;

/** An integer setting's range and default. */
export interface IntegerRange {
  min: number;
  max: number;
  default: number;
}

/** Refreshes in parallel per invocation: enough to hide issuer latency, few enough for 256 MiB. */
export const CONCURRENCY: IntegerRange = { min: 1, max: 64, default: 8 };
/** Credentials per invocation before fanning out; a fan-out batch holds at most 10,000 names. */
export const BATCH_SIZE: IntegerRange = { min: 1, max: 10_000, default: 100 };
export { SCHEDULE_INTERVAL_SECONDS };
/** What an invocation keeps back to record its outcomes before Lambda stops it. */
export const DEFAULT_RESERVE_MS = 15_000;

/**
 * What the rotator accepts as its event bus: a name or an ARN, or empty for none. The TokenRotator
 * component checks `eventBusName` against the same rule, so a value the Lambda would refuse on
 * every invocation is refused at `pulumi up` instead.
 */
export const EVENT_BUS_PATTERN = /^$|^[A-Za-z0-9._\-/:]+$/;
/** The longest event bus the rotator accepts (an event bus ARN fits). */
export const EVENT_BUS_MAX_LENGTH = 1600;

/** Whether `value` is an event bus the rotator accepts ({@link EVENT_BUS_PATTERN}, {@link EVENT_BUS_MAX_LENGTH}). */
export function isEventBus(value: string): boolean {
  return value.length <= EVENT_BUS_MAX_LENGTH && EVENT_BUS_PATTERN.test(value);
}

const integer = (range: IntegerRange) =>
  z._default(z.coerce.number().check(z.int(), z.minimum(range.min), z.maximum(range.max)), range.default);

const envSchema = z.lazy(() =>
  z.object({
    [ROTATOR_ENV.prefix]: z._default(
      z.string().check(z.refine(isPrefix, { error: `expected ${PREFIX_RULE}` })),
      DEFAULT_PREFIX,
    ),
    [ROTATOR_ENV.concurrency]: integer(CONCURRENCY),
    [ROTATOR_ENV.batchSize]: integer(BATCH_SIZE),
    [ROTATOR_ENV.scheduleIntervalSeconds]: integer(SCHEDULE_INTERVAL_SECONDS),
    [ROTATOR_ENV.reserveMs]: z._default(z.coerce.number().check(z.int(), z.minimum(0)), DEFAULT_RESERVE_MS),
    [ROTATOR_ENV.eventBusName]: z.optional(
      z
        .string()
        .check(
          z.maxLength(EVENT_BUS_MAX_LENGTH),
          z.regex(EVENT_BUS_PATTERN, { error: 'expected an event bus name or ARN' }),
        ),
    ),
    [ROTATOR_ENV.writesPerSecond]: z._default(
      z.coerce.number().check(z.positive(), z.maximum(MAX_WRITES_PER_SECOND)),
      DEFAULT_WRITES_PER_SECOND,
    ),
  }),
);

/** Reads and validates the rotator's environment; a bad value names its variable. */
export function rotatorConfigFromEnv(env: NodeJS.ProcessEnv = process.env): RotatorConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new InvalidConfigurationError(`Invalid rotator environment:\n  - ${lines.join('\n  - ')}`, {
      field: lines[0]?.split(':')[0],
    });
  }
  const e = parsed.data;
  return {
    prefix: e[ROTATOR_ENV.prefix],
    concurrency: e[ROTATOR_ENV.concurrency],
    batchSize: e[ROTATOR_ENV.batchSize],
    scheduleIntervalSeconds: e[ROTATOR_ENV.scheduleIntervalSeconds],
    reserveMs: e[ROTATOR_ENV.reserveMs],
    eventBusName: e[ROTATOR_ENV.eventBusName] || undefined,
    writesPerSecond: e[ROTATOR_ENV.writesPerSecond],
  };
}

/**
 * The variables that carry `config`, for the component to set on the function; a field left out
 * is left to its default. `Later` is a value known only at deploy time (a Pulumi output), which
 * the event bus may be.
 *
 * @example
 * ```ts
 * rotatorEnvironment({ prefix: 'team-a/', concurrency: 8 });
 * // { TOKEN_ROTATOR_PREFIX: 'team-a/', TOKEN_ROTATOR_CONCURRENCY: '8' }
 * ```
 */
export function rotatorEnvironment<Later = never>(
  config: Partial<Omit<RotatorConfig, 'eventBusName'>> & { eventBusName?: string | Later | undefined },
): Record<string, string | Later> {
  const variables: Record<string, string | Later> = {};
  for (const key of Object.keys(ROTATOR_ENV) as (keyof RotatorConfig)[]) {
    const value = config[key];
    if (value === undefined) continue;
    variables[ROTATOR_ENV[key]] = typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
  }
  return variables;
}
