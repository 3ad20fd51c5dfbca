/**
 * Refresh outcomes as EventBridge events, for others to act on (page on a rejection, audit a
 * rotation). Source `token-rotator`; the detail carries names, generations, times and our own
 * error codes only: never a token, a secret or anything an issuer said. Credential names are
 * unique only within a prefix, so a detail also names the rotator's prefix and the token secret:
 * two rotators' events on one bus can be told apart.
 *
 * Best effort: a failed `PutEvents` (or entries it refuses) is counted, never thrown, so an
 * event bus outage can never fail or undo a refresh.
 */
import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { blocksUntilClientChanges } from '../core/errors';
import type { Deferred, RefreshResult } from '../core/rotator-protocol';
import { layoutSecretNames } from '../core/store/names';

/** The `source` of every event. */
export const EVENT_SOURCE = 'token-rotator';

/** PutEvents takes at most this many entries per call. */
export const MAX_ENTRIES_PER_PUT = 10;

/** The detail types, one per outcome an operator may act on. */
export type RefreshEventType = 'Token Refreshed' | 'Credential Rejected' | 'Refresh Failing' | 'Token Expired';

/** The `detail` of an event. Every field is ours; none comes from an issuer. */
export interface RefreshEventDetail {
  credential: string;
  /** The generation now stored (refreshed), or the one that stays in place (failures). */
  generation?: number | undefined;
  expiresAt?: string | undefined;
  refreshAfter?: string | undefined;
  /** Seconds left on the stored token; zero or less once it expired. */
  secondsToExpiry?: number | undefined;
  /** Our error code (`InvalidCredentials`, `IssuerUnavailable`, …), for failures. */
  errorCode?: string | undefined;
  /** When the rotator tries again (every failure but a rejection). */
  nextAttempt?: string | undefined;
  /** The secret name prefix of the rotator that put the event (its `TOKEN_ROTATOR_PREFIX`). */
  prefix?: string | undefined;
  /** The credential's token secret, `PREFIX NAME/token` (the name: the ARN would cost a call). */
  tokenSecretName?: string | undefined;
}

/** Which rotator the events are about: what tells two rotators' events apart on one bus. */
export interface EventOrigin {
  /** The rotator's secret name prefix. */
  prefix: string;
}

/** One event before it is put on a bus. */
export interface RefreshOutcomeEvent {
  detailType: RefreshEventType;
  detail: RefreshEventDetail;
}

/** What publishing a sweep's events did. */
export interface PublishOutcome {
  published: number;
  /** Entries PutEvents refused, or that a failed call never delivered. */
  failed: number;
}

/**
 * The events a set of outcomes produces, in result order, so one credential's events stay in
 * order: a refresh gives `Token Refreshed`; a failure that blocks the credential until its client
 * secret changes (`InvalidCredentials`, `InvalidConfiguration`) `Credential Rejected`; any other
 * failure, which is retried with backoff (a transient one, or a permanent store error such as
 * AccessDenied), `Refresh Failing`; either, when the token in place has run out, then `Token Expired`.
 * Skipped (not due) and deferred credentials produce none. With `origin`, every detail also
 * carries `prefix` and `tokenSecretName` (after the other fields; none of them changes).
 */
export function refreshEvents(
  results: readonly (RefreshResult | Deferred)[],
  origin?: EventOrigin,
): RefreshOutcomeEvent[] {
  const events: RefreshOutcomeEvent[] = [];
  // Names only, from the prefix this rotator was configured with: nothing read, nothing secret.
  const whose = (credential: string) =>
    origin ? { prefix: origin.prefix, tokenSecretName: layoutSecretNames(credential, origin.prefix).token } : {};
  for (const r of results) {
    if ('deferred' in r || (r.ok && 'skipped' in r)) continue;
    if (r.ok) {
      events.push({
        detailType: 'Token Refreshed',
        detail: {
          credential: r.credential,
          generation: r.generation,
          expiresAt: r.expiresAt,
          refreshAfter: r.refreshAfter,
          secondsToExpiry: r.secondsToExpiry,
          ...whose(r.credential),
        },
      });
      continue;
    }
    // Only these fields are copied: the message may quote an issuer, so it never travels.
    const held = {
      credential: r.credential,
      generation: r.generation,
      expiresAt: r.expiresAt,
      secondsToExpiry: r.secondsToExpiry,
      errorCode: r.error.code,
    };
    // Judged as the refresh path judges it (lambda/refresh.ts): only a blocking code stops retries.
    events.push(
      blocksUntilClientChanges(r.error.code)
        ? { detailType: 'Credential Rejected', detail: { ...held, ...whose(r.credential) } }
        : { detailType: 'Refresh Failing', detail: { ...held, nextAttempt: r.nextAttempt, ...whose(r.credential) } },
    );
    if (r.secondsToExpiry !== undefined && r.secondsToExpiry <= 0) {
      events.push({ detailType: 'Token Expired', detail: { ...held, ...whose(r.credential) } });
    }
  }
  return events;
}

/** Where and how to put events. */
export interface PublishDeps {
  eventBridge: EventBridgeClient;
  /** Bus name or ARN. */
  eventBusName: string;
  now: () => Date;
}

/**
 * Puts the events on the bus, 10 entries per `PutEvents`, one call after the other so that a
 * credential's events arrive in order. Never throws.
 *
 * @example
 * ```ts
 * const outcome = await publishRefreshEvents(refreshEvents(summary.results, { prefix }), { eventBridge, eventBusName, now });
 * metrics.addMetric('RefreshEventsFailed', MetricUnit.Count, outcome.failed);
 * ```
 */
export async function publishRefreshEvents(
  events: readonly RefreshOutcomeEvent[],
  deps: PublishDeps,
): Promise<PublishOutcome> {
  if (events.length === 0) return { published: 0, failed: 0 };
  // Imported here, not with the module: in the Lambda bundle the EventBridge client is a chunk of
  // its own, loaded by the first sweep that has an event to put.
  const { PutEventsCommand } = await import('./eventbridge-sdk.js');
  const time = deps.now();
  let published = 0;
  let failed = 0;
  for (let start = 0; start < events.length; start += MAX_ENTRIES_PER_PUT) {
    const entries: PutEventsRequestEntry[] = events.slice(start, start + MAX_ENTRIES_PER_PUT).map((e) => ({
      Source: EVENT_SOURCE,
      DetailType: e.detailType,
      Detail: JSON.stringify(e.detail),
      EventBusName: deps.eventBusName,
      Time: time,
    }));
    try {
      const answer = await deps.eventBridge.send(new PutEventsCommand({ Entries: entries }));
      const refused = answer.FailedEntryCount ?? answer.Entries?.filter((x) => x.ErrorCode).length ?? 0;
      failed += refused;
      published += entries.length - refused;
    } catch {
      // The bus is down or we may not use it: these events are lost and counted; refreshes stand.
      failed += entries.length;
    }
  }
  return { published, failed };
}
