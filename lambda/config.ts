/** The rotator's settings, read once from its environment (set by the TokenRotator component). */
// A namespace import: esbuild then bundles only the parts of zod in use (not its 40 locales).
import * as z from 'zod';
import { InvalidConfigurationError } from '../core/errors';
import { PREFIX_PATTERN } from '../core/store';

const envSchema = z.lazy(() =>
  z.object({
    TOKEN_ROTATOR_PREFIX: z.string().regex(PREFIX_PATTERN).default('token-rotator/'),
    TOKEN_ROTATOR_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
    TOKEN_ROTATOR_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(100),
    TOKEN_ROTATOR_SCHEDULE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
    /** Stop starting new refreshes when less than this remains of the invocation. */
    TOKEN_ROTATOR_RESERVE_MS: z.coerce.number().int().min(0).default(15_000),
    /** Lets an `issue` event name an http:// issuer (tests and private networks only). */
    TOKEN_ROTATOR_ALLOW_INSECURE_ISSUE: z.enum(['true', 'false']).default('false'),
    /** EventBridge bus (name or ARN) for refresh outcomes; unset or empty: no events. */
    TOKEN_ROTATOR_EVENT_BUS: z
      .string()
      .max(1600)
      .regex(/^$|^[A-Za-z0-9._\-/:]+$/, { error: 'expected an event bus name or ARN' })
      .optional(),
    /**
     * Secrets Manager writes per second the rotator allows itself, shared by a sweep and its
     * fan-out: below the account's ~50/s quota (PutSecretValue, TagResource, UntagResource
     * together), leaving room for the provider and other writers.
     */
    TOKEN_ROTATOR_WRITES_PER_SECOND: z.coerce.number().positive().max(50).default(40),
  }),
);

/** Settings of one rotator deployment. */
export interface RotatorConfig {
  prefix: string;
  concurrency: number;
  batchSize: number;
  scheduleIntervalSeconds: number;
  reserveMs: number;
  /** Whether an `issue` event may name an `allowInsecureHttp` issuer. */
  allowInsecureIssue: boolean;
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
    allowInsecureIssue: e.TOKEN_ROTATOR_ALLOW_INSECURE_ISSUE === 'true',
    eventBusName: e.TOKEN_ROTATOR_EVENT_BUS || undefined,
    writesPerSecond: e.TOKEN_ROTATOR_WRITES_PER_SECOND,
  };
}
