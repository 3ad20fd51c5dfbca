/**
 * Refreshing one credential: read its client secret, obtain a token, write it. A failure never
 * touches the token value; it is recorded in tags with the next attempt.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { isTokenRotatorError } from '../core/errors';
import { issueTokenRecord } from '../core/issue';
import type { IssueContext } from '../core/issuers/types';
import { nextAttemptAt, resolvePolicy } from '../core/policy';
import * as store from '../core/store';
import { secondsToExpiry } from '../core/token';
import { type CredentialListing, PERMANENT_ERRORS } from './plan';

/** Dependencies of a refresh: the store and the issuer seams. */
export interface RefreshDeps {
  secretsManager: SecretsManagerClient;
  prefix: string;
  fetch?: typeof fetch;
  now: () => Date;
  random: () => number;
  /** How far ahead a sweep looks (one schedule interval). */
  lookaheadSeconds: number;
}

/** The outcome for one credential, as returned to targeted callers. No secret in it. */
export type RefreshResult =
  | {
      credential: string;
      ok: true;
      generation: number;
      expiresAt: string;
      refreshAfter: string;
      secondsToExpiry: number;
    }
  | { credential: string; ok: true; skipped: 'not-due'; generation: number; secondsToExpiry: number }
  | {
      credential: string;
      ok: false;
      error: { code: string; message: string; transient: boolean; retryAfterSeconds?: number | undefined };
      nextAttempt?: string | undefined;
      /** Seconds left on the token that stays in place, when there is one. */
      secondsToExpiry?: number | undefined;
    };

/**
 * Refreshes one credential. Unless `force`, a credential that another sweep refreshed since it
 * was listed is skipped (its token is no longer due).
 */
export async function refreshCredential(
  name: string,
  deps: RefreshDeps,
  options: { force?: boolean; listing?: CredentialListing } = {},
): Promise<RefreshResult> {
  const where = { client: deps.secretsManager, prefix: deps.prefix };
  const now = deps.now();
  let current: Awaited<ReturnType<typeof store.readToken>>;
  try {
    current = await store.readToken(where, name);
  } catch {
    // A token record we cannot read is replaced by a good one, not a reason to stop.
    current = undefined;
  }
  if (!options.force && current && Date.parse(current.refreshAfter) >= now.getTime() + deps.lookaheadSeconds * 1000) {
    return {
      credential: name,
      ok: true,
      skipped: 'not-due',
      generation: current.generation,
      secondsToExpiry: secondsToExpiry(current, now),
    };
  }
  try {
    const doc = await store.readClientDocument(where, name);
    const policy = resolvePolicy(doc.policy, { credential: name });
    const context: IssueContext = { credential: name, fetch: deps.fetch, now: deps.now };
    const record = await issueTokenRecord(
      {
        credential: name,
        issuer: doc.issuer,
        policy,
        previousGeneration: current?.generation ?? 0,
        random: deps.random,
      },
      context,
    );
    await store.putToken(where, record);
    return {
      credential: name,
      ok: true,
      generation: record.generation,
      expiresAt: record.expiresAt,
      refreshAfter: record.refreshAfter,
      secondsToExpiry: secondsToExpiry(record, deps.now()),
    };
  } catch (e) {
    const error = classify(e, name);
    const failures = (options.listing?.failures ?? 0) + 1;
    const permanent = PERMANENT_ERRORS.has(error.code);
    const nextAttempt = permanent
      ? undefined
      : nextAttemptAt({ failures, now, retryAfterSeconds: error.retryAfterSeconds, random: deps.random });
    try {
      await store.recordFailure(where, name, { failures, lastError: error.code, nextAttempt, failedAt: now });
    } catch {
      // Recording is best effort: the credential stays due and the next tick tries again.
    }
    return {
      credential: name,
      ok: false,
      error: {
        code: error.code,
        message: error.message,
        transient: error.transient,
        retryAfterSeconds: error.retryAfterSeconds,
      },
      nextAttempt: nextAttempt?.toISOString(),
      secondsToExpiry: current ? secondsToExpiry(current, now) : undefined,
    };
  }
}

interface FailureSummary {
  code: string;
  message: string;
  transient: boolean;
  retryAfterSeconds?: number | undefined;
}

function classify(e: unknown, name: string): FailureSummary {
  if (isTokenRotatorError(e)) return e;
  // Anything else is our bug or the platform's: report its kind only, never its text.
  const kind = e instanceof Error ? e.name : typeof e;
  return {
    code: 'InternalError',
    message: `Credential "${name}": refresh failed unexpectedly (${kind}).`,
    transient: true,
  };
}
