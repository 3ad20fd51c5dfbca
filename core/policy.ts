/**
 * The refresh policy: when a token is due, how failures back off, and the Secrets Manager write
 * budget. Pure arithmetic: time and randomness are parameters.
 */

import { InvalidConfigurationError } from './errors';
import { SCHEDULE_INTERVAL_SECONDS } from './schedule-interval';
import { addSecondsClamped, MAX_RETRY_AFTER_SECONDS } from './untrusted-time';
import * as z from './zod';

/** Secrets Manager's sustained budget: one PutSecretValue per secret every 10 minutes. */
export const MIN_WRITE_INTERVAL_SECONDS = 600;

/** Defaults of {@link RefreshPolicy}. */
export const POLICY_DEFAULTS = {
  refreshFraction: 0.75,
  jitterFraction: 0.05,
  scheduleIntervalSeconds: SCHEDULE_INTERVAL_SECONDS.default,
  allowFrequentWrites: false,
} as const;

/** Schema of the `policy` input (every field optional). */
export const refreshPolicySchema = z.lazy(() =>
  z.strictObject({
    /** Refresh once this fraction of the lifetime has passed. */
    refreshFraction: z.optional(
      z
        .number({ error: 'expected refreshFraction as a number between 0 and 1' })
        .check(
          z.gt(0, { error: 'expected refreshFraction greater than 0' }),
          z.lt(1, { error: 'expected refreshFraction below 1 (a token must be refreshed before it expires)' }),
        ),
    ),
    /** Up to this fraction of the lifetime is taken off `refreshAfter`, at random, to spread load. */
    jitterFraction: z.optional(
      z
        .number({ error: 'expected jitterFraction as a number' })
        .check(
          z.minimum(0, { error: 'expected jitterFraction of at least 0' }),
          z.maximum(0.25, { error: 'expected jitterFraction of at most 0.25' }),
        ),
    ),
    /** How often the rotator wakes; sets the default minimum margin (two intervals). */
    scheduleIntervalSeconds: z.optional(
      z.number({ error: 'expected scheduleIntervalSeconds as a number' }).check(
        z.int({ error: 'expected scheduleIntervalSeconds as a whole number' }),
        z.minimum(SCHEDULE_INTERVAL_SECONDS.min, {
          error: `expected scheduleIntervalSeconds of at least ${SCHEDULE_INTERVAL_SECONDS.min} (the scheduler runs at most once a minute)`,
        }),
        z.maximum(SCHEDULE_INTERVAL_SECONDS.max, {
          error: `expected scheduleIntervalSeconds of at most ${SCHEDULE_INTERVAL_SECONDS.max}`,
        }),
      ),
    ),
    /** A token is refreshed at the latest this many seconds before it expires. */
    minMarginSeconds: z.optional(
      z
        .number({ error: 'expected minMarginSeconds as a number' })
        .check(
          z.int({ error: 'expected minMarginSeconds as a whole number' }),
          z.minimum(0, { error: 'expected minMarginSeconds of at least 0' }),
        ),
    ),
    /** Accept a policy that writes the token secret more often than every 10 minutes. */
    allowFrequentWrites: z.optional(z.boolean({ error: 'expected allowFrequentWrites as true or false' })),
  }),
);

/** The policy as a user writes it. */
export type RefreshPolicyInput = z.input<typeof refreshPolicySchema>;

/** A complete policy, defaults applied. */
export interface RefreshPolicy {
  refreshFraction: number;
  jitterFraction: number;
  scheduleIntervalSeconds: number;
  minMarginSeconds: number;
  allowFrequentWrites: boolean;
}

/**
 * Validates a policy input and fills in the defaults. The minimum margin defaults to two
 * schedule intervals, so a token is always refreshed at least two ticks before it expires.
 *
 * @param options.scheduleIntervalSeconds the interval of the rotator that sweeps this credential,
 * when the caller is that rotator: a policy that does not set its own follows it, so the number is
 * said once, on `TokenRotator`.
 */
export function resolvePolicy(
  input: unknown = {},
  options: { credential?: string; field?: string; scheduleIntervalSeconds?: number } = {},
): RefreshPolicy {
  const parsed = refreshPolicySchema.safeParse(input ?? {});
  if (!parsed.success) {
    const field = options.field ?? 'policy';
    const lines = parsed.error.issues.map((i) =>
      i.code === 'unrecognized_keys'
        ? `${field}: unknown field(s) ${i.keys.map((k) => `"${k}"`).join(', ')}`
        : `${[field, ...i.path.map(String)].join('.')}: ${i.message}`,
    );
    throw new InvalidConfigurationError(
      `${who(options.credential)}invalid refresh policy:\n  - ${lines.join('\n  - ')}`,
      {
        credential: options.credential,
        field: lines[0]?.split(':')[0],
      },
    );
  }
  const p = parsed.data;
  const scheduleIntervalSeconds =
    p.scheduleIntervalSeconds ?? options.scheduleIntervalSeconds ?? POLICY_DEFAULTS.scheduleIntervalSeconds;
  return {
    refreshFraction: p.refreshFraction ?? POLICY_DEFAULTS.refreshFraction,
    jitterFraction: p.jitterFraction ?? POLICY_DEFAULTS.jitterFraction,
    scheduleIntervalSeconds,
    minMarginSeconds: p.minMarginSeconds ?? 2 * scheduleIntervalSeconds,
    allowFrequentWrites: p.allowFrequentWrites ?? POLICY_DEFAULTS.allowFrequentWrites,
  };
}

/**
 * When a token should be refreshed:
 * `issuedAt + lifetime × refreshFraction − jitter` (jitter in [0, jitterFraction × lifetime),
 * never later), capped at `expiresAt − minMargin`, and never before `issuedAt`.
 *
 * @param random a number in [0, 1); the seam tests freeze.
 */
export function computeRefreshAfter(
  token: { issuedAt: Date; expiresAt: Date },
  policy: RefreshPolicy,
  random: () => number = Math.random,
): Date {
  const issued = token.issuedAt.getTime();
  const lifetimeMs = token.expiresAt.getTime() - issued;
  const jitterMs = clamp01(random()) * policy.jitterFraction * lifetimeMs;
  const planned = issued + lifetimeMs * policy.refreshFraction - jitterMs;
  const latest = token.expiresAt.getTime() - policy.minMarginSeconds * 1000;
  return new Date(Math.floor(Math.max(issued, Math.min(planned, latest))));
}

/**
 * The shortest interval between two writes of one token secret under this policy, for a token
 * of the given lifetime (worst case: full jitter). A sweep refreshes every token whose
 * `refreshAfter` falls before its next tick, so a write can come up to one schedule interval
 * before `refreshAfter`: that lookahead is taken off too.
 */
export function shortestWriteIntervalSeconds(lifetimeSeconds: number, policy: RefreshPolicy): number {
  const byFraction = lifetimeSeconds * (policy.refreshFraction - policy.jitterFraction);
  const byMargin = lifetimeSeconds - policy.minMarginSeconds;
  return Math.max(0, Math.floor(Math.min(byFraction, byMargin) - policy.scheduleIntervalSeconds));
}

/**
 * Rejects a policy that would write one secret more often than Secrets Manager's sustained
 * budget (every 10 minutes), unless `allowFrequentWrites` is set. Also rejects a margin that
 * leaves no time to refresh at all.
 */
export function assertWriteBudget(lifetimeSeconds: number, policy: RefreshPolicy, credential?: string): void {
  if (policy.minMarginSeconds >= lifetimeSeconds) {
    throw new InvalidConfigurationError(
      `${who(credential)}policy.minMarginSeconds (${policy.minMarginSeconds} s) is not shorter than the token lifetime ` +
        `(${lifetimeSeconds} s), so the token would be due before it is written. Lower minMarginSeconds or ` +
        'scheduleIntervalSeconds.',
      { credential, field: 'policy.minMarginSeconds' },
    );
  }
  const interval = shortestWriteIntervalSeconds(lifetimeSeconds, policy);
  if (interval < MIN_WRITE_INTERVAL_SECONDS && !policy.allowFrequentWrites) {
    throw new InvalidConfigurationError(
      `${who(credential)}this refresh policy would write the token secret every ${interval} s for a ` +
        `${lifetimeSeconds} s token, but Secrets Manager allows at most one PutSecretValue per secret every ` +
        `${MIN_WRITE_INTERVAL_SECONDS / 60} minutes, sustained. Raise policy.refreshFraction, use a longer-lived ` +
        'token, or set policy.allowFrequentWrites: true if you accept throttling and version churn.',
      { credential, field: 'policy' },
    );
  }
}

/**
 * True when a token of this lifetime would break the write budget under this policy (what
 * {@link assertWriteBudget} refuses at `pulumi up`). At run time such a token is still stored:
 * the breach is reported and the refresh moved as late as the margin allows.
 */
export function writeBudgetBreached(lifetimeSeconds: number, policy: RefreshPolicy): boolean {
  if (policy.minMarginSeconds >= lifetimeSeconds) return true;
  return (
    shortestWriteIntervalSeconds(lifetimeSeconds, policy) < MIN_WRITE_INTERVAL_SECONDS && !policy.allowFrequentWrites
  );
}

/**
 * The refresh time of a token that breaks the write budget: as late as the margin allows
 * (`expiresAt − minMargin`, never before `issuedAt`), so the secret is written as seldom as the
 * token's real lifetime permits. No jitter: it could only make writes more frequent.
 */
export function adaptedRefreshAfter(token: { issuedAt: Date; expiresAt: Date }, policy: RefreshPolicy): Date {
  const latest = token.expiresAt.getTime() - policy.minMarginSeconds * 1000;
  return new Date(Math.max(token.issuedAt.getTime(), latest));
}

/** Inputs of {@link nextAttemptAt}. */
export interface BackoffInput {
  /** Consecutive failures so far, this one included (≥ 1). */
  failures: number;
  now: Date;
  /**
   * Seconds the issuer asked us to wait, honoured as a floor up to
   * {@link MAX_RETRY_AFTER_SECONDS} and never past `notAfter`.
   */
  retryAfterSeconds?: number | undefined;
  /**
   * The latest useful retry (the current token's expiry less the margin): an issuer's
   * `Retry-After` longer than {@link HONOURED_RETRY_AFTER_SECONDS} never parks the credential
   * beyond it. Backoff itself still applies.
   */
  notAfter?: Date | undefined;
  random?: () => number;
  baseSeconds?: number;
  maxSeconds?: number;
}

/**
 * When to try a failed refresh again: exponential backoff with equal jitter
 * (`half + random × half` of `base × 2^(failures−1)`, capped), never sooner than Retry-After
 * (itself capped at {@link MAX_RETRY_AFTER_SECONDS} and at `notAfter`). Always a valid Date,
 * whatever the inputs.
 */
export function nextAttemptAt(input: BackoffInput): Date {
  const base = finiteOr(input.baseSeconds, 60);
  // Ten minutes at most: once an outage ends, every credential is retried within one write
  // interval, and a retry every ten minutes is no load on any issuer.
  const max = finiteOr(input.maxSeconds, 600);
  const failures = finiteOr(input.failures, 1);
  const exp = Math.min(max, base * 2 ** Math.max(0, Math.min(30, failures - 1)));
  const random = input.random ?? Math.random;
  const delay = exp / 2 + clamp01(random()) * (exp / 2);
  let asked = Math.min(Math.max(0, finiteOr(input.retryAfterSeconds, 0)), MAX_RETRY_AFTER_SECONDS);
  const notAfter = input.notAfter?.getTime();
  if (notAfter !== undefined && Number.isFinite(notAfter)) {
    // A polite Retry-After (up to 15 minutes) is always honoured; a longer one stops at notAfter.
    asked = Math.min(asked, Math.max(HONOURED_RETRY_AFTER_SECONDS, (notAfter - input.now.getTime()) / 1000));
  }
  return addSecondsClamped(input.now, Math.max(delay, asked));
}

/** A Retry-After up to this long is honoured even when it runs past `notAfter`. */
export const HONOURED_RETRY_AFTER_SECONDS = 900;

function finiteOr(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) ? value : fallback;
}

function clamp01(value: number): number {
  // NaN from a broken random seam counts as 0, not as a NaN delay.
  return Number.isFinite(value) ? Math.min(Math.max(value, 0), 0.999999) : 0;
}

function who(credential: string | undefined): string {
  return credential ? `Credential "${credential}": ` : '';
}
