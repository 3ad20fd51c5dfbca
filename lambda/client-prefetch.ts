/**
 * Reads ahead, in batches, the client documents a sweep's refreshes will need and the container
 * has not cached: a cold container's refresh then costs its write plus a twentieth of one
 * BatchGetSecretValue, instead of a GetSecretValue of its own. Batching is only ever a saving:
 * a name the batch did not bring back (a per-secret error, a failed or refused call) is read
 * alone by its refresh, exactly as without a prefetch, so no refresh fails because of it.
 */
import pLimit from 'p-limit';
import { type InvalidConfigurationError, TokenRotatorError } from '../core/errors';
import * as store from '../core/store';
import { chunk } from './plan';

/** Batch calls in flight at once: enough to stay ahead of the refreshes, few enough to leave the store's quota to them. */
const DEFAULT_IN_FLIGHT = 2;

/** A prefetched read: the document, the invalid-document error its single read would throw, or nothing (read alone). */
export type PrefetchedClient = store.ClientSecretVersion | InvalidConfigurationError | undefined;

/** A batch read refused as a whole: how many credentials it was for, and why (an AWS error name, or our error code). */
export interface BatchReadRefusal {
  credentials: number;
  reason: string;
}

/** The reads a {@link prefetchClientSecrets} started; each name's is handed out once. */
export interface ClientPrefetch {
  /** The prefetched read of `name`; `undefined` when none was started for it (or it was taken). */
  take(name: string): Promise<PrefetchedClient> | undefined;
  /** Starts no batch still queued (the refreshes are over); those in flight finish unused. */
  stop(): void;
}

/**
 * Starts reading the client documents of `names`, in order, {@link store.MAX_BATCH_CLIENT_READS}
 * per BatchGetSecretValue, with at most `inFlight` calls at once.
 */
export function prefetchClientSecrets(
  where: store.SecretStore,
  names: readonly string[],
  options: {
    inFlight?: number;
    /** Told of each batch call that failed as a whole (its names are then read alone). */
    onRefused?: ((refusal: BatchReadRefusal) => void) | undefined;
  } = {},
): ClientPrefetch {
  const limit = pLimit(options.inFlight ?? DEFAULT_IN_FLIGHT);
  const pending = new Map<string, Promise<PrefetchedClient>>();
  for (const batch of chunk([...new Set(names)], store.MAX_BATCH_CLIENT_READS)) {
    // A call that fails as a whole (throttled past the SDK's retries, a policy without
    // secretsmanager:BatchGetSecretValue, anything) leaves every name of it to a single read.
    const reads = limit(() => store.readClientSecrets(where, batch)).catch((e: unknown) => {
      try {
        options.onRefused?.({ credentials: batch.length, reason: refusalReason(e) });
      } catch {
        // Reporting is best effort: the fallback to single reads must happen whatever it does.
      }
      return new Map<string, Exclude<PrefetchedClient, undefined>>();
    });
    for (const name of batch)
      pending.set(
        name,
        reads.then((m) => m.get(name)),
      );
  }
  return {
    take(name) {
      const read = pending.get(name);
      pending.delete(name);
      return read;
    },
    stop() {
      limit.clearQueue();
      pending.clear();
    },
  };
}

/** The AWS error name a StoreError carries, else our code or the error's name: never a message. */
function refusalReason(e: unknown): string {
  if (e instanceof TokenRotatorError) return e.reason ?? e.code;
  return e instanceof Error ? e.name : typeof e;
}
