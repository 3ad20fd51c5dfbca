/**
 * The rotator's schedule interval, in seconds: how often it sweeps, and so how far ahead it looks
 * and the default refresh margin of a credential's policy. Its own module, imported by the policy,
 * the Lambda's environment and the TokenRotator component alike, so the Lambda's entry loads no
 * more than this to know it.
 */

/**
 * EventBridge Scheduler runs at most once a minute, and sweeps more than a day apart would leave
 * most tokens to expire between two; 60 by default.
 */
export const SCHEDULE_INTERVAL_SECONDS = { min: 60, max: 86_400, default: 60 } as const;
