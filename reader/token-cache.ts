/**
 * What readers remember between calls: the token record of each credential read, and for a
 * short while the failure of a name that could not be read. Both are bounded, whatever names the
 * reader is asked for: a workload that derives the name from request input (a tenant id) cannot
 * grow it.
 */
import type { TokenRotatorError } from '../core/errors';
import type { TokenRecord } from '../core/token';
import { LruMap } from './lru-map';

/** How many credentials' tokens a {@link TokenCache} keeps, and how many recent failures, unless told otherwise. */
export const DEFAULT_MAX_CACHED_CREDENTIALS = 1000;

/** Options of {@link TokenCache}. */
export interface TokenCacheOptions {
  /**
   * The most credentials whose token is kept (the least recently used is forgotten first, and
   * read again when next asked for), and, apart from them, the most names whose last read failed.
   * Default 1000.
   */
  maxEntries?: number;
}

/**
 * What the cache knows of one token secret.
 *
 * @internal
 */
export interface CacheEntry {
  readonly secretId: string;
  /** The prefix it was read under, so a reader can forget its own credentials only. */
  readonly prefix: string;
  record: TokenRecord | undefined;
  /** Epoch ms before which the secret is not read again (the cached answer stands). */
  nextReadAt: number;
  /** Why the last read failed, as one of our classified errors (never the SDK's); cleared by a successful read. */
  lastError: TokenRotatorError | undefined;
  reading: Promise<TokenRecord> | undefined;
  /** Epoch ms of the last read forced by a 401, which bounds re-reads under a storm of 401s. */
  lastForcedReadAt: number | undefined;
}

/**
 * The memory of one or more {@link TokenReader}s, keyed by token secret name (so readers of
 * several prefixes may share one). Share a cache only among readers of one AWS account and
 * region: the same secret name elsewhere is another secret.
 *
 * - tokens: at most `maxEntries` credentials, least recently used forgotten first;
 * - failures: a name that has never been read successfully is remembered only until its next read
 *   is due (the reader's `retrySeconds`), and at most `maxEntries` such names, the oldest failure
 *   forgotten first. A flood of unknown names therefore never pushes a cached token out. What is
 *   kept of a failure is the reader's classified error (code, reason, message), nothing of the
 *   SDK's response.
 *
 * @example
 * ```ts
 * import { TokenCache, TokenReader } from 'token-rotator/reader';
 *
 * // A reader for 5,000 tenants' credentials, with a cache of its own.
 * const reader = new TokenReader({ cache: new TokenCache({ maxEntries: 5_000 }) });
 * ```
 */
export class TokenCache {
  readonly maxEntries: number;
  private readonly tokens: LruMap<string, CacheEntry>;
  // Names with no token: a first read in flight or a recent failure. Kept in the order their
  // failures happened (looked up without reordering), so the oldest failure is the first to go.
  private readonly misses: LruMap<string, CacheEntry>;

  constructor(options: TokenCacheOptions = {}) {
    const max = options.maxEntries ?? DEFAULT_MAX_CACHED_CREDENTIALS;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError('TokenCache: maxEntries must be a whole number, 1 or more.');
    }
    this.maxEntries = max;
    this.tokens = new LruMap(max);
    this.misses = new LruMap(max);
  }

  /** How many credentials have a token here, and how many names a recent failure. */
  get size(): { tokens: number; failures: number } {
    return { tokens: this.tokens.size, failures: this.misses.size };
  }

  /** Forgets every token and failure. */
  clear(): void {
    this.tokens.clear();
    this.misses.clear();
  }

  /**
   * The entry of `secretId`: its cached token, its recent failure, or a new empty one (whose
   * read the caller starts at once).
   *
   * @internal
   */
  entry(secretId: string, prefix: string, now: number): CacheEntry {
    const cached = this.tokens.get(secretId) ?? this.misses.peek(secretId);
    if (cached !== undefined) return cached;
    this.forgetPastFailures(now);
    const entry: CacheEntry = {
      secretId,
      prefix,
      record: undefined,
      nextReadAt: 0,
      lastError: undefined,
      reading: undefined,
      lastForcedReadAt: undefined,
    };
    this.misses.set(secretId, entry);
    return entry;
  }

  /**
   * Files `entry` after a read of it settled: a first token moves it among the tokens, a failure
   * becomes the newest failure. An entry forgotten meanwhile (invalidate, eviction) stays forgotten.
   *
   * @internal
   */
  settle(entry: CacheEntry): void {
    if (this.misses.peek(entry.secretId) !== entry) return;
    if (entry.record === undefined) {
      this.misses.set(entry.secretId, entry);
      return;
    }
    this.misses.delete(entry.secretId);
    this.tokens.set(entry.secretId, entry);
  }

  /**
   * Forgets `secretId`, or with no argument every entry read under `prefix`.
   *
   * @internal
   */
  forget(prefix: string, secretId?: string): void {
    if (secretId !== undefined) {
      this.tokens.delete(secretId);
      this.misses.delete(secretId);
      return;
    }
    for (const map of [this.tokens, this.misses]) {
      for (const [key, entry] of map.entries()) if (entry.prefix === prefix) map.delete(key);
    }
  }

  /** Drops failures whose back-off has passed: the next call reads again anyway. */
  private forgetPastFailures(now: number): void {
    for (const [key, entry] of this.misses.entries()) {
      if (entry.reading !== undefined || now < entry.nextReadAt) return;
      this.misses.delete(key);
    }
  }
}

// The cache of every reader built without a client of its own (getToken's too), and the caches
// of readers that share a client, one per client: one cache per process and account-region.
const DEFAULT_CLIENT = {};
const sharedCaches = new WeakMap<object, TokenCache>();

/**
 * The process-wide cache of readers that use `client` (`undefined`: the default client).
 *
 * @internal
 */
export function sharedTokenCache(client: object | undefined): TokenCache {
  const key = client ?? DEFAULT_CLIENT;
  let cache = sharedCaches.get(key);
  if (cache === undefined) {
    cache = new TokenCache();
    sharedCaches.set(key, cache);
  }
  return cache;
}
