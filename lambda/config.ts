/** The rotator's settings, read once from its environment (set by the TokenRotator component). */

import { InvalidConfigurationError } from '../core/errors';
import { DEFAULT_WRITES_PER_SECOND, MAX_WRITES_PER_SECOND } from '../core/rotator-protocol';
import { PREFIX_PATTERN } from '../core/store';
import * as z from '../core/zod';

/**
 * What the rotator accepts as its event bus (`TOKEN_ROTATOR_EVENT_BUS`): a name or an ARN, or empty
 * for none. The TokenRotator component checks `eventBusName` against the same two, so a value the
 * Lambda would refuse on every invocation is refused at `pulumi up` instead.
 */
export const EVENT_BUS_PATTERN = /^$|^[A-Za-z0-9._\-/:]+$/;
/** The longest `TOKEN_ROTATOR_EVENT_BUS` the rotator accepts (an event bus ARN fits). */
export const EVENT_BUS_MAX_LENGTH = 1600;

const envSchema = z.lazy(() =>
  z.object({
    TOKEN_ROTATOR_PREFIX: z._default(z.string().check(z.regex(PREFIX_PATTERN)), 'token-rotator/'),
    TOKEN_ROTATOR_CONCURRENCY: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(64)), 8),
    TOKEN_ROTATOR_BATCH_SIZE: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(10_000)), 100),
    TOKEN_ROTATOR_SCHEDULE_SECONDS: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(86_400)), 60),
    /** Stop starting new refreshes when less than this remains of the invocation. */
    TOKEN_ROTATOR_RESERVE_MS: z._default(z.coerce.number().check(z.int(), z.minimum(0)), 15_000),
    /** Lets an `issue` event name an http:// issuer (tests and private networks only). */
    /** EventBridge bus (name or ARN) for refresh outcomes; unset or empty: no events. */
    TOKEN_ROTATOR_EVENT_BUS: z.optional(
      z
        .string()
        .check(
          z.maxLength(EVENT_BUS_MAX_LENGTH),
          z.regex(EVENT_BUS_PATTERN, { error: 'expected an event bus name or ARN' }),
        ),
    ),
    /**
     * Secrets Manager writes per second the rotator allows itself, shared by a sweep and its
     * fan-out: below the account's ~50/s quota (PutSecretValue, TagResource, UntagResource
     * together), leaving room for the provider and other writers.
     */
    TOKEN_ROTATOR_WRITES_PER_SECOND: z._default(
      z.coerce.number().check(z.positive(), z.maximum(MAX_WRITES_PER_SECOND)),
      DEFAULT_WRITES_PER_SECOND,
    ),
  }),
);

/** Settings of one rotator deployment. */
export interface RotatorConfig {
  prefix: string;
  concurrency: number;
  batchSize: number;
  scheduleIntervalSeconds: number;
  reserveMs: number;
  /** Where refresh outcomes go as events, when set. */
  eventBusName?: string | undefined;
  writesPerSecond: number;
}

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
    prefix: e.TOKEN_ROTATOR_PREFIX,
    concurrency: e.TOKEN_ROTATOR_CONCURRENCY,
    batchSize: e.TOKEN_ROTATOR_BATCH_SIZE,
    scheduleIntervalSeconds: e.TOKEN_ROTATOR_SCHEDULE_SECONDS,
    reserveMs: e.TOKEN_ROTATOR_RESERVE_MS,
    eventBusName: e.TOKEN_ROTATOR_EVENT_BUS || undefined,
    writesPerSecond: e.TOKEN_ROTATOR_WRITES_PER_SECOND,
  };
}
