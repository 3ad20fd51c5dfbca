/**
 * `getToken(name)`: the one-call way to read a token, for code that wants no reader object of its
 * own (the pattern of Powertools' `getSecret`). Behind it, one default {@link TokenReader} per
 * prefix, made on first use with every default: the process's default Secrets Manager client and
 * its cache, which every `new TokenReader()` without a client of its own shares too.
 */
import type { TokenRecord } from '../core/token';
import { LruMap } from './lru-map';
import { DEFAULT_PREFIX, TokenReader } from './token-reader';

/** Options of {@link getToken}. */
export interface GetTokenOptions {
  /** Secret name prefix the credential was deployed with. Default `token-rotator/`. */
  prefix?: string;
  /** Read the secret now instead of answering from the cache (Powertools' `forceFetch`). */
  forceFetch?: boolean;
}

// One default reader per prefix. A reader keeps no per-credential state of its own (the shared
// cache does, bounded), so one rebuilt after being forgotten loses nothing: bounded all the same,
// for a prefix derived from request input.
const defaultReaders = new LruMap<string, TokenReader>(100);

/**
 * The current token record of credential `name`, through the default {@link TokenReader} of
 * `options.prefix`: read from Secrets Manager only when due, never past its `expiresAt`. It shares
 * its cache with every `new TokenReader()` made without a client. For a client, clock or rotator of
 * your own, make a `TokenReader` instead.
 *
 * @throws {@link TokenExpiredError} when the only token available is past its `expiresAt`.
 * @throws {@link StoreError} or {@link InvalidTokenRecordError} when no token could be read at all.
 * @throws {@link InvalidConfigurationError} for a name that no credential can have, or a prefix
 *   that no credential can be deployed under.
 *
 * @example
 * ```ts
 * import { getToken } from 'token-rotator/reader';
 *
 * const { accessToken } = await getToken('sirv-prod');
 * ```
 */
export async function getToken(name: string, options: GetTokenOptions = {}): Promise<TokenRecord> {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  let reader = defaultReaders.get(prefix);
  if (reader === undefined) {
    reader = new TokenReader({ prefix });
    defaultReaders.set(prefix, reader);
  }
  if (options.forceFetch === true) reader.invalidate(name);
  return reader.getToken(name);
}
