/**
 * Turns an issuer configuration into a token record ready to store: obtain the token, check the
 * write budget against its real lifetime, and plan its refresh. Shared by the provider (first
 * token) and the rotator (every refresh); knows nothing of AWS.
 */

import { MalformedResponseError } from './errors';
import type { IssuerConfig } from './issuers/config';
import { obtainToken } from './issuers/obtain';
import type { IssueContext, IssuedToken } from './issuers/types';
import {
  adaptedRefreshAfter,
  assertWriteBudget,
  computeRefreshAfter,
  type RefreshPolicy,
  writeBudgetBreached,
} from './policy';
import { MAX_SECRET_BYTES, TOKEN_RECORD_VERSION, type TokenRecord } from './token';

/** What {@link issueTokenRecord} needs besides the issuer's own seams. */
export interface IssueRecordInput {
  /** Credential name, as in the secret names. */
  credential: string;
  /** The `issuer` object of the client document, validated where it was read. */
  issuer: IssuerConfig;
  policy: RefreshPolicy;
  /** Generation of the record this one replaces (0 for the first token). */
  previousGeneration: number;
  /** Jitter seam: a number in [0, 1). */
  random?: () => number;
  /**
   * `enforce` (default, `pulumi up`): a token whose real lifetime breaks the write budget is an
   * InvalidConfiguration error. `adapt` (run time): the valid token is kept, its refresh moved as
   * late as the margin allows; the caller reports the breach (see `writeBudgetBreached`).
   */
  writeBudget?: 'enforce' | 'adapt';
}

/**
 * Obtains a fresh token and wraps it in a token record.
 *
 * @throws the issuer's classified errors, or `InvalidConfigurationError` when the token's real
 * lifetime breaks the write budget.
 *
 * @example
 * ```ts
 * const record = await issueTokenRecord(
 *   { credential: 'sirv-prod', issuer, policy: resolvePolicy(), previousGeneration: 0 },
 *   { credential: 'sirv-prod' },
 * );
 * ```
 */
export async function issueTokenRecord(input: IssueRecordInput, context: IssueContext): Promise<TokenRecord> {
  const token = await obtainToken(input.issuer, context);
  return toTokenRecord(token, input);
}

/**
 * Wraps an issued token in a token record: checks the write budget against its real lifetime
 * and plans its refresh.
 */
export function toTokenRecord(token: IssuedToken, input: IssueRecordInput): TokenRecord {
  const lifetimeSeconds = lifetimeSecondsOf(token);
  let refreshAfter: Date;
  if (input.writeBudget === 'adapt' && writeBudgetBreached(lifetimeSeconds, input.policy)) {
    // A vendor that shortened its tokens: throwing would discard a valid token and block the credential.
    refreshAfter = adaptedRefreshAfter(token, input.policy);
  } else {
    assertWriteBudget(lifetimeSeconds, input.policy, input.credential);
    refreshAfter = computeRefreshAfter(token, input.policy, input.random);
  }
  const record: TokenRecord = {
    version: TOKEN_RECORD_VERSION,
    credential: input.credential,
    issuer: input.issuer.kind,
    accessToken: token.accessToken,
    tokenType: token.tokenType,
    ...(token.scope && token.scope.length > 0 ? { scope: token.scope } : {}),
    issuedAt: token.issuedAt.toISOString(),
    expiresAt: token.expiresAt.toISOString(),
    refreshAfter: refreshAfter.toISOString(),
    generation: input.previousGeneration + 1,
  };
  // Checked here, not left to PutSecretValue: a store error would be retried every tick, asking
  // the issuer for another oversized token each time. This answer cannot be stored; the next may.
  const bytes = Buffer.byteLength(JSON.stringify(record), 'utf8');
  if (bytes > MAX_SECRET_BYTES) {
    throw new MalformedResponseError(
      `Credential "${input.credential}": the issuer's token makes a ${bytes}-byte token record, over Secrets Manager's ${MAX_SECRET_BYTES}-byte limit; it is not stored. Report it to the issuer; the refresh is retried after a back-off.`,
      { credential: input.credential, reason: 'secret-too-large' },
    );
  }
  return record;
}

/** Whole seconds from a token's `issuedAt` to its `expiresAt`. */
export function lifetimeSecondsOf(token: { issuedAt: Date | string; expiresAt: Date | string }): number {
  const ms = (d: Date | string) => (typeof d === 'string' ? Date.parse(d) : d.getTime());
  return Math.floor((ms(token.expiresAt) - ms(token.issuedAt)) / 1000);
}
