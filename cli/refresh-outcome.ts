/**
 * What `token-rotator refresh` reports per credential, whether the refresh ran in this process
 * or in the rotator Lambda: the outcome (also the shape of `refresh --json`), its result line and
 * the summary line. Pure: the time is a parameter. No token is ever part of an outcome.
 */

import type { Deferred, RefreshResult } from '../core/rotator-protocol';
import { FORCED_REFRESH_FLOOR_SECONDS } from '../core/rotator-protocol';
import type { CredentialListing } from '../core/store';
import { secondsToExpiry } from '../core/token';
import type { DueReason } from '../lambda/plan';
import { hintFor, joinSentences, oneLine } from './error-report';
import { expiryTime, relativeTime } from './format-duration';
import type { Palette } from './terminal';

/** Why a credential was not refreshed although it was asked for. */
export type SkipReason = 'not-due' | 'backoff' | 'blocked' | 'floor';

/**
 * Why a refresh was not started: `interrupted` (Ctrl-C), `out-of-time` (the rotator ran short of
 * time, or its answer left the credential out), `call-failed` (the call to the rotator failed:
 * the error says why), `next-sweep` (a sweep's share of the interval or of the write rate was
 * used up: the next sweep takes it).
 */
export type DeferReason = 'interrupted' | 'out-of-time' | 'call-failed' | 'next-sweep';

/**
 * The outcome of refreshing one credential; one element of `refresh --json`. Instants are
 * ISO-8601 strings; absent values are `null`.
 */
export type RefreshOutcome =
  | {
      credential: string;
      outcome: 'refreshed';
      generation: number;
      expiresAt: string;
      refreshAfter: string;
    }
  | {
      credential: string;
      outcome: 'skipped';
      /** `not-due`: its token is fresh (use `--force`); `backoff`: retrying later after a transient failure; `blocked`: its client credentials were rejected. */
      reason: SkipReason;
      generation: number | null;
      refreshAfter: string | null;
      secondsToExpiry: number | null;
      lastError: string | null;
      nextAttempt: string | null;
      /**
       * `blocked`: the client secret the issuer rejected was read from the credential's
       * `clientSecretSource`, so the working one goes there (the rotator looks at it again).
       * False otherwise, and when not known.
       */
      clientSecretSource: boolean;
    }
  | {
      credential: string;
      outcome: 'failed';
      /** `code` is one of core/errors.ts's codes (or `NotFound`); `message` names the credential, never a secret. */
      error: { code: string; message: string; transient: boolean };
      /** When the rotator will try again; `null` after a permanent failure. */
      nextAttempt: string | null;
    }
  | {
      /** Not started (see {@link DeferReason}). */
      credential: string;
      outcome: 'deferred';
      reason: DeferReason;
    };

/**
 * The outcome of one result of lambda's `refreshMany` (in-process or returned by the rotator).
 * A deferred result is one for `deferReason`; a skipped one says why, as the rotator judged it on
 * the token secret, with its refresh time (from the `listing` when the result lacks it).
 */
export function outcomeOf(
  result: RefreshResult | Deferred,
  deferReason: DeferReason,
  listing?: Pick<CredentialListing, 'refreshAfter' | 'lastError' | 'failedSourceVersion'> | undefined,
): RefreshOutcome {
  if ('deferred' in result) return { credential: result.credential, outcome: 'deferred', reason: deferReason };
  if (!result.ok) {
    return {
      credential: result.credential,
      outcome: 'failed',
      error: { code: result.error.code, message: oneLine(result.error.message), transient: result.error.transient },
      nextAttempt: result.nextAttempt ?? null,
    };
  }
  if ('skipped' in result) {
    return {
      credential: result.credential,
      outcome: 'skipped',
      reason: result.skipped,
      generation: result.generation,
      refreshAfter: result.refreshAfter ?? listing?.refreshAfter?.toISOString() ?? null,
      secondsToExpiry: result.secondsToExpiry,
      lastError: result.skipped === 'backoff' || result.skipped === 'blocked' ? (listing?.lastError ?? null) : null,
      nextAttempt: result.nextAttempt ?? null,
      // The rotator gives a blocked credential a next look only at a rejected source.
      clientSecretSource:
        result.skipped === 'blocked' &&
        (result.nextAttempt !== undefined || (listing !== undefined && rejectedSource(listing))),
    };
  }
  return {
    credential: result.credential,
    outcome: 'refreshed',
    generation: result.generation,
    expiresAt: result.expiresAt,
    refreshAfter: result.refreshAfter,
  };
}

/** The outcome of a credential `refresh --all` leaves alone, from its tags and the sweep's verdict. */
export function skippedOutcome(listing: CredentialListing, reason: DueReason, now: Date): RefreshOutcome {
  return {
    credential: listing.name,
    outcome: 'skipped',
    reason: reason === 'backoff' || reason === 'blocked' ? reason : 'not-due',
    generation: listing.generation ?? null,
    refreshAfter: listing.refreshAfter?.toISOString() ?? null,
    secondsToExpiry: listing.expiresAt ? secondsToExpiry({ expiresAt: listing.expiresAt }, now) : null,
    lastError: listing.lastError ?? null,
    nextAttempt: listing.nextAttempt?.toISOString() ?? null,
    clientSecretSource: reason === 'blocked' && rejectedSource(listing),
  };
}

/** Whether the failure tags show a client secret from a `clientSecretSource` that the issuer rejected. */
function rejectedSource(listing: Pick<CredentialListing, 'lastError' | 'failedSourceVersion'>): boolean {
  return listing.lastError === 'InvalidCredentials' && listing.failedSourceVersion !== undefined;
}

/**
 * What to do about a client secret from a `clientSecretSource` that the issuer rejected: the
 * client document is not where it lives, so `pulumi up` would change nothing.
 */
function sourceAdvice(credential: string): string {
  return `put the working client secret in the secret its clientSecretSource names (its AWSCURRENT version): the rotator looks at it again within an hour, and "token-rotator refresh --force ${credential}" asks the issuer at once`;
}

/** The outcome of a named credential that has no token secret under the prefix; `message` says why and what to do. */
export function notFoundOutcome(name: string, message: string): RefreshOutcome {
  return {
    credential: name,
    outcome: 'failed',
    error: { code: 'NotFound', message, transient: false },
    nextAttempt: null,
  };
}

/** The first word of a result line, padded so that names line up. */
const LABELS: Record<RefreshOutcome['outcome'], string> = {
  refreshed: 'ok      ',
  skipped: 'skipped ',
  failed: 'failed  ',
  deferred: 'deferred',
};

/**
 * The result line of one outcome: a label, the credential (padded to `nameWidth`), what
 * happened and, for a failure, what to do.
 *
 * @example
 * ```text
 * ok        sirv-prod    generation 43, expires in 20m (2026-01-01T00:20:00.000Z)
 * failed    aspose-prod  InvalidCredentials: Credential "aspose-prod": … The issuer rejected …
 * ```
 */
export function outcomeLine(outcome: RefreshOutcome, now: Date, colour: Palette, nameWidth = 0): string {
  const name = outcome.credential.padEnd(nameWidth);
  switch (outcome.outcome) {
    case 'refreshed':
      return `${colour.green(LABELS.refreshed)}  ${name}  generation ${outcome.generation}, expires ${expiryTime(new Date(outcome.expiresAt), now)} (${outcome.expiresAt})`;
    case 'skipped':
      return `${colour.yellow(LABELS.skipped)}  ${name}  ${skipText(outcome, now)}`;
    case 'failed': {
      const { code, message, transient } = outcome.error;
      const retry =
        outcome.nextAttempt && transient
          ? `The rotator tries again ${relativeTime(new Date(outcome.nextAttempt), now)}.`
          : '';
      // A rejected client secret that is looked at again came from a clientSecretSource.
      const hint =
        code === 'InvalidCredentials' && outcome.nextAttempt !== null
          ? `${capitalised(sourceAdvice(outcome.credential))}.`
          : hintFor(code, { transient });
      const text = joinSentences(joinSentences(`${code}: ${message}`, hint), retry);
      return `${colour.red(LABELS.failed)}  ${name}  ${text}`;
    }
    case 'deferred':
      return `${colour.yellow(LABELS.deferred)}  ${name}  ${DEFERRED_TEXT[outcome.reason]}`;
  }
}

const DEFERRED_TEXT: Record<DeferReason, string> = {
  interrupted: 'not started: interrupted; run refresh again.',
  'out-of-time': 'not started: the rotator ran short of time; run refresh again.',
  'call-failed': 'not started: the call to the rotator failed (the error follows).',
  'next-sweep':
    "not started: this sweep's share of the interval or of the write rate was used up; the next sweep takes it.",
};

function skipText(outcome: Extract<RefreshOutcome, { outcome: 'skipped' }>, now: Date): string {
  const facts: string[] = [];
  if (outcome.generation !== null) facts.push(`generation ${outcome.generation}`);
  if (outcome.secondsToExpiry !== null) {
    facts.push(`expires ${expiryTime(new Date(now.getTime() + outcome.secondsToExpiry * 1000), now)}`);
  }
  const known = facts.length > 0 ? ` (${facts.join(', ')})` : '';
  switch (outcome.reason) {
    case 'not-due': {
      const when = outcome.refreshAfter ? `: refresh after ${relativeTime(new Date(outcome.refreshAfter), now)}` : '';
      return `not due${when}${known}. Use --force to refresh now.`;
    }
    case 'backoff': {
      const until = outcome.nextAttempt ? ` until ${relativeTime(new Date(outcome.nextAttempt), now)}` : '';
      return `backing off after ${outcome.lastError ?? 'a failure'}${until}${known}. Use --force to try now.`;
    }
    case 'blocked':
      return outcome.clientSecretSource
        ? `blocked after ${outcome.lastError ?? 'a rejected client secret'}${known}: ${sourceAdvice(outcome.credential)}.`
        : `blocked after ${outcome.lastError ?? 'a permanent failure'}${known}: update its client credentials (pulumi up), or use --force to try anyway.`;
    case 'floor':
      return `written less than ${FORCED_REFRESH_FLOOR_SECONDS / 60} minutes ago with the current client credentials${known}: the rotator refreshes a token that recent only for new credentials. Use --force without --function to override.`;
  }
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Counts of outcomes, by kind. */
export type OutcomeCounts = Record<RefreshOutcome['outcome'], number>;

/** Counts `outcomes` by kind. */
export function countOutcomes(outcomes: readonly RefreshOutcome[]): OutcomeCounts {
  const counts: OutcomeCounts = { refreshed: 0, skipped: 0, failed: 0, deferred: 0 };
  for (const o of outcomes) counts[o.outcome] += 1;
  return counts;
}

/**
 * The final line of `refresh`, printed always.
 *
 * @example
 * ```text
 * 4 credentials: 1 refreshed, 2 skipped, 1 failed.
 * ```
 */
export function summaryLine(outcomes: readonly RefreshOutcome[]): string {
  const c = countOutcomes(outcomes);
  const parts = [`${c.refreshed} refreshed`, `${c.skipped} skipped`, `${c.failed} failed`];
  if (c.deferred > 0) parts.push(`${c.deferred} not started`);
  const n = outcomes.length;
  return `${n} credential${n === 1 ? '' : 's'}: ${parts.join(', ')}.`;
}
