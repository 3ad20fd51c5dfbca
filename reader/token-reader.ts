/**
 * The workload side of token-rotator: reads `PREFIX NAME/token` from Secrets Manager, caches the
 * record until the rotator says it is due (`refreshAfter`), and never hands out an expired token.
 * The parts live beside it, one job each: the cache (token-cache.ts), one read and what its
 * failure means (secret-read.ts, aws-failure.ts), the authorized request and its 401 retry
 * (authorized-fetch.ts), and the rotator asked on a rejected token (rotator-escalation.ts).
 *
 * This file must never import `@pulumi/pulumi` (directly or through core/ modules that do):
 * workloads load it in their own processes, Lambdas and containers.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  InvalidConfigurationError,
  isTokenRotatorError,
  StoreError,
  TokenExpiredError,
  type TokenRotatorError,
} from '../core/errors';
import { layoutSecretNames } from '../core/store/names';
import {
  CREDENTIAL_NAME_RULE,
  DEFAULT_PREFIX,
  isCredentialName,
  isPrefix,
  PREFIX_RULE,
  type TokenRecord,
} from '../core/token';
import { authorizationFor, authorizedFetch, type SendPreparer } from './authorized-fetch';
import {
  DEFAULT_ROTATOR_MIN_INTERVAL_SECONDS,
  RotatorEscalation,
  type RotatorInvokeOptions,
} from './rotator-escalation';
import { readTokenSecret } from './secret-read';
import { type CacheEntry, sharedTokenCache, type TokenCache } from './token-cache';

export { authorizationFor, DEFAULT_PREFIX, DEFAULT_ROTATOR_MIN_INTERVAL_SECONDS, type RotatorInvokeOptions };
/** Seconds to wait after a failed read before reading again (while the cached token is served). */
export const DEFAULT_RETRY_SECONDS = 5;
/** Seconds between re-reads while the stored record is past its `refreshAfter` (the rotator is behind). */
export const DEFAULT_RECHECK_SECONDS = 30;

/** Options of {@link TokenReader}. Every field has a default that works against AWS. */
export interface TokenReaderOptions {
  /** Secret name prefix; must match the one the credentials were deployed with. Default `token-rotator/`. */
  prefix?: string;
  /**
   * Secrets Manager client. Without one, the process's default client is used (standard
   * configuration, made on first read), shared with {@link getToken} and every reader without one.
   */
  client?: SecretsManagerClient;
  /**
   * Where tokens and recent failures are kept (bounded, see {@link TokenCache}). By default one
   * cache per client per process: readers that share a client (or use the default one, as
   * `getToken` does) share their reads. Pass a `new TokenCache()` to keep one of your own, or to
   * change its size.
   */
  cache?: TokenCache;
  /** Clock seam. */
  now?: () => Date;
  /** HTTP seam for {@link TokenReader.fetch}; the global `fetch` by default. */
  fetch?: typeof fetch;
  /** When set, a token the API still rejects after a re-read makes the reader ask the rotator for a new one. */
  rotator?: RotatorInvokeOptions;
  /** Seconds between reads after a failed read (how long a failure is remembered). Default 5. */
  retrySeconds?: number;
  /** Seconds between reads while the stored record is already past `refreshAfter`. Default 30. */
  recheckSeconds?: number;
  /**
   * Told about failures the reader absorbs: a failed re-read while a cached token is still served,
   * a failed rotator invocation. Use it to log or count them; what it throws is ignored.
   */
  onError?: (error: Error, credential: string) => void;
}

/** Per-call options of {@link TokenReader.fetch}. */
export interface TokenFetchOptions {
  /** HTTP implementation for this call only; the reader's own otherwise. */
  fetch?: typeof fetch;
  /**
   * Called just before each request this call sends (up to three: the first, after a re-read,
   * after the rotator), with that request's init and the access token it carries; returns the
   * init to send. For a caller that must know every token it sent (to redact them from an answer
   * it quotes) or give each request its own time limit (a fresh `signal`).
   */
  prepareSend?: SendPreparer;
}

// The client of every reader given none: one per process, made on first read.
let defaultClient: SecretsManagerClient | undefined;

/**
 * Reads short-lived access tokens that the token-rotator keeps fresh in Secrets Manager.
 *
 * - reads `PREFIX NAME/token` only when due: once, then again at the record's `refreshAfter`;
 * - never returns a token past its `expiresAt` (throws {@link TokenExpiredError} instead);
 * - concurrent callers share one in-flight read, and readers that share a client share a cache;
 * - when a re-read fails while the cached token is still valid, keeps serving it and retries
 *   after a short back-off (`retrySeconds`), not on every call;
 * - remembers at most 1000 credentials' tokens (least recently used forgotten first) and, apart
 *   from them, a failed read only until the next read is due: unknown names cannot grow it;
 * - a failed read names its cause and its fix (no AWS credentials, no region, access denied, no
 *   such secret, throttling, an outage) in a {@link StoreError} whose `reason` says which;
 * - {@link TokenReader.fetch} adds the `Authorization` header and, on a 401, re-reads the secret
 *   once and retries once (then, with `rotator` set, asks the rotator for a new token).
 *
 * @example
 * ```ts
 * import { TokenReader } from 'token-rotator/reader';
 *
 * const reader = new TokenReader(); // module scope; shares its cache with getToken()
 *
 * export async function handler() {
 *   const response = await reader.fetch('sirv-prod', 'https://api.sirv.com/v2/account');
 *   // or, for another HTTP client:
 *   const { accessToken, tokenType } = await reader.getToken('sirv-prod');
 * }
 * ```
 */
export class TokenReader {
  private readonly prefix: string;
  private readonly client: SecretsManagerClient | undefined;
  private readonly cache: TokenCache;
  private readonly now: () => Date;
  private readonly fetchImpl: typeof fetch | undefined;
  private readonly rotator: RotatorEscalation | undefined;
  private readonly retryMs: number;
  private readonly recheckMs: number;
  private readonly onError: ((error: Error, credential: string) => void) | undefined;
  private lastName: string | undefined;
  private lastSecretId = '';

  constructor(options: TokenReaderOptions = {}) {
    this.prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX);
    this.client = options.client;
    this.cache = options.cache ?? sharedTokenCache(options.client);
    this.now = options.now ?? (() => new Date());
    this.fetchImpl = options.fetch;
    this.retryMs = seconds(options.retrySeconds ?? DEFAULT_RETRY_SECONDS, 'retrySeconds');
    this.recheckMs = seconds(options.recheckSeconds ?? DEFAULT_RECHECK_SECONDS, 'recheckSeconds');
    this.onError = options.onError;
    const rotator = options.rotator;
    if (rotator !== undefined) {
      if (typeof rotator.functionName !== 'string' || rotator.functionName === '') {
        throw new InvalidConfigurationError('TokenReader: rotator.functionName must be a non-empty string.', {
          field: 'rotator.functionName',
        });
      }
      const minIntervalMs = seconds(
        rotator.minIntervalSeconds ?? DEFAULT_ROTATOR_MIN_INTERVAL_SECONDS,
        'rotator.minIntervalSeconds',
      );
      this.rotator = new RotatorEscalation(rotator.functionName, rotator.client, minIntervalMs, {
        now: () => this.nowMs(),
        readAfterRefresh: (name) => this.readAfterRefresh(name),
        report: (error, name) => this.report(error, name),
      });
    }
  }

  /**
   * The current token record of credential `name`, read from Secrets Manager only when due.
   *
   * @throws {@link TokenExpiredError} when the only token available is past its `expiresAt`.
   * @throws {@link StoreError} or `InvalidTokenRecordError` when no token could be read at all;
   *   a StoreError's `reason` names the cause (`no-aws-credentials`, `no-region`, `access-denied`,
   *   `not-found`, `throttled`, `unavailable`, …) and its message the fix.
   */
  async getToken(name: string): Promise<TokenRecord> {
    checkCredentialName(name);
    const now = this.nowMs();
    const entry = this.entry(name, now);
    // Inside the interval the cached answer stands, including a recent failure (no read storm).
    if (now < entry.nextReadAt) return this.answer(name, entry, now);
    return this.read(name, entry);
  }

  /** The access token of credential `name` (see {@link TokenReader.getToken}). */
  async getAccessToken(name: string): Promise<string> {
    return (await this.getToken(name)).accessToken;
  }

  /** The `Authorization` header value for credential `name`, e.g. `Bearer eyJ…`. */
  async getAuthorizationHeader(name: string): Promise<string> {
    return authorizationFor(await this.getToken(name));
  }

  /**
   * `fetch` with `Authorization: <tokenType> <accessToken>` of credential `name`.
   * On a 401 the secret is re-read once (bypassing the cache) and the request retried once if the
   * token changed; when it is still rejected and `rotator` is configured, the rotator is asked
   * for a new token (rate limited) and the request retried once more. At most three requests are
   * sent; a body that cannot be replayed (a stream) is never retried.
   */
  async fetch(
    name: string,
    url: string | URL,
    init: RequestInit = {},
    options: TokenFetchOptions = {},
  ): Promise<Response> {
    const rotator = this.rotator;
    return authorizedFetch(
      {
        current: () => this.getToken(name),
        afterRejection: () => this.reReadAfterRejection(name),
        fromRotator: rotator === undefined ? undefined : () => rotator.refresh(name),
      },
      options.fetch ?? this.fetchImpl ?? globalThis.fetch,
      url,
      init,
      options.prepareSend,
    );
  }

  /**
   * Forgets the cached record of `name` (or of every credential under this reader's prefix), so
   * the next call reads the secret. Readers sharing the cache forget it too.
   */
  invalidate(name?: string): void {
    this.cache.forget(this.prefix, name === undefined ? undefined : this.secretName(name));
  }

  /** The name of the token secret of credential `name` under this reader's prefix. */
  secretName(name: string): string {
    return layoutSecretNames(name, this.prefix).token;
  }

  private entry(name: string, now: number): CacheEntry {
    // The last name's secret id is kept: a workload mostly asks for the same credential, and
    // building the id anew costs a string to hash on every cache hit.
    if (name !== this.lastName) {
      this.lastSecretId = this.secretName(name);
      this.lastName = name;
    }
    return this.cache.entry(this.lastSecretId, this.prefix, now);
  }

  private secretsClient(): SecretsManagerClient {
    if (this.client !== undefined) return this.client;
    defaultClient ??= new SecretsManagerClient({});
    return defaultClient;
  }

  private nowMs(): number {
    return this.now().getTime();
  }

  /** The cached record when it is still valid; otherwise the error that explains why there is none. */
  private answer(name: string, entry: CacheEntry, now: number): TokenRecord {
    const record = entry.record;
    if (record !== undefined && now < Date.parse(record.expiresAt)) return record;
    if (record !== undefined) throw this.expired(name, record, entry.lastError);
    throw entry.lastError ?? new StoreError(`Credential "${name}": no token has been read yet.`, { credential: name });
  }

  /** One read for every concurrent caller: the first starts it, the others await the same promise. */
  private read(name: string, entry: CacheEntry): Promise<TokenRecord> {
    entry.reading ??= this.readOnce(name, entry).finally(() => {
      entry.reading = undefined;
    });
    return entry.reading;
  }

  private async readOnce(name: string, entry: CacheEntry): Promise<TokenRecord> {
    let fresh: TokenRecord;
    try {
      fresh = await readTokenSecret(this.secretsClient(), {
        credential: name,
        prefix: this.prefix,
        secretId: entry.secretId,
      });
    } catch (caught) {
      const error = asClassified(caught, name);
      const now = this.nowMs();
      entry.lastError = error;
      const cached = entry.record;
      const servingStale = cached !== undefined && now < Date.parse(cached.expiresAt);
      // While a cached token is served, the back-off ends no later than its expiry (then read again).
      entry.nextReadAt = servingStale ? Math.min(now + this.retryMs, Date.parse(cached.expiresAt)) : now + this.retryMs;
      this.cache.settle(entry);
      if (servingStale) this.report(error, name);
      return this.answer(name, entry, now);
    }
    const now = this.nowMs();
    const cached = entry.record;
    // Never step back to an older generation (a stale replica) while the newer one is valid.
    const keep =
      cached !== undefined && cached.generation > fresh.generation && now < Date.parse(cached.expiresAt)
        ? cached
        : fresh;
    entry.record = keep;
    entry.lastError = undefined;
    entry.nextReadAt = this.nextReadAt(keep, now);
    this.cache.settle(entry);
    return this.answer(name, entry, now);
  }

  private nextReadAt(record: TokenRecord, now: number): number {
    const refreshAfter = Date.parse(record.refreshAfter);
    const expiresAt = Date.parse(record.expiresAt);
    // An expired record means the rotator is down: look again soon, but not on every call.
    if (now >= expiresAt) return now + this.retryMs;
    if (now < refreshAfter) return Math.min(refreshAfter, expiresAt);
    // Past refreshAfter the rotator is behind: serve this token while valid, recheck periodically.
    return Math.min(now + this.recheckMs, expiresAt);
  }

  /**
   * The record to retry with after a 401. Joins a read in flight; forces one otherwise, at most
   * once per `retrySeconds`, so a storm of 401s cannot turn into a storm of reads.
   */
  private async reReadAfterRejection(name: string): Promise<TokenRecord> {
    const now = this.nowMs();
    const entry = this.entry(name, now);
    if (entry.reading !== undefined) return entry.reading;
    if (entry.lastForcedReadAt !== undefined && now - entry.lastForcedReadAt < this.retryMs) {
      return this.answer(name, entry, now);
    }
    entry.lastForcedReadAt = now;
    return this.read(name, entry);
  }

  /** The token after the rotator refreshed `name`: a read that started before it wrote would return the old one. */
  private async readAfterRefresh(name: string): Promise<TokenRecord> {
    const entry = this.entry(name, this.nowMs());
    await entry.reading?.catch(() => undefined);
    return this.read(name, entry);
  }

  private expired(name: string, record: TokenRecord, cause: Error | undefined): TokenExpiredError {
    return new TokenExpiredError(
      `Credential "${name}": the stored token expired at ${record.expiresAt} (generation ${record.generation}) ` +
        `and no newer one could be read from "${this.secretName(name)}". The rotator has not refreshed it: ` +
        `check the TokenRotator Lambda, its RefreshFailed / SecondsToExpiry alarms and its logs for this credential.`,
      { credential: name, reason: cause === undefined ? 'not-refreshed' : 'read-failed', cause },
    );
  }

  private report(error: Error, name: string): void {
    try {
      this.onError?.(error, name);
    } catch {
      // An observer must not turn a served token into a failure.
    }
  }
}

function checkCredentialName(name: string): void {
  if (!isCredentialName(name)) {
    throw new InvalidConfigurationError(
      `TokenReader: the credential name must be ${CREDENTIAL_NAME_RULE}, the NAME of PREFIX NAME/token.`,
      { field: 'name' },
    );
  }
}

/** The prefix rule of the store: a prefix the rotator could never have written under finds no secret. */
function checkPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string') {
    throw new InvalidConfigurationError('TokenReader: prefix must be a string.', { field: 'prefix' });
  }
  if (!isPrefix(prefix)) {
    const shown = prefix.length > 64 ? `${prefix.slice(0, 64)}…` : prefix;
    throw new InvalidConfigurationError(
      `TokenReader: prefix ${JSON.stringify(shown)} cannot be a token-rotator prefix: it must be ${PREFIX_RULE}. Use the prefix the credentials were deployed with.`,
      { field: 'prefix', reason: 'invalid-prefix' },
    );
  }
  return prefix;
}

function seconds(value: number, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidConfigurationError(`TokenReader: ${field} must be a number of seconds, 0 or more.`, { field });
  }
  return value * 1000;
}

/**
 * What a failed read is remembered as: our own classified error. Anything else (a bug, a
 * platform error) is reduced to its kind, so no foreign object, and nothing it references,
 * is kept.
 */
function asClassified(value: unknown, name: string): TokenRotatorError {
  if (isTokenRotatorError(value)) return value;
  const kind = value instanceof Error ? value.name : typeof value;
  return new StoreError(`Credential "${name}": reading the token secret failed unexpectedly (${kind}).`, {
    credential: name,
    reason: 'unexpected',
  });
}
