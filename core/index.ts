/**
 * `token-rotator/core`: what a program that works with token-rotator's secrets needs besides the
 * reader — the error classes (switch on `code`), the token record and its parser, the version id
 * of a token write, and the input types of the Pulumi side. The rotator's internals (issuers,
 * store, tags, KMS signing) are not part of the package's API.
 *
 * @example
 * ```ts
 * import { parseTokenRecord, isTokenRotatorError } from 'token-rotator/core';
 *
 * try {
 *   const record = parseTokenRecord(secretString, 'sirv-prod');
 * } catch (e) {
 *   if (isTokenRotatorError(e) && e.code === 'InvalidTokenRecord') console.error(e.message);
 * }
 * ```
 *
 * @packageDocumentation
 */
export {
  type AnyTokenRotatorError,
  blocksUntilClientChanges,
  type ErrorCode,
  InternalError,
  InvalidConfigurationError,
  InvalidCredentialsError,
  InvalidTokenRecordError,
  IssuerUnavailableError,
  isTokenRotatorError,
  MalformedResponseError,
  StoreError,
  TokenExpiredError,
  TokenRotatorError,
  type TokenRotatorErrorOptions,
  VersionLimitExceededError,
} from './errors';
export { type AssertionAlgorithm, type AssertionKey, assertionPublicKey } from './issuers';
export type { IssuerConfigInput, IssuerKindName } from './issuers/config';
export type { RefreshPolicyInput } from './policy';
export {
  DEFAULT_PREFIX,
  NEWER_TOKEN_RECORD_REASON,
  parseTokenRecord,
  secondsToExpiry,
  TOKEN_RECORD_VERSION,
  type TokenRecord,
} from './token';
export { decodeTokenVersion, type TokenVersion } from './token-version';
