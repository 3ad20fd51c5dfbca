/**
 * The issuer layer: turn an issuer configuration into a fresh token, or a classified error.
 * Knows nothing of AWS.
 */

export {
  ASSERTION_LIFETIME_SECONDS,
  type AssertionKey,
  assertionPublicKey,
  CLIENT_ASSERTION_TYPE,
  JWT_BEARER_GRANT_TYPE,
  signAssertion,
} from './assertion';
export {
  type BaseIssuerConfig,
  type BaseIssuerKind,
  DEFAULT_LIFETIME_SECONDS,
  DEFAULT_TIMEOUT_SECONDS,
  expandPreset,
  type HeaderJwtIssuerConfig,
  ISSUER_KINDS,
  type IssuerConfig,
  type IssuerConfigInput,
  type IssuerConfigIssue,
  type IssuerKindName,
  issuerConfigIssues,
  issuerConfigSchema,
  type JsonIssuerConfig,
  type JwtBearerIssuerConfig,
  type KnownLifetime,
  knownLifetime,
  type OAuth2IssuerConfig,
  PRESET_URLS,
  parseIssuerConfig,
  privateKeyPemOf,
  type SignedJwtIssuerConfig,
  secretValuesOf,
} from './config';
export { type ExpiryInput, isJwt, jwtExpiresAt, MIN_USABLE_SECONDS, resolveExpiry } from './expiry';
export { headerJwtIssuer, obtainHeaderJwtToken } from './header-jwt';
export { type IssuerRequest, type IssuerResponse, parseRetryAfter, sendIssuerRequest } from './http';
export { jsonIssuer, obtainJsonToken } from './json';
export { jwtBearerIssuer, obtainJwtBearerToken } from './jwt-bearer';
export { basicAuthorization, exchangeAtTokenEndpoint, oauth2Issuer, obtainOAuth2Token } from './oauth2';
export { obtainToken } from './obtain';
export type { AssertionAlgorithm } from './private-key';
export { dispatchIssuer, issuerRegistry } from './registry';
export { generateSigningKey, obtainSignedJwtToken, publicKeyPemFromPrivate, signedJwtIssuer } from './signed-jwt';
export { assertStorableToken } from './token-value';
export type { IssueContext, IssuedToken, Issuer, KeySigner } from './types';
