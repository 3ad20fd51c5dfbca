/**
 * The health of one credential as `token-rotator status` reports it, from the tags of its token
 * secret and, when read, its token record. Pure: the time is a parameter. The access token is
 * never copied into a status.
 */
import { blocksUntilClientChanges } from '../core/errors';
import { POLICY_DEFAULTS } from '../core/policy';
import type { CredentialListing } from '../core/store';
import { secondsToExpiry, type TokenRecord } from '../core/token';

/**
 * How a credential is doing, worst first when several apply:
 * - `missing`: named on the command line, but neither of its secrets is under the prefix;
 * - `no-token`: its client secret is there but its token secret is not (deleted or scheduled for
 *   deletion by hand): workloads have nothing to read and the rotator cannot refresh it;
 * - `unreadable`: its token record could not be read or parsed;
 * - `expired`: its token is past `expiresAt` (workloads hold no valid token);
 * - `blocked`: the last refresh failed permanently (`InvalidCredentials`, `InvalidConfiguration`):
 *   the rotator waits for new client credentials (in the client document, or in the
 *   `clientSecretSource` it reads its client secret from, which it looks at again);
 * - `failing`: the last refreshes failed transiently; the rotator is retrying;
 * - `overdue`: no failure recorded, but its refresh time passed more than two schedule intervals
 *   ago: nothing seems to be refreshing it (no rotator for this prefix, or a stopped schedule);
 * - `ok`: none of the above.
 */
export type CredentialState =
  | 'ok'
  | 'overdue'
  | 'failing'
  | 'blocked'
  | 'expired'
  | 'unreadable'
  | 'no-token'
  | 'missing';

/** How many schedule intervals past its refresh time a token is overdue. */
export const OVERDUE_INTERVALS = 2;

/**
 * One row of `status --json`. Field names and meanings are stable; absent values are `null`,
 * instants are ISO-8601 strings in UTC.
 */
export interface CredentialStatus {
  /** The credential name. */
  credential: string;
  state: CredentialState;
  /** The issuer kind of the current token (`sirv`, `oauth2`, …); `null` without values. */
  issuer: string | null;
  /** When the current token expires. */
  expiresAt: string | null;
  /** Whole seconds from now to `expiresAt`, negative once expired. */
  secondsToExpiry: number | null;
  /** When the rotator plans to replace the current token. */
  refreshAfter: string | null;
  /** Consecutive failed refreshes (0 after a success). */
  failures: number;
  /** The short error code of the last failure (`IssuerUnavailable`, …), never an upstream message. */
  lastError: string | null;
  /**
   * When the rotator retries after a transient failure, or (blocked) looks again at the
   * `clientSecretSource` whose client secret the issuer rejected.
   */
  nextAttempt: string | null;
  /** How many tokens have been written; `null` without values. */
  generation: number | null;
  /** The ARN of the token secret workloads read. */
  tokenSecretArn: string | null;
}

/** What is known of one credential when its status is computed. */
export interface StatusInput {
  name: string;
  /** Its listing from tags; absent when the name matched no token secret. */
  listing?: CredentialListing | undefined;
  /** Its token record, when values were read and it could be parsed. */
  record?: TokenRecord | undefined;
  /** True when reading or parsing the record failed. */
  unreadable?: boolean | undefined;
  /** True when its client secret was listed but no token secret (`listing` is then absent). */
  clientOnly?: boolean | undefined;
}

/** What the status of a credential is judged against besides the time. */
export interface StatusOptions {
  /** The rotator's schedule interval: a refresh later than two of them is overdue. */
  scheduleIntervalSeconds: number;
}

/** Judged against the rotator's default schedule. */
export const DEFAULT_STATUS_OPTIONS: StatusOptions = {
  scheduleIntervalSeconds: POLICY_DEFAULTS.scheduleIntervalSeconds,
};

/**
 * The status of one credential at `now`. The record (when read) wins over the tags for expiry
 * and refresh time; failures come from the tags only.
 */
export function credentialStatus(
  input: StatusInput,
  now: Date,
  options: StatusOptions = DEFAULT_STATUS_OPTIONS,
): CredentialStatus {
  const { listing, record } = input;
  const expiresAt = record ? new Date(record.expiresAt) : listing?.expiresAt;
  const refreshAfter = record ? new Date(record.refreshAfter) : listing?.refreshAfter;
  const failures = listing?.failures ?? 0;
  const lastError = listing?.lastError ?? null;
  const secondsLeft = expiresAt ? secondsToExpiry({ expiresAt }, now) : null;
  return {
    credential: input.name,
    state: stateOf({
      missing: listing === undefined && input.clientOnly !== true,
      'no-token': listing === undefined && input.clientOnly === true,
      unreadable: input.unreadable === true,
      expired: expiresAt !== undefined && expiresAt.getTime() <= now.getTime(),
      blocked: lastError !== null && blocksUntilClientChanges(lastError),
      failing: failures > 0 || lastError !== null,
      overdue: refreshAfter !== undefined && refreshOverdue(refreshAfter, now, options),
    }),
    issuer: record?.issuer ?? null,
    expiresAt: expiresAt?.toISOString() ?? null,
    secondsToExpiry: secondsLeft,
    refreshAfter: refreshAfter?.toISOString() ?? null,
    failures,
    lastError,
    nextAttempt: listing?.nextAttempt?.toISOString() ?? null,
    generation: record?.generation ?? null,
    tokenSecretArn: listing?.tokenSecretArn || null,
  };
}

function stateOf(flags: Record<Exclude<CredentialState, 'ok'>, boolean>): CredentialState {
  for (const state of ['missing', 'no-token', 'unreadable', 'expired', 'blocked', 'failing', 'overdue'] as const) {
    if (flags[state]) return state;
  }
  return 'ok';
}

/** True when `refreshAfter` passed more than {@link OVERDUE_INTERVALS} schedule intervals before `now`. */
export function refreshOverdue(refreshAfter: Date, now: Date, options: StatusOptions): boolean {
  return now.getTime() - refreshAfter.getTime() > OVERDUE_INTERVALS * options.scheduleIntervalSeconds * 1000;
}
