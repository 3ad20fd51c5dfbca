/** The rotator's settings, read once from its environment (set by the TokenRotator component). */
// A namespace import: esbuild then bundles only the parts of zod in use (not its 40 locales).
import * as z from 'zod';
import { InvalidConfigurationError } from '../core/errors';
import { PREFIX_PATTERN } from '../core/store';

const envSchema = z.object({
  TOKEN_ROTATOR_PREFIX: z.string().regex(PREFIX_PATTERN).default('token-rotator/'),
  TOKEN_ROTATOR_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  TOKEN_ROTATOR_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(100),
  TOKEN_ROTATOR_SCHEDULE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  /** Stop starting new refreshes when less than this remains of the invocation. */
  TOKEN_ROTATOR_RESERVE_MS: z.coerce.number().int().min(0).default(15_000),
  /**
   * Secrets Manager writes per second the rotator allows itself, shared by a sweep and its
   * fan-out: below the account's ~50/s quota (PutSecretValue, TagResource, UntagResource
   * together), leaving room for the provider and other writers.
   */
  TOKEN_ROTATOR_WRITES_PER_SECOND: z.coerce.number().positive().max(50).default(40),
});

/** Settings of one rotator deployment. */
export interface RotatorConfig {
  prefix: string;
  concurrency: number;
  batchSize: number;
  scheduleIntervalSeconds: number;
  reserveMs: number;
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
    writesPerSecond: e.TOKEN_ROTATOR_WRITES_PER_SECOND,
  };
}
