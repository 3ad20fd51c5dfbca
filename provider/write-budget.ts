/**
 * The write-budget refusal as `pulumi up` words it: which lifetime and which policy make the
 * token secret too busy, with defaults called defaults, and the fields the user can change to
 * pass, with the values that would.
 */
import type { KnownLifetime } from '../core/issuers/config';
import {
  MIN_WRITE_INTERVAL_SECONDS,
  type RefreshPolicy,
  resolvePolicy,
  shortestWriteIntervalSeconds,
  writeBudgetBreached,
} from '../core/policy';

/**
 * Why a credential breaks Secrets Manager's write budget and what to change, or `undefined`
 * when it does not. `policyInput` is the policy as the user wrote it (to tell their values from
 * the defaults).
 */
export function writeBudgetRefusal(
  credential: string,
  lifetime: KnownLifetime,
  policyInput: unknown,
): string | undefined {
  const policy = resolvePolicy(policyInput);
  if (!writeBudgetBreached(lifetime.seconds, policy)) return undefined;
  const given = (policyInput ?? {}) as Record<string, unknown>;
  const L = lifetime.seconds;
  const S = policy.scheduleIntervalSeconds;
  const tooLate = policy.minMarginSeconds >= L;
  const marginSource =
    given.minMarginSeconds !== undefined
      ? 'policy.minMarginSeconds'
      : `by default two rotator intervals of ${S} s${given.scheduleIntervalSeconds !== undefined ? ' (policy.scheduleIntervalSeconds)' : ''}`;
  const why = tooLate
    ? `each token would be due before it is written: the refresh margin is ${policy.minMarginSeconds} s (${marginSource})`
    : `the token secret would be written every ${shortestWriteIntervalSeconds(L, policy)} s, but Secrets Manager ` +
      `allows one PutSecretValue per secret every ${MIN_WRITE_INTERVAL_SECONDS / 60} minutes, sustained`;

  const fixes: string[] = [];
  const needed = lifetimeNeeded(policy);
  if (lifetime.field && needed !== undefined) fixes.push(`raise ${lifetime.field} to at least ${needed} s`);
  const fraction = fractionNeeded(L, policy);
  if (!tooLate && fraction !== undefined) {
    fixes.push(
      `raise policy.refreshFraction to at least ${fraction} (it is ${policy.refreshFraction}${given.refreshFraction === undefined ? ', the default' : ''})`,
    );
  }
  if (tooLate) {
    fixes.push(
      `set policy.minMarginSeconds below ${L}${policy.allowFrequentWrites ? '' : ' with policy.allowFrequentWrites: true, accepting throttling and version churn'}`,
    );
  } else {
    fixes.push('set policy.allowFrequentWrites: true to accept throttling and version churn');
  }
  const [first = '', ...rest] = fixes;
  const advice = [first.charAt(0).toUpperCase() + first.slice(1), ...rest].join('; or ');
  return `Credential "${credential}": its tokens live ${L} s (${lifetime.source}), too short for the refresh policy: ${why}. ${advice}.`;
}

/** The shortest lifetime this policy accepts, or `undefined` when none would do. */
function lifetimeNeeded(policy: RefreshPolicy): number | undefined {
  const usable = policy.refreshFraction - policy.jitterFraction;
  if (usable <= 0) return undefined;
  const slack = MIN_WRITE_INTERVAL_SECONDS + policy.scheduleIntervalSeconds;
  let seconds = Math.max(Math.ceil(slack / usable), slack + policy.minMarginSeconds);
  // Rounding can leave a second short of the budget: step up to the first lifetime it accepts.
  for (let i = 0; i < 5 && writeBudgetBreached(seconds, policy); i += 1) seconds += 1;
  return writeBudgetBreached(seconds, policy) ? undefined : seconds;
}

/** The smallest refresh fraction (two decimals) that keeps this lifetime in budget, if one below 1 does. */
function fractionNeeded(lifetimeSeconds: number, policy: RefreshPolicy): number | undefined {
  for (let hundredths = Math.ceil(policy.refreshFraction * 100) + 1; hundredths < 100; hundredths += 1) {
    const candidate = { ...policy, refreshFraction: hundredths / 100 };
    if (!writeBudgetBreached(lifetimeSeconds, candidate)) return candidate.refreshFraction;
  }
  return undefined;
}
