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
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

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
// Secrets Manager's own request limit is 65 KiB for a secret value; a request far above any real
// one is refused rather than buffered.
const MAX_BODY_BYTES = 1024 * 1024;

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

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) request.destroy(new Error('request body over 1 MiB'));
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
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
  const upstream = new URL(target);
  if (upstream.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(upstream.hostname)) {
    throw new Error(`the throttling proxy forwards to a loopback http endpoint only, not ${target}`);
  }
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

  const server: Server = createServer(async (request, response) => {
    try {
      const body = await readBody(request);
      const operation = secretsManagerOperation(request.headers['x-amz-target']);
      const isWrite = operation !== undefined && THROTTLED_WRITES.has(operation);
      if (isWrite && !window.admit()) {
        counts.throttled++;
        counts.throttledByOperation[operation] = (counts.throttledByOperation[operation] ?? 0) + 1;
        response.writeHead(400, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': `throttled-${counts.throttled}`,
        });
        response.end(THROTTLING_BODY);
        return;
      }
      if (isWrite) counts.forwardedWrites++;
      else counts.forwardedOther++;
      const forwarded = httpRequest(
        {
          host: upstream.hostname.replace(/^\[|\]$/g, ''),
          port: upstream.port,
          method: request.method,
          path: request.url,
          headers: { ...request.headers, host: upstream.host, 'content-length': String(body.length) },
          timeout: 60_000,
        },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      forwarded.on('timeout', () => forwarded.destroy(new Error('moto did not answer within 60 s')));
      forwarded.on('error', (error) => {
        if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
        response.end(`throttling proxy: ${error.message}`);
      });
      forwarded.end(body);
    } catch (error) {
      if (!response.headersSent) response.writeHead(400, { 'content-type': 'text/plain' });
      response.end(`throttling proxy: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts: () => ({
      ...counts,
      throttledByOperation: { ...counts.throttledByOperation },
      peakWritesPerSecond: window.peak,
    }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
