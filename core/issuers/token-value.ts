/**
 * What an issued token may hold before it is stored or sent: it travels in an `Authorization`
 * header and inside a Secrets Manager secret, so it must be a valid header value and fit.
 */
import { MalformedResponseError } from '../errors';
import {
  ACCESS_TOKEN_PATTERN,
  MAX_ACCESS_TOKEN_LENGTH,
  MAX_SCOPE_ENTRIES,
  SCOPE_ENTRY_PATTERN,
  TOKEN_TYPE_PATTERN,
} from '../token';
import type { IssuedToken } from './types';

/**
 * Checks an issued token's values: visible ASCII only (no CR, LF, NUL or space inside the
 * token), at most {@link MAX_ACCESS_TOKEN_LENGTH} characters and a token type that is an HTTP
 * token; a scope that cannot be stored is dropped, never refused. The issuer sent it, so a failure is a
 * {@link MalformedResponseError} (transient: backed off, alerted, never blocking), and its
 * message names the field, never the value.
 */
export function assertStorableToken(token: IssuedToken, credential: string, kind: string): IssuedToken {
  const fail = (what: string, reason: string) =>
    new MalformedResponseError(
      `Credential "${credential}": ${kind} issuer returned ${what}; the token is not stored. Retry later, and report it to the issuer if it persists.`,
      { credential, reason },
    );
  if (token.accessToken.length > MAX_ACCESS_TOKEN_LENGTH) {
    throw fail(
      `a token of ${token.accessToken.length} characters (at most ${MAX_ACCESS_TOKEN_LENGTH})`,
      'token-too-large',
    );
  }
  if (!ACCESS_TOKEN_PATTERN.test(token.accessToken)) {
    throw fail(
      'a token with characters a header cannot carry (control characters, spaces or non-ASCII)',
      'invalid-token',
    );
  }
  if (!TOKEN_TYPE_PATTERN.test(token.tokenType)) {
    throw fail('a token_type that is not an HTTP authentication scheme', 'invalid-token-type');
  }
  return withStorableScope(token);
}

/**
 * Scope is informative (nothing in token-rotator acts on it), so a scope that cannot be stored
 * (over {@link MAX_SCOPE_ENTRIES} entries, an entry over 256 characters, or one that is not
 * visible ASCII) never costs the refresh: the token is stored without any scope. The whole scope
 * goes, not the odd entries: a partial list would claim the token lacks what it may well hold.
 */
function withStorableScope(token: IssuedToken): IssuedToken {
  const scope = token.scope;
  if (scope === undefined) return token;
  if (scope.length <= MAX_SCOPE_ENTRIES && scope.every((entry) => SCOPE_ENTRY_PATTERN.test(entry))) return token;
  const { scope: _dropped, ...rest } = token;
  return rest;
}
