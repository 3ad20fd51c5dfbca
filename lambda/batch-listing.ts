/**
 * The listings a fan-out batch carries: the sweep's listing of each credential, cut to what a
 * refresh reads, and back; and the batch events themselves, split so that none passes
 * {@link MAX_BATCH_PAYLOAD_BYTES}. With its listing a fanned-out refresh costs what a refresh in
 * the sweeping invocation costs (no DescribeSecret first).
 */
import {
  type BatchListing,
  batchListingSchema,
  MAX_BATCH_PAYLOAD_BYTES,
  type RotatorEvent,
} from '../core/rotator-protocol';
import type * as store from '../core/store';
import { decodeTokenVersion } from '../core/token-version';
import type { RefreshListing } from './refresh';

/**
 * `listing` as a batch carries it, or `undefined` when one of its values is outside what the
 * batch schema takes (a version id or tag written by hand): that credential then goes by name
 * alone and its refresh describes it, as before listings were carried.
 */
export function toBatchListing(listing: store.CredentialListing): BatchListing | undefined {
  const epoch = (d: Date | undefined) => (d === undefined ? undefined : Math.floor(d.getTime() / 1000));
  const candidate: BatchListing = {
    versionId: listing.versionId,
    clientVersion: listing.clientVersion,
    failedClientVersion: listing.failedClientVersion,
    failures: listing.failures > 0 ? listing.failures : undefined,
    lastError: listing.lastError,
    nextAttempt: epoch(listing.nextAttempt),
    failedAt: epoch(listing.failedAt),
    legacyTags: listing.legacyTags ? true : undefined,
    writeBudget: listing.writeBudget as BatchListing['writeBudget'],
  };
  for (const key of Object.keys(candidate) as (keyof BatchListing)[]) {
    if (candidate[key] === undefined) delete candidate[key];
  }
  return batchListingSchema.safeParse(candidate).success ? candidate : undefined;
}

/**
 * The listing a refresh gets from a carried one: the token's generation, refresh-after and
 * expiry decoded from its version id, as the sweep's own listing decodes them. A token written
 * before issue 14 (no state in its version id) is read by the refresh, as in the sweep.
 */
export function fromBatchListing(name: string, carried: BatchListing): RefreshListing {
  const version = decodeTokenVersion(carried.versionId);
  const date = (seconds: number | undefined) => (seconds === undefined ? undefined : new Date(seconds * 1000));
  return {
    name,
    failures: carried.failures ?? 0,
    ...(version
      ? { generation: version.generation, refreshAfter: version.refreshAfter, expiresAt: version.expiresAt }
      : {}),
    ...(carried.versionId !== undefined ? { versionId: carried.versionId } : {}),
    ...(carried.clientVersion !== undefined ? { clientVersion: carried.clientVersion } : {}),
    ...(carried.failedClientVersion !== undefined ? { failedClientVersion: carried.failedClientVersion } : {}),
    ...(carried.lastError !== undefined ? { lastError: carried.lastError } : {}),
    ...(carried.nextAttempt !== undefined ? { nextAttempt: date(carried.nextAttempt) } : {}),
    ...(carried.failedAt !== undefined ? { failedAt: date(carried.failedAt) } : {}),
    ...(carried.legacyTags ? { legacyTags: true } : {}),
    ...(carried.writeBudget !== undefined ? { writeBudget: carried.writeBudget } : {}),
  };
}

/** One fan-out event, encoded, and the credentials it hands off. */
export interface BatchEvent {
  credentials: string[];
  payload: Uint8Array;
}

/** What every event of a sweep's fan-out shares. */
export interface BatchEventOptions {
  /** When the sweep listed. */
  listedAt: Date;
  /** The write rate of a batch of this many credentials (its share of the sweep's). */
  share: (size: number) => number | undefined;
  /** Default {@link MAX_BATCH_PAYLOAD_BYTES}. */
  maxBytes?: number;
}

const encoder = new TextEncoder();

// Bytes of a batch event besides its names and listings, with room to spare: the action, the
// keys, a write rate of up to 24 characters, listedAt.
const ENVELOPE_BYTES = 160;

/**
 * The `refresh-batch` events for one batch: every name once, with its listing when it has a
 * carryable one, over as few events as keep each within `maxBytes` (one, unless the batch is in
 * the thousands). Each event carries its own share of the write rate.
 *
 * @example
 * ```ts
 * for (const e of batchEvents(names, listingsByName, { listedAt, share })) await invoke(e.payload);
 * ```
 */
export function batchEvents(
  names: readonly string[],
  listings: ReadonlyMap<string, store.CredentialListing>,
  options: BatchEventOptions,
): BatchEvent[] {
  const maxBytes = options.maxBytes ?? MAX_BATCH_PAYLOAD_BYTES;
  const groups: { names: string[]; carried: Record<string, BatchListing> }[] = [];
  let current = { names: [] as string[], carried: {} as Record<string, BatchListing> };
  let bytes = ENVELOPE_BYTES;
  for (const name of names) {
    const listed = listings.get(name);
    const carried = listed === undefined ? undefined : toBatchListing(listed);
    // `"name",` in credentials, and `"name":{…},` in listings.
    const nameBytes = encoder.encode(JSON.stringify(name)).length + 1;
    const entryBytes = nameBytes + (carried ? nameBytes + encoder.encode(JSON.stringify(carried)).length + 1 : 0);
    if (current.names.length > 0 && bytes + entryBytes > maxBytes) {
      groups.push(current);
      current = { names: [], carried: {} };
      bytes = ENVELOPE_BYTES;
    }
    current.names.push(name);
    if (carried) current.carried[name] = carried;
    bytes += entryBytes;
  }
  if (current.names.length > 0) groups.push(current);
  return groups.map((g) => {
    const event: RotatorEvent = {
      action: 'refresh-batch',
      credentials: g.names,
      writesPerSecond: options.share(g.names.length),
      ...(Object.keys(g.carried).length > 0
        ? { listedAt: Math.floor(options.listedAt.getTime() / 1000), listings: g.carried }
        : {}),
    };
    return { credentials: g.names, payload: encoder.encode(JSON.stringify(event)) };
  });
}

/**
 * The part of a schedule interval after `listedAt` in which a batch trusts the listings it
 * carries: the part a tick's writes are planned into (the sweep's INTERVAL_SHARE), so a healthy
 * batch starts every refresh inside it. Past it the batch describes instead, as with names only:
 * an event that waited in Lambda's queue (up to one interval, FunctionEventInvokeConfig) or a
 * batch still running then could otherwise act on a listing the next tick has overtaken (it
 * lists one interval after this one). The last tenth (6 s at the default minute) covers the two
 * ticks' start-up skew.
 */
export const LISTING_TRUST_SHARE = 0.9;

/** Until when a batch uses listings read at `listedAt` (epoch seconds), for a schedule of `intervalSeconds`. */
export function listingsTrustedUntil(listedAt: number, intervalSeconds: number): Date {
  return new Date((listedAt + LISTING_TRUST_SHARE * intervalSeconds) * 1000);
}

/** The listings of a batch event as a refresh takes them, by name. */
export function carriedListings(
  listings: Record<string, BatchListing> | undefined,
): Map<string, RefreshListing> | undefined {
  if (listings === undefined) return undefined;
  return new Map(Object.entries(listings).map(([name, carried]) => [name, fromBatchListing(name, carried)]));
}
