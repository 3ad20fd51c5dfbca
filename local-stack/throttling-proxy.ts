/**
 * A loopback HTTP proxy in front of moto that throttles Secrets Manager writes as a busy account
 * does: past `writesPerSecond` write calls within one second, a write is answered with Secrets
 * Manager's throttling error and never reaches moto. Reads pass untouched.
 *
 * AWS documents the quota as "Combined rate of PutSecretValue, RemoveRegionsFromReplication,
 * ReplicateSecretToRegion, StopReplicationToReplica, UpdateSecret, and UpdateSecretVersionStage API
 * requests: 50 per second" and "Combined rate of CreateSecret, DeleteSecret, RestoreSecret API
 * requests: 50 per second" (Secrets Manager quotas); calls over it fail with `ThrottlingException`
 * ("Rate exceeded"). One combined window over every write here is the stricter reading.
 */
import { startForwardingProxy } from './forwarding-proxy';

/** The Secrets Manager operations the proxy counts as writes (the `X-Amz-Target` suffix). */
export const THROTTLED_WRITES: ReadonlySet<string> = new Set([
  'CreateSecret',
  'PutSecretValue',
  'TagResource',
  'UntagResource',
  'UpdateSecret',
  'DeleteSecret',
]);

/** Secrets Manager's published write quota, per second. */
export const SECRETS_MANAGER_WRITES_PER_SECOND = 50;

/** The JSON error body Secrets Manager answers a throttled call with (HTTP 400). */
export const THROTTLING_BODY = JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' });

const TARGET_PREFIX = 'secretsmanager.';
const WINDOW_MS = 1000;
// A provider run of hundreds of credentials keeps moto busy: an answer may take longer than the
// forwarding proxy's default allows.
const MOTO_TIMEOUT_MS = 60_000;

/** What the proxy saw, by operation. */
export interface ThrottlingCounts {
  /** Write calls passed on to moto. */
  forwardedWrites: number;
  /** Write calls answered with `ThrottlingException`. */
  throttled: number;
  /** Every other call passed on to moto. */
  forwardedOther: number;
  /** Throttled calls by operation. */
  throttledByOperation: Record<string, number>;
  /** The most writes passed on within any one second. */
  peakWritesPerSecond: number;
}

/** The running proxy: point `AWS_ENDPOINT_URL_SECRETS_MANAGER` (or `AWS_ENDPOINT_URL`) at `endpoint`. */
export interface ThrottlingProxy {
  endpoint: string;
  /** A copy of the counts so far. */
  counts(): ThrottlingCounts;
  close(): Promise<void>;
}

export interface ThrottlingProxyOptions {
  /** Writes accepted within any one second; default {@link SECRETS_MANAGER_WRITES_PER_SECOND}. */
  writesPerSecond?: number;
  /** Milliseconds clock; default `performance.now`. */
  now?: () => number;
}

/** The Secrets Manager operation of a request, from its `X-Amz-Target` header (`secretsmanager.CreateSecret`). */
export function secretsManagerOperation(target: string | string[] | undefined): string | undefined {
  const value = Array.isArray(target) ? target[0] : target;
  if (value === undefined || !value.startsWith(TARGET_PREFIX)) return undefined;
  return value.slice(TARGET_PREFIX.length);
}

/**
 * A sliding one-second window of accepted writes. It holds at most `limit` timestamps: a write
 * over the limit is refused and not recorded, as a refused call costs the account nothing.
 */
export class WriteWindow {
  private readonly accepted: number[] = [];
  /** The most writes admitted within any one second so far. */
  peak = 0;

  constructor(
    private readonly limit: number,
    private readonly now: () => number,
  ) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new Error(`writesPerSecond must be a positive integer, not ${limit}`);
  }

  /** True when a write may pass now (and records it); false when it is to be throttled. */
  admit(): boolean {
    const now = this.now();
    while (this.accepted.length > 0 && (this.accepted[0] ?? 0) <= now - WINDOW_MS) this.accepted.shift();
    if (this.accepted.length >= this.limit) return false;
    this.accepted.push(now);
    this.peak = Math.max(this.peak, this.accepted.length);
    return true;
  }
}

/** Starts the proxy on 127.0.0.1, forwarding to `target` (moto's endpoint, `http://127.0.0.1:port`). */
export async function startThrottlingProxy(
  target: string,
  options: ThrottlingProxyOptions = {},
): Promise<ThrottlingProxy> {
  const window = new WriteWindow(
    options.writesPerSecond ?? SECRETS_MANAGER_WRITES_PER_SECOND,
    options.now ?? (() => performance.now()),
  );
  const counts: Omit<ThrottlingCounts, 'peakWritesPerSecond'> = {
    forwardedWrites: 0,
    throttled: 0,
    forwardedOther: 0,
    throttledByOperation: {},
  };
  const proxy = await startForwardingProxy({
    target,
    name: 'throttling proxy',
    timeoutMs: MOTO_TIMEOUT_MS,
    handle: async (request, forward) => {
      const operation = secretsManagerOperation(request.headers['x-amz-target']);
      const isWrite = operation !== undefined && THROTTLED_WRITES.has(operation);
      if (isWrite && !window.admit()) {
        counts.throttled++;
        counts.throttledByOperation[operation] = (counts.throttledByOperation[operation] ?? 0) + 1;
        return {
          status: 400,
          headers: {
            'content-type': 'application/x-amz-json-1.1',
            'x-amzn-requestid': `throttled-${counts.throttled}`,
          },
          body: THROTTLING_BODY,
        };
      }
      if (isWrite) counts.forwardedWrites++;
      else counts.forwardedOther++;
      return forward();
    },
  });
  return {
    ...proxy,
    counts: () => ({
      ...counts,
      throttledByOperation: { ...counts.throttledByOperation },
      peakWritesPerSecond: window.peak,
    }),
  };
}
