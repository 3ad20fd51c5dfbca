/**
 * `token-rotator/core`: what the provider, the rotator, the CLI and the reader share — issuers,
 * the token record, the Secrets Manager store, the refresh policy and the error classes.
 *
 * @example
 * ```ts
 * import { obtainToken, resolvePolicy, computeRefreshAfter } from 'token-rotator/core';
 * const token = await obtainToken({ kind: 'sirv', clientId, clientSecret }, { credential: 'sirv-prod' });
 * const refreshAfter = computeRefreshAfter(token, resolvePolicy());
 * ```
 */
export {
  type AnyTokenRotatorError,
  blocksUntilClientChanges,
  CODES_BLOCKING_UNTIL_CLIENT_CHANGES,
  type ErrorCode,
  errorFromCode,
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
} from './errors';
export { type IssueRecordInput, issueTokenRecord, toTokenRecord } from './issue';
export {
  type AssertionKey,
  assertionPublicKey,
  DEFAULT_LIFETIME_SECONDS,
  generateSigningKey,
  ISSUER_KINDS,
  type IssueContext,
  type IssuedToken,
  type IssuerConfig,
  type IssuerConfigInput,
  type IssuerKindName,
  type KeySigner,
  obtainToken,
  parseIssuerConfig,
  publicKeyPemFromPrivate,
} from './issuers';
export { classifyKmsError, KMS_RS256, kmsKeySigner } from './kms-signer';
export {
  assertWriteBudget,
  computeRefreshAfter,
  MIN_WRITE_INTERVAL_SECONDS,
  nextAttemptAt,
  POLICY_DEFAULTS,
  type RefreshPolicy,
  type RefreshPolicyInput,
  resolvePolicy,
  shortestWriteIntervalSeconds,
} from './policy';
export { excerpt, redact } from './redact';
export {
  type ClientDocument,
  type CredentialListing,
  createCredentialSecrets,
  DEFAULT_PREFIX,
  deleteCredentialSecrets,
  describeCredential,
  listCredentials,
  putToken,
  readClientDocument,
  readToken,
  recordFailure,
  type SecretStore,
  secretNames,
  TAG_KEYS,
  updateClientDocument,
} from './store';
export {
  parseTokenRecord,
  secondsToExpiry,
  serializeTokenRecord,
  TOKEN_RECORD_VERSION,
  type TokenRecord,
  tokenRecordSchema,
} from './token';
export { decodeTokenVersion, encodeTokenVersion, type TokenVersion } from './token-version';
export { CODE_VERSION } from './version';
